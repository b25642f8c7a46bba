using CsCheck;
using NestedApic.Hypervisor;
using NestedApic.Scenarios;
using Xunit.Abstractions;

namespace NestedApic.Tests.Hypervisor;

/// <summary>Reduction keeps the verdict on random universes: a built-in universe's host, vmcs12s
/// or vmcb12s and setup, with a random vCPU count, vectors, event budgets and preset of its
/// vendor, checked with and without reduction. Runs whose full search passes the size bound are
/// not compared; at least 500 must be, AMD ones among them (the AMD vCPU symmetry renames what
/// kvm_amd's parts name: SvmSymmetry), some of those pruned.</summary>
[RunsLong(9)]
public class ReductionRandomTests(ITestOutputHelper output)
{
    static readonly Universe[] Bases = Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "universes"), "*.toml")
        .Order().Select(Universe.Load).Where(u => u.Name != "intel-wide").ToArray();

    static readonly byte[] VectorPool = [0x30, 0x50, 0xE0, 0xEC];
    /// <summary>At 20,000 states over 900 cases, the cases over the bound (searched to it and
    /// dropped) took two thirds of the test's time; at 6,000 over 960, 599 are compared, 153 of
    /// them pruned (35 AMD).</summary>
    const long SizeBound = 6_000;

    sealed record Case(Universe Base, int Vcpus, byte[] Vectors, byte[] Budget, string Preset)
    {
        public override string ToString() =>
            $"{Base.Name} vcpus={Vcpus} vectors=[{string.Join(",", Vectors.Select(v => $"0x{v:X2}"))}] preset={Preset} budget=[{string.Join(" ", Enumerable.Range(0, Budget.Length).Where(k => Budget[k] > 0).Select(k => $"{((EventKind)k).Name()}={Budget[k]}"))}]";
    }

    static readonly Gen<Case> Cases =
        from u in Gen.OneOfConst(Bases)
        from vcpus in Gen.Int[1, 3]
        from vectors in Gen.Int[1, 2].SelectMany(n => Gen.Shuffle(VectorPool, n))
        from budget in Gen.Int[0, 2].Array[(int)EventKind.Count]
        from keep in Gen.Bool.Array[(int)EventKind.Count]
        from preset in Gen.OneOfConst(Policies.For(u.Config.Vendor).Select(p => p.Name).ToArray())
        select new Case(u, vcpus, vectors.Order().ToArray(),
            Enumerable.Range(0, (int)EventKind.Count).Select(k => (byte)(((EventKind)k).IsBounded() && keep[k] && ((EventKind)k).AppliesTo(u.Config.Vendor) ? budget[k] : 0)).ToArray(),
            preset);

    const int Count = 960, Parts = 3;

    /// <summary>The counts of the parts that have run in this process.</summary>
    static readonly int[] Totals = new int[7];

    /// <summary>The first of three parts of the 960 cases, each a test class of its own so that
    /// xUnit runs them side by side (one test was the suite's longest); the part that ends last
    /// asserts the counts over all 960, as the single test did.</summary>
    [Fact]
    public void RandomUniverses_SameVerdictWithReduction() => Part(0, output);

    internal static void Part(int part, ITestOutputHelper output)
    {
        int compared = 0, bounded = 0, invalid = 0, reducedSome = 0, amdCompared = 0, amdReduced = 0;
        Cases.SampleFixed(c =>
        {
            var u = c.Base with { Config = c.Base.Config with { Vectors = c.Vectors, Budget = c.Budget } };
            var policy = Policies.Find(c.Preset)!;
            CheckReport full;
            try { full = UniverseCheck.Run(u, policy, c.Vcpus, new UniverseCheck.Settings(1, MaxStates: SizeBound)); }
            catch (InputException) { invalid++; return; } // a setup naming a vCPU the count leaves out
            if (full.Verdict == "bounded") { bounded++; return; }
            var reduced = UniverseCheck.Run(u, policy, c.Vcpus, new UniverseCheck.Settings(1, MaxStates: SizeBound) { Reduce = true });
            // The pruned search meets a violation in another order and may store more states
            // before it (the full one stops mid-level at its first): a bound is no verdict, so
            // such a run is given room before the verdicts are compared.
            if (reduced.Verdict == "bounded")
                reduced = UniverseCheck.Run(u, policy, c.Vcpus, new UniverseCheck.Settings(1, MaxStates: 20 * SizeBound) { Reduce = true });
            Assert.True(full.Outcome == reduced.Outcome, $"{c}: {full.Outcome} without reduction, {reduced.Outcome} with it");
            Assert.True(reduced.Stats.States <= full.Stats.States || full.Verdict == "violated", $"{c}: reduction added states");
            compared++;
            bool pruned = reduced.Reduction!.ReducedStates > 0 || reduced.Stats.States < full.Stats.States;
            if (pruned) reducedSome++;
            if (c.Base.Config.Vendor == CpuVendor.Amd)
            {
                amdCompared++;
                if (pruned) amdReduced++;
            }
        }, seed: "0N0XIzNsQ0O2", first: (long)Count * part / Parts, end: (long)Count * (part + 1) / Parts);
        output.WriteLine($"part {part + 1} of {Parts}: {compared} compared ({amdCompared} AMD), {reducedSome} pruned ({amdReduced} AMD), {bounded} over the size bound, {invalid} invalid");
        int done;
        lock (Totals)
        {
            int[] counts = [compared, bounded, invalid, reducedSome, amdCompared, amdReduced];
            for (int k = 0; k < counts.Length; k++) Totals[k] += counts[k];
            done = ++Totals[6];
            (compared, bounded, invalid, reducedSome, amdCompared, amdReduced) = (Totals[0], Totals[1], Totals[2], Totals[3], Totals[4], Totals[5]);
        }
        if (done < Parts) return; // a filtered run of some parts checks their cases, not the counts
        output.WriteLine($"all {Count} cases: {compared} compared ({amdCompared} AMD), {reducedSome} pruned ({amdReduced} AMD), {bounded} over the size bound, {invalid} invalid");
        Assert.True(compared >= 500, $"only {compared} universes compared ({bounded} over the size bound, {invalid} invalid)");
        // The comparison means something only where the reduction pruned.
        Assert.True(reducedSome >= 50, $"the reduction pruned in only {reducedSome} of {compared} universes");
        Assert.True(amdCompared >= 100 && amdReduced >= 20, $"only {amdCompared} AMD universes compared, {amdReduced} pruned");
    }
}

/// <summary>The second part of <see cref="ReductionRandomTests"/>' cases.</summary>
[RunsLong(9)]
public class ReductionRandomTestsSecondPart(ITestOutputHelper output)
{
    [Fact]
    public void RandomUniverses_SameVerdictWithReduction() => ReductionRandomTests.Part(1, output);
}

/// <summary>The third part of <see cref="ReductionRandomTests"/>' cases.</summary>
[RunsLong(9)]
public class ReductionRandomTestsThirdPart(ITestOutputHelper output)
{
    [Fact]
    public void RandomUniverses_SameVerdictWithReduction() => ReductionRandomTests.Part(2, output);
}
