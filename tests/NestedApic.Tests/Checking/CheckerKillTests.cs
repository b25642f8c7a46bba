using NestedApic.Checking;
using NestedApic.Checking.Reduction;
using NestedApic.Tests.Checking.Oracle;

namespace NestedApic.Tests.Checking;

/// <summary>
/// Cases for the surviving mutants of Checker.cs, Checker.Expand.cs and Checker.Report.cs that
/// could change a verdict, a trace or a state count (bench/stryker-checker-triage.md). Each
/// expected value is worked out by hand in the summary of its test, never copied from the
/// engine's output.
/// </summary>
public class CheckerKillTests
{
    static CheckResult<GraphModel.Node, int> Run(ExplicitGraph g, CheckOptions o) =>
        Checker.Run<GraphModel, GraphModel.Node, int>(new GraphModel(g), o);

    static ExplicitGraph Graph(int[][] succ, params int[] violating)
    {
        for (int v = 0; v < succ.Length; v++) succ[v] ??= [];
        var bad = Enumerable.Repeat((sbyte)-1, succ.Length).ToArray();
        foreach (int v in violating) bad[v] = 0;
        return new ExplicitGraph(succ, bad, Enumerable.Repeat(true, succ.Length).ToArray());
    }

    /// <summary>Replay checks that every recorded ordinal is still enabled: a model that
    /// enables two steps at the initial state the first time it is asked and one step afterwards
    /// has its violation (node 2, ordinal 1) found by the search, but replay finds one step only.
    /// That is reported as the model's fault, not turned into a trace through another step.</summary>
    [Fact]
    public void Replay_of_a_model_that_changed_its_mind_is_reported()
    {
        var e = Assert.Throws<InvalidOperationException>(() =>
            Checker.Run<Fickle, Fickle.State, int>(new Fickle(new int[1]), new CheckOptions { Threads = 1 }));
        Assert.Contains("replay diverged: step 1 of 1", e.Message);
    }

    /// <summary>Two deadlocks in one level (nodes 2 and 3, neither final nor with a successor;
    /// node 1 final): the first in BFS order is reported, trace [2].</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void The_first_deadlock_of_a_level_is_reported(int threads)
    {
        var g = new ExplicitGraph([[1, 2, 3], [], [], []], [-1, -1, -1, -1], [true, true, false, false]);
        var r = Run(g, new CheckOptions { Threads = threads, CheckDeadlock = true });
        Assert.Equal(Verdict.Deadlock, r.Verdict);
        Assert.Equal([2], r.Trace.Select(t => t.Step));
    }

    /// <summary>Threads ≤ 0 count as one: a 10×10 grid holds with its 100 states.</summary>
    [Fact]
    public void Zero_threads_search_on_one()
    {
        var r = Checker.Run<GridModel, GridModel.State, byte>(new GridModel(10, 10), new CheckOptions { Threads = 0 });
        Assert.Equal(Verdict.Holds, r.Verdict);
        Assert.Equal(100, r.Stats.States);
    }

    /// <summary>Level 1 is nodes 1..128, two slices of 64 parents when the search runs on more
    /// than one thread. Node 1 (first slice) has 5,000 fresh children, far more than the visited
    /// set's 4,096 slots hold, so its slice stops on a full table long before its last children;
    /// node 65 (second slice) has one child, V2 = node 5,130, also node 1's last child. Without
    /// V1, V2 is the only violating state: its parent in BFS order is node 1, trace [1, V2], on
    /// any number of threads, although the second slice stores V2 while the first waits for the
    /// table to grow. With V1 = node 5,129, node 1's second-to-last child, also violating: node 1
    /// owns both V1 and V2 and V1 is its earlier step, trace [1, V1].</summary>
    [Theory]
    [InlineData(1, false)]
    [InlineData(2, false)]
    [InlineData(1, true)]
    [InlineData(2, true)]
    public void A_state_two_slices_reach_across_a_full_table_keeps_its_first_parent(int threads, bool withV1)
    {
        const int Fillers = 5000, V1 = 129 + Fillers, V2 = V1 + 1;
        var succ = new int[V2 + 1][];
        succ[0] = [.. Enumerable.Range(1, 128)];
        succ[1] = [.. Enumerable.Range(129, Fillers), .. withV1 ? new[] { V1 } : [], V2];
        succ[65] = [V2];
        var r = Run(Graph(succ, withV1 ? [V1, V2] : [V2]), new CheckOptions { Threads = threads });
        Assert.Equal(Verdict.Violated, r.Verdict);
        Assert.Equal([1, withV1 ? V1 : V2], r.Trace.Select(t => t.Step));
    }

