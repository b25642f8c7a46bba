using NestedApic.Cli;
using NestedApic.Hypervisor;
using NestedApic.Scenarios;
using Xunit.Abstractions;

namespace NestedApic.Tests.Hypervisor;

/// <summary>Partial-order reduction keeps every verdict: each built-in universe (intel-wide is in
/// bench/run-reduction-bench.sh) under each preset gives the same outcome with and without it, a
/// violation found under reduction replays, and the reduction never adds states.</summary>
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

    [Theory]
    [MemberData(nameof(SuiteRuns))]
    public void BuiltinUniverse_SameVerdictWithReduction(string universe, string preset, int vcpus)
    {
        var u = Load(universe);
        var policy = Policies.Find(preset)!;
        var full = UniverseCheck.Run(u, policy, vcpus, new UniverseCheck.Settings(1));
        var reduced = UniverseCheck.Run(u, policy, vcpus, new UniverseCheck.Settings(1) { Reduce = true });
        output.WriteLine($"{universe} {preset} {vcpus}: {full.Outcome} {full.Stats.States} full, {reduced.Outcome} {reduced.Stats.States} reduced ({reduced.Reduction?.ReducedStates} partial expansions)");
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
        }
        Assert.Equal(one.Outcome, three.Outcome);
        Assert.Equal(one.Trace.Select(t => t.Label), three.Trace.Select(t => t.Label));
    }

    /// <summary>The suite runs whose universe expects a violation.</summary>
    public static TheoryData<string, string, int> Violations()
    {
        var data = new TheoryData<string, string, int>();
        foreach (var (universe, preset, vcpus) in SuiteRuns().Select(r => ((string)r[0], (string)r[1], (int)r[2])))
        {
            var u = Load(universe);
            if (u.ExpectationFor(preset, vcpus) is not (null or "holds")) data.Add(universe, preset, vcpus);
        }
        return data;
    }

    /// <summary>A counterexample found under reduction (the CLI's default) is a real trace: `run`
    /// replays it to the same violation.</summary>
    [Theory]
    [MemberData(nameof(Violations))]
    public void ReducedCounterexample_Replays(string universe, string preset, int vcpus)
    {
        var u = Load(universe);
        string dir = Directory.CreateTempSubdirectory().FullName, f = Path.Combine(dir, "trace.scn");
        string file = Path.Combine(AppContext.BaseDirectory, "universes", universe + ".toml");
        var o = new StringWriter();
        int code = CheckCommand.Run([file, "--policy", preset, "--vcpus", $"{vcpus}", "--threads", "1", "--save-trace", f], o, new StringWriter());
        Assert.True(code == 0, o.ToString());
        var ro = new StringWriter();
        Assert.True(RunCommand.Run([f], ro, new StringWriter()) == 0, $"{ro}");
        Assert.Contains($"expect violated {u.ExpectationFor(preset, vcpus)}: ok", ro.ToString());

    }
}
