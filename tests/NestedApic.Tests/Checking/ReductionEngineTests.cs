using NestedApic.Checking;
using NestedApic.Checking.Reduction;

namespace NestedApic.Tests.Checking;

/// <summary>
/// N processes each counting its own counter from 0 to K: (K+1)^N states in full, and every
/// order of two processes' steps commutes. Invariant "corner" breaks when process 0 and process
/// N-1 have both reached K, a property reading two processes only.
/// </summary>
readonly struct CountersModel(int processes, int k, bool bad = false, bool footprints = true, bool pairBad = false)
    : IModel<CountersModel.State, byte>, IReducibleModel<CountersModel.State, byte>, ISymmetricModel<CountersModel.State, byte>
{
    public struct State { public ulong Counters; }

    int Get(in State s, int p) => (int)(s.Counters >> (4 * p) & 0xF);

    public State Initial() => default;
    public int MaxSteps => processes;
    public IReadOnlyList<string> Invariants => ["corner"];

    public int Enabled(in State s, Span<byte> steps)
    {
        int n = 0;
        for (int p = 0; p < processes; p++)
            if (Get(s, p) < k) steps[n++] = (byte)p;
        return n;
    }

    public void Apply(ref State s, in byte step) => s.Counters += 1UL << (4 * step);
    public int Violated(in State s)
    {
        if (bad && Get(s, 0) == k && Get(s, processes - 1) == k) return 0;
        int top = 0;
        for (int p = 0; p < processes; p++) if (Get(s, p) == k) top++;
        return pairBad && top >= 2 ? 0 : -1;
    }
    public bool IsFinal(in State s) => true;
    public string Label(in byte step) => $"p{step}++";
    public string Explain(int invariant, in State s) => "both at the top";
    public IReadOnlyList<string> Diff(in State before, in State after) => [];

    // Component p is process p's counter; with footprints off every step touches everything.
    public int Agents => processes;
    public int AgentOf(in byte step) => step;
    public Footprint StepFootprint(in State state, in byte step) => footprints ? Footprint.ReadWrite(1UL << step) : Footprint.All;
    public Footprint Future(in State state, int agent) =>
        !footprints ? Footprint.All : Get(state, agent) < k ? Footprint.ReadWrite(1UL << agent) : Footprint.None;
    public ulong Counters => 0;
    public int PropertyScopes => bad ? 1 : 0; // no invariant to see, nothing visible
    public ulong PropertyScope(int scope) => 1UL | 1UL << (processes - 1);

    // The processes are interchangeable (the "corner" invariant is not: use pairBad with symmetry).
    public int SymmetricAgents => processes;
    public void Canonicalize(ref State state, Span<byte> perm)
    {
        Span<int> order = stackalloc int[processes];
        for (int p = 0; p < processes; p++) order[p] = p;
        ulong v = state.Counters;
        order.Sort((a, b) => (v >> (4 * a) & 0xF) != (v >> (4 * b) & 0xF) ? (v >> (4 * a) & 0xF).CompareTo(v >> (4 * b) & 0xF) : a.CompareTo(b));
        var s = state;
        ulong c = 0;
        for (int j = 0; j < processes; j++) { perm[order[j]] = (byte)j; c |= (ulong)Get(s, order[j]) << (4 * j); }
        state.Counters = c;
    }
    public byte Permute(in byte step, ReadOnlySpan<byte> perm) => perm[step];
}

public class ReductionEngineTests
{
    static readonly CheckOptions One = new() { Threads = 1 };

    static CheckResult<CountersModel.State, byte> Run(CountersModel m, CheckOptions o) =>
        Checker.Run<CountersModel, CountersModel.State, byte>(m, o);