    /// <summary>Level 1 is nodes 1..2,048; on 2 threads its round is 32 slices of 64 parents. Each
    /// node i has the one fresh child 2,048 + i, except (when <paramref name="skipLastOfSlice"/>)
    /// every 64th node, so that each slice ends with a flush of 15 children. The 2,048 new states
    /// do not fit the visited set sized for the first 2,049, so it fills during the round, slices
    /// stop and resume. Every state is counted: 1 + 2,048 + the children.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Slices_that_fill_their_arrays_or_end_on_a_full_table_keep_every_child(bool skipLastOfSlice)
    {
        const int W = 2048;
        var succ = new int[2 * W + 1][];
        succ[0] = [.. Enumerable.Range(1, W)];
        int children = 0;
        for (int i = 1; i <= W; i++)
            if (!(skipLastOfSlice && i % 64 == 0)) { succ[i] = [W + i]; children++; }
        var r = Run(Graph(succ), new CheckOptions { Threads = 2 });
        Assert.Equal(Verdict.Holds, r.Verdict);
        Assert.Equal(1 + W + children, r.Stats.States);
        Assert.Equal(W + children, r.Stats.Transitions);
    }

    /// <summary>The root's fresh children, one level, for <see cref="Little_room_stops_a_search_bounded_or_lets_it_complete"/>.</summary>
    static ExplicitGraph Star(int n)
    {
        var succ = new int[n + 1][];
        succ[0] = [.. Enumerable.Range(1, n)];
        return Graph(succ);
    }

    /// <summary>Root → <paramref name="parents"/> parents → <paramref name="children"/> fresh
    /// children each: on 2 threads the second round has more candidates than the visited set holds.</summary>
    static ExplicitGraph Tree(int parents, int children)
    {
        int Parents = parents, Children = children;
        var succ = new int[1 + Parents + Parents * Children][];
        succ[0] = [.. Enumerable.Range(1, Parents)];
        for (int p = 0; p < Parents; p++) succ[1 + p] = [.. Enumerable.Range(1 + Parents + p * Children, Children)];
        return Graph(succ);
    }

