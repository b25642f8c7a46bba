using NestedApic.Checking;
using NestedApic.Tests.Checking.Oracle;

namespace NestedApic.Tests.Checking;

/// <summary>
/// Small cases for the engine's corners that Stryker's run over Checking/ found unguarded (mutants
/// that survived the engine tests and the random-graph oracle but could change a verdict or a
/// trace; bench/README.md, "Mutation testing"). Each expected value is worked out by hand or by the
/// oracle's plain BFS, never copied from the engine's output.
/// </summary>
public class MutationKillTests
{
    static CheckResult<GraphModel.Node, int> Run(ExplicitGraph g, CheckOptions o) =>
        Checker.Run<GraphModel, GraphModel.Node, int>(new GraphModel(g), o);

    /// <summary>The state bound stops a search that has stored more than MaxStates states: a grid
    /// of exactly 100 states completes under a bound of 100 and is bounded under 99.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void State_bound_equal_to_the_reachable_count_still_holds(int threads)
    {
        var at = Checker.Run<GridModel, GridModel.State, byte>(new GridModel(10, 10), new CheckOptions { Threads = threads, MaxStates = 100 });
        Assert.Equal(Verdict.Holds, at.Verdict);
        Assert.Equal(StopReason.Complete, at.StopReason);
        Assert.Equal(100, at.Stats.States);
        var below = Checker.Run<GridModel, GridModel.State, byte>(new GridModel(10, 10), new CheckOptions { Threads = threads, MaxStates = 99 });
        Assert.Equal(Verdict.Bounded, below.Verdict);
        Assert.Equal(StopReason.StateBound, below.StopReason);
    }

    /// <summary>Two states of one slice each keep 300 new successors: both counts escape the
    /// one-byte encoding of the parent links. 0 → {1, 2}; 1 → 300 fresh nodes; 2 → 300 others;
    /// the 300th child of 2 leads to node 603, which breaks invariant 1: the trace is 0, 2, 602,
    /// 603 (by hand: 603 has one parent, 602 one parent, 2). Deadlocks off.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Two_parents_with_escaped_child_counts_in_one_slice(int threads)
    {
        int n = 604;
        var succ = new int[n][];
        succ[0] = [1, 2];
        succ[1] = [.. Enumerable.Range(3, 300)];
        succ[2] = [.. Enumerable.Range(303, 300)];
        for (int v = 3; v < n; v++) succ[v] = [];
        succ[602] = [603];
        var violating = Enumerable.Repeat((sbyte)-1, n).ToArray();
        violating[603] = 1;
        var g = new ExplicitGraph(succ, violating, Enumerable.Repeat(true, n).ToArray());
        var r = Run(g, new CheckOptions { Threads = threads });
        Assert.Equal(Verdict.Violated, r.Verdict);
        Assert.Equal([2, 602, 603], r.Trace.Select(t => t.Step));
        Assert.Equal(1, r.Invariant);
    }

    /// <summary>A level wider than one round (16,384 parents): 0 → 1..L; level-1 node i → node
    /// L + i, which has no successor. Bad nodes are placed by the caller; everything is final unless
    /// told otherwise.</summary>
    const int L = 20_000;

    static ExplicitGraph WideLevel(int[] violating, int[] deadlocked)
    {
        int n = 2 * L + 1;
        var succ = new int[n][];
        succ[0] = [.. Enumerable.Range(1, L)];
        for (int i = 1; i <= L; i++) succ[i] = [L + i];
        for (int v = L + 1; v < n; v++) succ[v] = [];
        var bad = Enumerable.Repeat((sbyte)-1, n).ToArray();
        foreach (int v in violating) bad[v] = 0;
        var final = Enumerable.Repeat(true, n).ToArray();
        foreach (int v in deadlocked) { succ[v] = []; final[v] = false; }
        return new ExplicitGraph(succ, bad, final);
    }

    /// <summary>Level 1 is expanded in two rounds (parents 1..16,384, then the rest). A violation
    /// found in the first round waits, deadlocks being checked, while the second round is searched
    /// for a deadlock one step shallower; there is none, so the first round's violation is
    /// reported: 0 → 100 → L + 100.</summary>
    [Theory]
    [InlineData(1, true)]
    [InlineData(2, true)]
    [InlineData(1, false)]
    [InlineData(2, false)]
    public void A_violation_of_the_first_round_survives_the_level_s_second_round(int threads, bool deadlocks)
    {
        var r = Run(WideLevel([L + 100], []), new CheckOptions { Threads = threads, CheckDeadlock = deadlocks });
        Assert.Equal(Verdict.Violated, r.Verdict);
        Assert.Equal([100, L + 100], r.Trace.Select(t => t.Step));
    }

    /// <summary>The same level with node 18,000 (second round) stuck: the deadlock at depth 1 is
    /// nearer than the first round's violation at depth 2.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void A_deadlock_in_the_second_round_beats_a_violation_of_the_first(int threads)
    {
        var r = Run(WideLevel([L + 100], [18_000]), new CheckOptions { Threads = threads, CheckDeadlock = true });
        Assert.Equal(Verdict.Deadlock, r.Verdict);
        Assert.Equal([18_000], r.Trace.Select(t => t.Step));
    }

    /// <summary>Violations in the second round only, and two of them: the first in BFS order.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void A_violation_of_the_second_round_is_found_with_its_own_parent(int threads)
    {
        var r = Run(WideLevel([L + 19_000, L + 18_000], []), new CheckOptions { Threads = threads, CheckDeadlock = true });
        Assert.Equal(Verdict.Violated, r.Verdict);
        Assert.Equal([18_000, L + 18_000], r.Trace.Select(t => t.Step));
    }

    /// <summary>Nothing bad: all 2L + 1 nodes, 2L transitions (L from the root, one per level-1
    /// node), depth 2.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void A_level_of_two_rounds_is_counted_in_full(int threads)
    {
        var r = Run(WideLevel([], []), new CheckOptions { Threads = threads, CheckDeadlock = true });
        Assert.Equal(Verdict.Holds, r.Verdict);
        Assert.Equal(2 * L + 1, r.Stats.States);
        Assert.Equal(2 * L, r.Stats.Transitions);
        Assert.Equal(2, r.Stats.Depth);
    }
}