    [Fact]
    public void IndependentProcesses_ReducedToOneInterleaving()
    {
        var full = Run(new CountersModel(4, 3), One);
        var reduced = Run(new CountersModel(4, 3), One with { Reduce = true, Chain = false });
        Assert.Equal(256, full.Stats.States);
        Assert.Equal(Verdict.Holds, reduced.Verdict);
        // one process at a time: 1 + 4·3 states
        Assert.Equal(13, reduced.Stats.States);
        Assert.Equal("partial-order (ample sets)", reduced.Stats.Reduction);
        Assert.Null(full.Stats.Reduction);
        // With chains every one of those steps is an ample set of one: a single chain from the
        // initial state to the last, 11 states passed.
        var chained = Run(new CountersModel(4, 3), One with { Reduce = true });
        Assert.Equal(Verdict.Holds, chained.Verdict);
        Assert.Equal(2, chained.Stats.States);
        Assert.Equal(11, chained.Stats.ChainedStates);
        Assert.Equal(12, chained.Stats.Depth); // in steps, not levels (one level)
        Assert.Equal("partial-order (ample sets, single-step chains)", chained.Stats.Reduction);
    }

    [Fact]
    public void VisibleProcesses_ViolationStillFound()
    {
        var full = Run(new CountersModel(3, 2, bad: true), One);
        var reduced = Run(new CountersModel(3, 2, bad: true), One with { Reduce = true });
        Assert.Equal(Verdict.Violated, full.Verdict);
        Assert.Equal(Verdict.Violated, reduced.Verdict);
        Assert.Equal(4, full.Trace.Count);
        // the reduced trace is a real path to the same kind of state
        var s = default(CountersModel.State);
        foreach (var t in reduced.Trace) s.Counters += 1UL << (4 * t.Step);
        Assert.Equal(reduced.Trace[^1].After.Counters, s.Counters);
        Assert.True(reduced.Stats.States < full.Stats.States);
    }

    [Fact]
    public void NoFootprints_FullSearch()
    {
        var a = Run(new CountersModel(3, 2, footprints: false), One with { Reduce = true, Chain = false });
        Assert.Equal(27, a.Stats.States);
        Assert.Equal(0, a.Stats.ReducedStates);
        // Chains still pass the states with one step (a counter at its top leaves one process
        // moving): those with two counters at 2 and the third below, 6 of them.
        var c = Run(new CountersModel(3, 2, footprints: false), One with { Reduce = true });
        Assert.Equal(0, c.Stats.ReducedStates);
        Assert.Equal(21, c.Stats.States);
    }

    [Fact]
    public void ModelWithoutTheInterface_ExploredInFull()
    {
        var r = Checker.Run<GridModel, GridModel.State, byte>(new GridModel(5, 5), One with { Reduce = true });
        Assert.Equal(25, r.Stats.States);
        Assert.Null(r.Stats.Reduction);
    }

    [Fact]
    public void Symmetry_OneStatePerMultiset_TraceIsARealPath()
    {
        var m = new CountersModel(3, 2, footprints: false, pairBad: true);
        var full = Run(m, One);
        var sym = Run(m, One with { Symmetry = true });
        Assert.Equal(Verdict.Violated, full.Verdict);
        Assert.Equal(Verdict.Violated, sym.Verdict);
        Assert.Equal(full.Trace.Count, sym.Trace.Count); // depths are kept: still a shortest trace
        // replayed on the real processes: the labels' steps rebuild the final state
        var s = default(CountersModel.State);
        foreach (var t in sym.Trace) { m.Apply(ref s, t.Step); Assert.Equal(s.Counters, t.After.Counters); }
        Assert.Equal(0, m.Violated(s));
        var holds = Run(new CountersModel(3, 2, footprints: false), One with { Symmetry = true });
        Assert.Equal(10, holds.Stats.States); // multisets of 3 counters in 0..2: C(5, 3)
        Assert.Equal("symmetry (interchangeable agents)", holds.Stats.Reduction);
    }

    [Fact]
    public void ReducedSearch_SameStatesOnManyThreads()
    {
        var one = Run(new CountersModel(5, 3), One with { Reduce = true });
        var many = Run(new CountersModel(5, 3), new CheckOptions { Threads = 4, Reduce = true });
        Assert.Equal(one.Stats.States, many.Stats.States);
    }
}