    /// <summary>The machine's available memory leaves the search <paramref name="room"/> bytes
    /// above the reserve (the budget itself is out of the way). Whatever the room, the search
    /// either completes with every state or stops bounded for want of memory: never "holds" with
    /// states missing because a growth, or an append of the next level, was refused mid-round,
    /// and never hangs on a table that could not grow (the visited set's, before a round's
    /// candidates go in, or a component table's). Small rooms stop it, large ones do not. Shapes: 0, the star of 100,000 on
    /// one thread; 1, 200 parents of 100 children; 2, 128 parents of 1,000 children.</summary>
    [Theory]
    [InlineData(1, 0)]
    [InlineData(2, 1)]
    [InlineData(2, 2)]
    public async Task Little_room_stops_a_search_bounded_or_lets_it_complete(int threads, int shape)
    {
        // Shape 2's second round (128,000 candidates) grows far more than the round's estimate,
        // so growths are refused inside it, some of them the room made for its candidates.
        var g = shape switch { 0 => Star(100_000), 1 => Tree(200, 100), _ => Tree(128, 1000) };
        long reserve = Memory.Reserve();
        bool bounded = false, complete = false;
        // Fine steps where the search stops inside its first rounds, then rooms it completes in
        // (the star's second level asks for twice its first level's growth before it starts).
        long step = shape switch { 0 => 128 << 10, 1 => 16 << 10, _ => 64 << 10 };
        long top = shape switch { 0 => 4L << 20, 1 => 3L << 20, _ => 8L << 20 };
        var rooms = Enumerable.Range(0, (int)(top / step) + 1).Select(i => i * step).Append(shape == 1 ? 8L << 20 : 64L << 20);
        foreach (long room in rooms)
        {
            var o = new CheckOptions { Threads = threads, MemoryBudgetBytes = 1L << 40, AvailableMemory = () => reserve + room };
            var task = Task.Run(() => Run(g, o));
            Assert.True(await Task.WhenAny(task, Task.Delay(TimeSpan.FromSeconds(60))) == task, $"no result in a minute with {room} bytes of room");
            var r = await task;
            if (r.Verdict == Verdict.Bounded)
            {
                Assert.Equal(StopReason.MachineMemory, r.StopReason);
                bounded = true;
            }
            else
            {
                Assert.True(r.Verdict == Verdict.Holds, $"{r.Verdict} with {room} bytes of room");
                Assert.True(r.Stats.States == g.Nodes, $"{r.Stats.States} states of {g.Nodes} with {room} bytes of room");
                Assert.Equal(StopReason.Complete, r.StopReason);
                complete = true;
            }
        }
        Assert.True(bounded && complete, $"bounded {bounded}, complete {complete}");
    }

    /// <summary><see cref="Fan"/> without its shortcut: L (a round and a quarter under reduction) states (a, 0, 0) at depth 1;
    /// from each, two independent steps set b and c. The ample set is the b step alone, its
    /// successor (a, 1, 0) is new, so (a, 0, 0) is reduced; (a, 1, 0) has only the c step. 3L + 1
    /// states (4L + 1 without reduction), L reduced states and L skipped steps; level 1 is
    /// expanded in two rounds, on 2 threads in 32 slices each.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void A_reduced_level_of_two_rounds_keeps_every_ample_successor(int threads)
    {
        const int L = Checker.RoundParents + Checker.RoundParents / 4;
        var r = Checker.Run<Fan, Fan.State, int>(new Fan(L, false), new CheckOptions { Threads = threads, Reduce = true, Chain = false });
        Assert.Equal(Verdict.Holds, r.Verdict);
        Assert.Equal(3L * L + 1, r.Stats.States);
        Assert.Equal(L, r.Stats.ReducedStates);
        Assert.Equal(L, r.Stats.SkippedSteps);
        var full = Checker.Run<Fan, Fan.State, int>(new Fan(L, false), new CheckOptions { Threads = threads });
        Assert.Equal(4L * L + 1, full.Stats.States);
    }

    /// <summary><see cref="Fan"/> with its shortcut: the root also reaches every (a, 1, 0), so
    /// each (a, 0, 0)'s ample successor was stored in an earlier round and the cycle proviso
    /// expands it in full. Level 1 is 2L states (three rounds), and its successors do not
    /// fit the visited set, which fills mid-round and grows, the slices resuming where they stopped
    /// (often right after a proviso decision). Every state (a, b, c) is reached: 4L + 1, and 6L
    /// transitions (2L from the root, 2 from each (a, 0, 0), 1 from each (a, 1, 0) and (a, 0, 1)).</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void A_proviso_decision_interrupted_by_a_full_table_keeps_every_step(int threads)
    {
        const int L = Checker.RoundParents + Checker.RoundParents / 4;
        var r = Checker.Run<Fan, Fan.State, int>(new Fan(L, true), new CheckOptions { Threads = threads, Reduce = true, Chain = false });
        Assert.Equal(Verdict.Holds, r.Verdict);
        Assert.Equal(4L * L + 1, r.Stats.States);
        Assert.Equal(6L * L, r.Stats.Transitions);
        Assert.Equal(0, r.Stats.ReducedStates);
    }

