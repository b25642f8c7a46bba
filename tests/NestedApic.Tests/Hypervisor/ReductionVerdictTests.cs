using NestedApic.Hypervisor;
using NestedApic.Scenarios;
using Xunit.Abstractions;

namespace NestedApic.Tests.Hypervisor;

/// <summary>Partial-order reduction keeps every verdict: each built-in universe (intel-wide is in
/// bench/run-reduction-bench.sh) under each preset gives the verdict its file expects, and the
/// same with and without reduction, and the reduction never adds states (a violation found under
/// reduction replays: SaveTraceRoundTripTests).</summary>
[RunsLong(8)]
public class ReductionVerdictTests(ITestOutputHelper output)
{
    static Universe Load(string name) => Universe.Load(Path.Combine(AppContext.BaseDirectory, "universes", name + ".toml"));

    public static TheoryData<string, string, int> SuiteRuns()
    {
        var data = new TheoryData<string, string, int>();
        foreach (var f in Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "universes"), "*.toml").Order())
        {
            var u = Universe.Load(f);
            if (u.Name == "intel-wide") continue;
            foreach (var p in Policies.For(u.Config.Vendor))
                foreach (int n in u.SuiteVcpus)
                    data.Add(u.Name, p.Name, n);
        }
        return data;
    }

    /// <summary>One search of each kind per run: the expectation is asserted here, not searched
    /// again by UniverseVerdictTests (which keeps intel-wide's violations).</summary>
    [Theory]
    [MemberData(nameof(SuiteRuns))]
    public void BuiltinUniverse_MeetsItsExpectation_AndTheSameWithReduction(string universe, string preset, int vcpus)
    {
        var u = Load(universe);
        var policy = Policies.Find(preset)!;
        var full = UniverseCheck.Run(u, policy, vcpus, new UniverseCheck.Settings(1));
        var reduced = UniverseCheck.Run(u, policy, vcpus, new UniverseCheck.Settings(1) { Reduce = true });
        output.WriteLine($"{universe} {preset} {vcpus}: {full.Outcome} {full.Stats.States} full, {reduced.Outcome} {reduced.Stats.States} reduced ({reduced.Reduction?.ReducedStates} partial expansions)");
        Assert.NotNull(full.Expected);
        Assert.Equal(full.Expected, full.Outcome);
        Assert.Equal(full.Outcome, reduced.Outcome);
        Assert.NotNull(reduced.Reduction);
        if (full.Verdict != "violated") Assert.True(reduced.Stats.States <= full.Stats.States);
        if (full.Verdict == "violated")
        {
            // searched again in full up to the depth found: the full search's shortest trace
            Assert.Equal(full.Trace.Select(t => t.Label), reduced.Trace.Select(t => t.Label));
            Assert.True(reduced.TraceKnownShortest);
        }
    }

    /// <summary>Single-step chains run with Intel's footprints and not with AMD's, whose ample
    /// sets are never smaller than the enabled steps (SvmModel.SingleStepChains).</summary>
    [Fact]
    public void Chains_RunOnIntel_NotOnAmd()
    {
        var intel = UniverseCheck.Run(Load("seed"), Policies.Find("linux-7.0")!, 2, new UniverseCheck.Settings(1) { Reduce = true });
        Assert.Contains("single-step chains", intel.Reduction!.Kind);
        Assert.True(intel.Reduction.ChainedStates > 0);
        var amd = UniverseCheck.Run(Load("amd-nested-ipi"), Policies.Find("linux-7.0-svm")!, 2, new UniverseCheck.Settings(1) { Reduce = true });
        Assert.DoesNotContain("single-step chains", amd.Reduction!.Kind);
        Assert.Equal(0, amd.Reduction.ChainedStates);
    }

    /// <summary>The engine's states, links and traces do not depend on the thread count, and the
    /// reductions keep it so: the proviso looks only at states stored by earlier rounds.</summary>
    [Theory]
    [InlineData("apic-access-page", "linux-7.0", 2)]
    [InlineData("tpr-threshold-l2", "linux-6.18", 2)]
    [InlineData("seed", "linux-7.0", 2)]
    [InlineData("set-lapic-restore", "linux-6.18", 2)]
    public void ReducedSearch_SameOnAnyThreadCount(string universe, string preset, int vcpus)
    {
        var u = Load(universe);
        var one = UniverseCheck.Run(u, Policies.Find(preset)!, vcpus, new UniverseCheck.Settings(1) { Reduce = true });
        var three = UniverseCheck.Run(u, Policies.Find(preset)!, vcpus, new UniverseCheck.Settings(3) { Reduce = true });
        if (one.Verdict == "holds")
        {
            Assert.Equal(one.Stats.States, three.Stats.States);
            Assert.Equal(one.Reduction!.ReducedStates, three.Reduction!.ReducedStates);
            Assert.Equal(one.Reduction.ChainedStates, three.Reduction.ChainedStates);
        }
        Assert.Equal(one.Outcome, three.Outcome);
        Assert.Equal(one.Trace.Select(t => t.Label), three.Trace.Select(t => t.Label));
    }
}