/// <summary>
/// Two processes. Process 1 counts c1 to K. Process 0 counts c0 to K, then copies c1 once: that
/// last step reads c1 in its effect, but what enables it is process 0's own state only. Invariant
/// "copied-top" breaks when the copy is K. With <paramref name="guards"/> the footprints say so;
/// without, every read is a guard, and process 1's future writes wake process 0's copy.
/// </summary>
readonly struct CopyModel(int k, bool guards, bool reachable = true)
    : IModel<CopyModel.State, byte>, IReducibleModel<CopyModel.State, byte>
{
    public struct State { public byte C0, C1, Copy; public bool Copied; }

    const ulong C0 = 1, C1 = 2, Copy = 4;

    public State Initial() => default;
    public int MaxSteps => 2;
    public IReadOnlyList<string> Invariants => ["copied-top"];

    public int Enabled(in State s, Span<byte> steps)
    {
        int n = 0;
        if (s.C0 < k || !s.Copied) steps[n++] = 0;
        if (s.C1 < k) steps[n++] = 1;
        return n;
    }

    public void Apply(ref State s, in byte step)
    {
        if (step == 1) s.C1++;
        else if (s.C0 < k) s.C0++;
        else { s.Copy = s.C1; s.Copied = true; }
    }

    public int Violated(in State s) => s.Copied && s.Copy == (reachable ? k : k + 1) ? 0 : -1;
    public bool IsFinal(in State s) => true;
    public string Label(in byte step) => $"p{step}";
    public string Explain(int invariant, in State s) => "the copy is at the top";
    public IReadOnlyList<string> Diff(in State before, in State after) => [];

    public int Agents => 2;
    public int AgentOf(in byte step) => step;
    public Footprint StepFootprint(in State s, in byte step) =>
        step == 1 ? Footprint.ReadWrite(C1) : s.C0 < k ? Footprint.ReadWrite(C0) : CopyStep;
    Footprint CopyStep => guards ? new(C0 | C1 | Copy, Copy, C0 | Copy) : new(C0 | C1 | Copy, Copy);
    public Footprint Future(in State s, int agent) => agent == 1
        ? (s.C1 < k ? Footprint.ReadWrite(C1) : Footprint.None)
        : s.C0 < k ? Footprint.ReadWrite(C0) | CopyStep : s.Copied ? Footprint.None : CopyStep;
    public ulong Counters => 0;
    public int PropertyScopes => 1;
    public ulong PropertyScope(int scope) => Copy;
}

public class ReductionGuardTests
{
    static readonly CheckOptions One = new() { Threads = 1 };

    static CheckResult<CopyModel.State, byte> Run(CopyModel m, CheckOptions o) => Checker.Run<CopyModel, CopyModel.State, byte>(m, o);

    /// <summary>A read that is no guard lets process 0 count alone while process 1 may still
    /// write what its copy reads; the verdicts stay those of the full search.</summary>
    [Fact]
    public void ReadsThatAreNoGuards_PruneMore_SameVerdicts()
    {
        foreach (bool reachable in new[] { true, false })
        {
            var full = Run(new CopyModel(4, guards: true, reachable), One);
            var guarded = Run(new CopyModel(4, guards: true, reachable), One with { Reduce = true });
            var unguarded = Run(new CopyModel(4, guards: false, reachable), One with { Reduce = true });
            Assert.Equal(reachable ? Verdict.Violated : Verdict.Holds, full.Verdict);
            Assert.Equal(full.Verdict, guarded.Verdict);
            Assert.Equal(full.Verdict, unguarded.Verdict);
            if (reachable) continue;
            Assert.Equal(5 * 5 + 15, full.Stats.States); // (c0, c1) before the copy, then (copy, c1) with c1 ≥ copy
            Assert.True(guarded.Stats.States < unguarded.Stats.States, $"{guarded.Stats.States} with guards, {unguarded.Stats.States} without");
        }
    }
}