    /// <summary>The proviso looks at the expanded state's own ample successors only. Level 1 is U
    /// then V; U's one step leads back to the initial state (stored in an earlier round, but U is
    /// not reduced, so it means nothing); V's ample step (x) reaches a new state, so V is reduced
    /// although U's successor sits in the same batch. States: init, U, V, Vx, Vxy: 5 (6 in full:
    /// Vy too).</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Another_parent_s_old_successor_does_not_expand_a_state_in_full(int threads)
        => HoldsReducedAndFull<BackAndSide, BackAndSide.State>(new BackAndSide(), threads, states: 5, reduced: 1, full: 6);

    /// <summary>Only an earlier round's state counts for the proviso. Level 1 is V1, W, V2 (p = 1,
    /// 4, 2); V1's and V2's ample step (p := 3) both reach Z = (1, 3, 0); W's only step sets y.
    /// Z is new when V1 reaches it and was stored in this very round when V2 does, so both are
    /// reduced: init, V1, W, V2, Z, Wy, Zy = 7 states (8 if V2 were expanded in full: V2y too;
    /// 9 in full: V1y as well).</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void A_successor_stored_earlier_in_the_same_round_is_not_old(int threads)
        => HoldsReducedAndFull<Diamond, Diamond.State>(new Diamond(), threads, states: 7, reduced: 2, full: 9);

    /// <summary>The reduced search without chains (these tests are about the ample sets and the
    /// proviso; chains would pass the states they look at) holds with <paramref name="states"/>
    /// states, <paramref name="reduced"/> of them expanded in part; the full search stores
    /// <paramref name="full"/>.</summary>
    static void HoldsReducedAndFull<M, S>(M model, int threads, long states, long reduced, long full)
        where M : struct, IModel<S, byte>, IReducibleModel<S, byte> where S : unmanaged
    {
        var r = Checker.Run<M, S, byte>(model, new CheckOptions { Threads = threads, Reduce = true, Chain = false });
        Assert.Equal(Verdict.Holds, r.Verdict);
        Assert.Equal(states, r.Stats.States);
        Assert.Equal(reduced, r.Stats.ReducedStates);
        Assert.Equal(full, Checker.Run<M, S, byte>(model, new CheckOptions { Threads = threads }).Stats.States);
    }

    /// <summary>Both reductions named in the statistics when both are on.</summary>
    [Fact]
    public void Statistics_name_both_reductions()
    {
        var m = new CountersModel(3, 2, footprints: true, pairBad: false);
        var r = Checker.Run<CountersModel, CountersModel.State, byte>(m, new CheckOptions { Threads = 1, Reduce = true, Symmetry = true });
        Assert.Equal("partial-order (ample sets, single-step chains), symmetry (interchangeable agents)", r.Stats.Reduction);
    }
}

/// <summary>See CheckerKillTests.Replay_of_a_model_that_changed_its_mind_is_reported: the initial
/// state enables steps 1 and 2 the first time, only step 1 afterwards; node 2 is bad.</summary>
readonly struct Fickle(int[] calls) : IModel<Fickle.State, int>
{
    public struct State { public int Node; }
    public State Initial() => default;
    public int MaxSteps => 2;
    public IReadOnlyList<string> Invariants => ["not-two"];
    public int Enabled(in State s, Span<int> steps)
    {
        if (s.Node != 0) return 0;
        steps[0] = 1;
        if (calls[0]++ > 0) return 1;
        steps[1] = 2;
        return 2;
    }
    public void Apply(ref State s, in int step) => s.Node = step;
    public int Violated(in State s) => s.Node == 2 ? 0 : -1;
    public bool IsFinal(in State s) => true;
    public string Label(in int step) => $"to {step}";
    public string Explain(int invariant, in State s) => "node 2";
    public IReadOnlyList<string> Diff(in State before, in State after) => [];
}

