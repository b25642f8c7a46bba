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
}
