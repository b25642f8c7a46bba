using NestedApic.Checking;
using NestedApic.Checking.Reduction;
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

    /// <summary>A level wider than one round (<see cref="Checker.WideRoundParents"/> parents, R,
    /// on several threads without reduction; one thread's rounds are smaller): 0 → 1..L; level-1
    /// node i → node L + i, which has no successor. Bad nodes are placed by the
    /// caller; everything is final unless told otherwise.</summary>
    internal const int R = Checker.WideRoundParents, L = R + R / 4;

    /// <summary>Two level-1 nodes of the second round.</summary>
    const int Second = R + 1_600, Later = R + 2_600;

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

    /// <summary>Level 1 is expanded in two rounds on 2 threads (parents 1..R, then the rest), in
    /// more on one. A violation
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

    /// <summary>The same level with node Second (second round) stuck: the deadlock at depth 1 is
    /// nearer than the first round's violation at depth 2.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void A_deadlock_in_the_second_round_beats_a_violation_of_the_first(int threads)
    {
        var r = Run(WideLevel([L + 100], [Second]), new CheckOptions { Threads = threads, CheckDeadlock = true });
        Assert.Equal(Verdict.Deadlock, r.Verdict);
        Assert.Equal([Second], r.Trace.Select(t => t.Step));
    }

    /// <summary>Violations in the second round only, and two of them: the first in BFS order.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void A_violation_of_the_second_round_is_found_with_its_own_parent(int threads)
    {
        var r = Run(WideLevel([L + Later, L + Second], []), new CheckOptions { Threads = threads, CheckDeadlock = true });
        Assert.Equal(Verdict.Violated, r.Verdict);
        Assert.Equal([Second, L + Second], r.Trace.Select(t => t.Step));
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

    /// <summary>A component table, not the visited set, fills in the second round of a wide
    /// level: the states are (a, b), each its own component; level 1 is (1..L, 0); a first-round
    /// parent (a ≤ R) steps to (a + L, 0), a second-round one to (a, a), so that round brings
    /// L - R fresh values of b into b's table, which has held the one value 0 until then and
    /// must grow mid-round. 1 + 2L states, 2L transitions; (L, L) breaks the invariant, reached
    /// by steps L and 0.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    public void A_component_table_that_fills_mid_round_resumes_with_the_right_parents(int threads)
    {
        var holds = Checker.Run<FreshB, FreshB.State, int>(new FreshB(false), new CheckOptions { Threads = threads });
        Assert.Equal(Verdict.Holds, holds.Verdict);
        Assert.Equal(2 * L + 1, holds.Stats.States);
        Assert.Equal(2 * L, holds.Stats.Transitions);
        var r = Checker.Run<FreshB, FreshB.State, int>(new FreshB(true), new CheckOptions { Threads = threads });
        Assert.Equal(Verdict.Violated, r.Verdict);
        Assert.Equal([L, 0], r.Trace.Select(t => t.Step));
        Assert.Equal((L, L), (r.Trace[^1].After.A, r.Trace[^1].After.B));
    }

    /// <summary>After a table fills, a round's unfinished slices resume on whichever thread asks
    /// first, so a thread may take an earlier slice than one it expanded in the pass before. Its
    /// cache of recent candidates must not then drop the earlier slice's candidate, the owner, as
    /// a duplicate of the later one's (it did: the 3-vCPU intel-wide count varied between runs).
    /// Window: every state's path, on 3 and 4 threads, ten times each, is its path on one.</summary>
    [Fact]
    public void A_resumed_slice_keeps_the_owners_a_thread_met_later_in_the_pass_before()
    {
        var one = new Checker<Window, Window.State, int>(new Window(), new CheckOptions { Threads = 1 });
        var expected = one.Run();
        Assert.Equal(1 + Window.N + Window.N + Window.K - 1, expected.Stats.States);
        var paths = Enumerable.Range(0, (int)expected.Stats.States).Select(id => one.PathTo(id)).ToArray();
        for (int run = 0; run < 20; run++)
        {
            int threads = 3 + run % 2;
            var many = new Checker<Window, Window.State, int>(new Window(), new CheckOptions { Threads = threads });
            Assert.Equal(expected.Stats.States, many.Run().Stats.States);
            for (int id = 0; id < paths.Length; id++)
                if (!many.PathTo(id).SequenceEqual(paths[id]))
                    Assert.Fail($"run {run}, {threads} threads: state {id} reached by [{string.Join(",", many.PathTo(id))}], on one thread by [{string.Join(",", paths[id])}]");
        }
    }

    /// <summary>The pair table of a half (two groups interned as one node) fills while the
    /// leaves do not: states (a, b, c), three components, so a and b form one half; the initial
    /// state (0, 0, 0) steps to every (a, b, 7) with a, b in 1..100, ten thousand pairs of only a
    /// hundred leaf values each, in one round. The slices stop when the pair table is full and
    /// resume after it grows: 10,001 states, 10,000 transitions, and (100, 100), step 9,999,
    /// breaks the invariant.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void A_full_pair_table_stops_the_round_and_it_resumes(int threads)
    {
        var holds = Checker.Run<Pairs, Pairs.State, int>(new Pairs(false), new CheckOptions { Threads = threads });
        Assert.Equal(Verdict.Holds, holds.Verdict);
        Assert.Equal(10_001, holds.Stats.States);
        Assert.Equal(10_000, holds.Stats.Transitions);
        var r = Checker.Run<Pairs, Pairs.State, int>(new Pairs(true), new CheckOptions { Threads = threads });
        Assert.Equal(Verdict.Violated, r.Verdict);
        Assert.Equal([9_999], r.Trace.Select(t => t.Step));
    }

    /// <summary>Symmetry: the trace is found among canonical states and replayed on the real
    /// processes. Three counters to 2, broken when two reach 2, interchangeable. Worked by hand:
    /// the canonical BFS (sorted counters) reaches (0,0,1), (0,1,1), then (0,1,2) by its step 1
    /// and (0,2,2) by step 1 of (0,1,2); renaming each canonical step back to the process it
    /// stands for gives p0, p1, p1, p0, through (1,0,0), (1,1,0), (1,2,0), (2,2,0). Replaying the
    /// ordinals without following the canonical state would give p0, p0, p1, p1.</summary>
    [Fact]
    public void Symmetry_trace_is_renamed_back_step_by_step()
    {
        var m = new CountersModel(3, 2, footprints: false, pairBad: true);
        var r = Checker.Run<CountersModel, CountersModel.State, byte>(m, new CheckOptions { Threads = 1, Symmetry = true });
        Assert.Equal(Verdict.Violated, r.Verdict);
        Assert.Equal(new byte[] { 0, 1, 1, 0 }, r.Trace.Select(t => t.Step));
        Assert.Equal(new ulong[] { 0x001, 0x011, 0x021, 0x022 }, r.Trace.Select(t => t.After.Counters));
    }

    /// <summary>Partial-order reduction's cycle proviso (AmpleSets C3): agent 0 toggles a bit
    /// forever, agent 1 sets b once, and b = 1 breaks the invariant. Agent 0's step alone is an
    /// ample set everywhere, so without the proviso the search would go (0,0) → (1,0) → back to
    /// (0,0) and stop, "holds". The proviso sees (1,0)'s ample successor already visited and expands
    /// (1,0) in full: toggle, then set b.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Cycle_proviso_expands_a_state_whose_ample_successor_was_visited(int threads)
    {
        var r = Checker.Run<ToggleModel, ToggleModel.State, byte>(new ToggleModel(), new CheckOptions { Threads = threads, Reduce = true, Chain = false });
        Assert.Equal(Verdict.Violated, r.Verdict);
        Assert.Equal(new byte[] { 0, 1 }, r.Trace.Select(t => t.Step));
        var full = Checker.Run<ToggleModel, ToggleModel.State, byte>(new ToggleModel(), new CheckOptions { Threads = threads });
        Assert.Equal(new byte[] { 1 }, full.Trace.Select(t => t.Step));
    }

    /// <summary>The same with single-step chains: the toggle is an ample set of one in every
    /// state, so a chain would toggle forever; it stops after 64 steps (Checker.ChainLimit) and
    /// stores (1,0) (65 toggles from (0,0)). From (1,0) the chain of 1 + 64 toggles ends at
    /// (0,0), stored before: the proviso expands (1,0) in full, and setting b breaks the
    /// invariant at once. Trace: 65 toggles, then b: a real path, 66 steps.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void A_chain_around_a_cycle_stops_and_its_end_meets_the_proviso(int threads)
    {
        var r = Checker.Run<ToggleModel, ToggleModel.State, byte>(new ToggleModel(), new CheckOptions { Threads = threads, Reduce = true });
        Assert.Equal(Verdict.Violated, r.Verdict);
        Assert.Equal([.. Enumerable.Repeat((byte)0, 65), (byte)1], r.Trace.Select(t => t.Step));
        Assert.Equal(2, r.Stats.States); // (0,0) and (1,0); the violating state is not stored
        Assert.Equal(128, r.Stats.ChainedStates); // the two chains of 64
    }

    /// <summary>A state expanded in full after another state of the same slice keeps every step
    /// the ample set left out. The initial state steps to P1 (t = 1) or P2 (t = 2); from there a
    /// toggler cycles t 1 → 3 → 2 → 1, and x and y are set once each; x = 1 breaks the invariant.
    /// The toggle alone is ample. P1's toggle reaches a new state, so P1 is reduced; P2's reaches
    /// P1, already stored, so the proviso expands P2 in full: x, then the violation at depth 2,
    /// trace "P2, x". (The ordinals P1 left behind must not hide P2's x.)</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void A_state_expanded_in_full_after_a_reduced_one_keeps_all_its_steps(int threads)
    {
        var r = Checker.Run<CycleOfThree, CycleOfThree.State, byte>(new CycleOfThree(), new CheckOptions { Threads = threads, Reduce = true, Chain = false });
        Assert.Equal(Verdict.Violated, r.Verdict);
        Assert.Equal(new byte[] { 1, 3 }, r.Trace.Select(t => t.Step));
    }

    /// <summary>Step ordinal 255 and a count of exactly 255 kept children are the first values
    /// ParentLinks escapes (a byte of 255 means "look in the escape table"): the root of each graph
    /// has 300 or 255 successors, and the one reached by ordinal 255, or one among exactly 255
    /// children, has the violating child, so the trace is rebuilt through those links.</summary>
    [Theory]
    [InlineData(300, 256, 1)]
    [InlineData(300, 256, 2)]
    [InlineData(255, 11, 1)]
    [InlineData(255, 11, 2)]
    public void Parent_links_escape_exactly_255(int fanOut, int bad, int threads)
    {
        int last = fanOut + 1;
        var succ = new int[last + 1][];
        succ[0] = [.. Enumerable.Range(1, fanOut)];
        for (int v = 1; v <= last; v++) succ[v] = v == bad ? [last] : [];
        var violating = Enumerable.Repeat((sbyte)-1, last + 1).ToArray();
        violating[last] = 0;
        var g = new Oracle.ExplicitGraph(succ, violating, Enumerable.Repeat(true, last + 1).ToArray());
        var r = Checker.Run<Oracle.GraphModel, Oracle.GraphModel.Node, int>(new Oracle.GraphModel(g), new CheckOptions { Threads = threads });
        Assert.Equal(Verdict.Violated, r.Verdict);
        Assert.Equal([bad, last], r.Trace.Select(t => t.Step));
    }

    /// <summary>More candidates in one round than the visited set holds: 200 parents with 100
    /// new children each, on 2 threads. The set must make room for the round's candidates before
    /// the threads insert them (a shard filled without counting them would probe forever).</summary>
    [Fact]
    public void Visited_set_makes_room_for_a_round_of_more_candidates_than_it_holds()
    {
        const int Parents = 200, Children = 100;
        int n = 1 + Parents + Parents * Children;
        var succ = new int[n][];
        succ[0] = [.. Enumerable.Range(1, Parents)];
        for (int p = 0; p < Parents; p++) succ[1 + p] = [.. Enumerable.Range(1 + Parents + p * Children, Children)];
        for (int v = 1 + Parents; v < n; v++) succ[v] = [];
        var g = new Oracle.ExplicitGraph(succ, Enumerable.Repeat((sbyte)-1, n).ToArray(), Enumerable.Repeat(true, n).ToArray());
        var r = Checker.Run<Oracle.GraphModel, Oracle.GraphModel.Node, int>(new Oracle.GraphModel(g), new CheckOptions { Threads = 2 });
        Assert.Equal(Verdict.Holds, r.Verdict);
        Assert.Equal(n, r.Stats.States);
        Assert.Equal(n - 1, r.Stats.Transitions);
    }
}