/// <summary>States (a, b, c). From (0, 0, 0) agent 0 steps to each (a, 0, 0), a in 1..L, and
/// with <c>shortcut</c> also to each (a, 1, 0). Where a ≠ 0, agent 1 sets b and agent 2 sets c,
/// each once. Components: bit 0 a, bit 1 b, bit 2 c; the invariant (never broken) reads a.
/// Steps: 0 sets b, 1 sets c, 2 + 2(a - 1) + b' is agent 0's step to (a, b', 0).</summary>
readonly struct Fan(int l, bool shortcut) : IModel<Fan.State, int>, IReducibleModel<Fan.State, int>
{
    public struct State { public int A; public byte B, C; }
    public State Initial() => default;
    public int MaxSteps => 2 * l;
    public IReadOnlyList<string> Invariants => ["a-bounded"];
    public int Enabled(in State s, Span<int> steps)
    {
        int n = 0;
        if (s.A == 0)
        {
            for (int a = 1; a <= l; a++)
            {
                steps[n++] = 2 + 2 * (a - 1);
                if (shortcut) steps[n++] = 3 + 2 * (a - 1);
            }
            return n;
        }
        if (s.B == 0) steps[n++] = 0;
        if (s.C == 0) steps[n++] = 1;
        return n;
    }
    public void Apply(ref State s, in int step)
    {
        if (step == 0) s.B = 1;
        else if (step == 1) s.C = 1;
        else { s.A = 1 + (step - 2) / 2; s.B = (byte)((step - 2) % 2); }
    }
    public int Violated(in State s) => s.A > l ? 0 : -1;
    public bool IsFinal(in State s) => true;
    public string Label(in int step) => $"step {step}";
    public string Explain(int invariant, in State s) => "a out of range";
    public IReadOnlyList<string> Diff(in State before, in State after) => [];

    public int Agents => 3;
    public int AgentOf(in int step) => step >= 2 ? 0 : step + 1;
    static Footprint Of(int agent) => agent switch
    {
        0 => Footprint.ReadWrite(0b011),
        1 => new Footprint(0b011, 0b010),
        _ => new Footprint(0b101, 0b100),
    };
    public Footprint StepFootprint(in State state, in int step) => Of(AgentOf(step));
    public Footprint Future(in State state, int agent) => agent switch
    {
        0 => state.A == 0 ? Of(0) : Footprint.None,
        1 => state.B == 0 ? Of(1) : Footprint.None,
        _ => state.C == 0 ? Of(2) : Footprint.None,
    };
    public ulong Counters => 0;
    public int PropertyScopes => 1;
    public ulong PropertyScope(int scope) => 0b001;
}

/// <summary>States (p, x, y). From p = 0 agent 0 steps to U (p = 1, step 0) or V (p = 2, step 1);
/// at U agent 0 steps back to p = 0 (step 2); at V agent 1 sets x (step 3) and agent 2 sets y
/// (step 4), each once. Components: bit 0 p, bit 1 x, bit 2 y; the invariant reads p.</summary>
readonly struct BackAndSide : IModel<BackAndSide.State, byte>, IReducibleModel<BackAndSide.State, byte>
{
    public struct State { public byte P, X, Y; }
    public State Initial() => default;
    public int MaxSteps => 2;
    public IReadOnlyList<string> Invariants => ["p-known"];
    public int Enabled(in State s, Span<byte> steps)
    {
        switch (s.P)
        {
            case 0: steps[0] = 0; steps[1] = 1; return 2;
            case 1: steps[0] = 2; return 1;
        }
        int n = 0;
        if (s.X == 0) steps[n++] = 3;
        if (s.Y == 0) steps[n++] = 4;
        return n;
    }
    public void Apply(ref State s, in byte step)
    {
        switch (step)
        {
            case 0: s.P = 1; break;
            case 1: s.P = 2; break;
            case 2: s.P = 0; break;
            case 3: s.X = 1; break;
            default: s.Y = 1; break;
        }
    }
    public int Violated(in State s) => s.P > 2 ? 0 : -1;
    public bool IsFinal(in State s) => true;
    public string Label(in byte step) => $"step {step}";
    public string Explain(int invariant, in State s) => "p out of range";
    public IReadOnlyList<string> Diff(in State before, in State after) => [];

    public int Agents => 3;
    public int AgentOf(in byte step) => step <= 2 ? 0 : step - 2;
    static Footprint Of(int agent) => agent switch
    {
        0 => Footprint.ReadWrite(0b001),
        1 => new Footprint(0b011, 0b010),
        _ => new Footprint(0b101, 0b100),
    };
    public Footprint StepFootprint(in State state, in byte step) => Of(AgentOf(step));
    public Footprint Future(in State state, int agent) => agent switch
    {
        0 => state.P != 2 ? Of(0) : Footprint.None,
        1 => state.X == 0 ? Of(1) : Footprint.None,
        _ => state.Y == 0 ? Of(2) : Footprint.None,
    };
    public ulong Counters => 0;
    public int PropertyScopes => 1;
    public ulong PropertyScope(int scope) => 0b001;
}

/// <summary>States (s, p, y). From s = 0 agent 0 steps to (1, 1, 0), (1, 4, 0) and (1, 2, 0)
/// (steps 0, 1, 2); where p is 1 or 2, agent 1 sets p := 3 (step 3); where s = 1, agent 2 sets y
/// once (step 4). Components: bit 0 s, bit 1 p, bit 2 y; the invariant reads s.</summary>
readonly struct Diamond : IModel<Diamond.State, byte>, IReducibleModel<Diamond.State, byte>
{
    public struct State { public byte S, P, Y; }
    public State Initial() => default;
    public int MaxSteps => 3;
    public IReadOnlyList<string> Invariants => ["s-known"];
    public int Enabled(in State s, Span<byte> steps)
    {
        if (s.S == 0) { steps[0] = 0; steps[1] = 1; steps[2] = 2; return 3; }
        int n = 0;
        if (s.P is 1 or 2) steps[n++] = 3;
        if (s.Y == 0) steps[n++] = 4;
        return n;
    }
    public void Apply(ref State s, in byte step)
    {
        switch (step)
        {
            case 0: s.S = 1; s.P = 1; break;
            case 1: s.S = 1; s.P = 4; break;
            case 2: s.S = 1; s.P = 2; break;
            case 3: s.P = 3; break;
            default: s.Y = 1; break;
        }
    }
    public int Violated(in State s) => s.S > 1 ? 0 : -1;
    public bool IsFinal(in State s) => true;
    public string Label(in byte step) => $"step {step}";
    public string Explain(int invariant, in State s) => "s out of range";
    public IReadOnlyList<string> Diff(in State before, in State after) => [];

    public int Agents => 3;
    public int AgentOf(in byte step) => step <= 2 ? 0 : step - 2;
    /// <summary>Agent 0 reads and writes s and p, agent 1 p, agent 2 reads s and writes y (also
    /// <see cref="WideDiamond"/>'s).</summary>
    internal static Footprint Of(int agent) => agent switch
    {
        0 => Footprint.ReadWrite(0b011),
        1 => Footprint.ReadWrite(0b010),
        _ => new Footprint(0b101, 0b100),
    };
    public Footprint StepFootprint(in State state, in byte step) => Of(AgentOf(step));
    public Footprint Future(in State state, int agent) => agent switch
    {
        0 => state.S == 0 ? Of(0) : Footprint.None,
        1 => state.P is 0 or 1 or 2 ? Of(1) : Footprint.None,
        _ => state.Y == 0 ? Of(2) : Footprint.None,
    };
    public ulong Counters => 0;
    public int PropertyScopes => 1;
    public ulong PropertyScope(int scope) => 0b001;
}
