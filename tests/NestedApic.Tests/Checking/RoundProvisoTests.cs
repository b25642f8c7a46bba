using NestedApic.Checking;
using NestedApic.Checking.Reduction;

namespace NestedApic.Tests.Checking;

/// <summary>
/// The reduction's cycle proviso counts a successor as old when an earlier round stored it, so
/// where the rounds end decides which states are expanded in full: the rounds must be the same on
/// any thread count (<see cref="Checker.RoundParents"/>), or the states would not be.
/// </summary>
public class RoundProvisoTests
{
    /// <summary>Level 1 is N = RoundParents + RoundParents / 4 states, so its first parent (p = 1)
    /// and its last (p = N) fall in different rounds. Both reach Z by their ample step; the last
    /// finds Z stored by an earlier round and is expanded in full, which adds (1, N, 1): 3N states
    /// (3N - 1 were the two parents in one round), on one thread and on two.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void A_successor_stored_by_an_earlier_round_of_the_level_expands_its_parent_in_full(int threads)
    {
        const int N = WideDiamond.N;
        var r = Checker.Run<WideDiamond, WideDiamond.State, int>(new WideDiamond(), new CheckOptions { Threads = threads, Reduce = true, Chain = false });
        Assert.Equal(Verdict.Holds, r.Verdict);
        Assert.Equal(3L * N, r.Stats.States);
        // Every level-1 parent but the last is reduced (its y step left out).
        Assert.Equal(N - 1, r.Stats.ReducedStates);
    }
}

/// <summary>States (s, p, y). From s = 0 agent 0 steps to (1, k, 0) for k in 1..N (steps 0..N-1);
/// where p is in 1..N agent 1 sets p to its target (step N): 3N for p = 1 and p = N (Z), N + p
/// otherwise; where s = 1 agent 2 sets y once (step N + 1). Components: bit 0 s, bit 1 p, bit 2 y;
/// the invariant reads s, so agent 1's step is an ample set of its own.</summary>
readonly struct WideDiamond : IModel<WideDiamond.State, int>, IReducibleModel<WideDiamond.State, int>
{
    public const int N = Checker.RoundParents + Checker.RoundParents / 4;
    public struct State { public byte S, Y; public int P; }
    public State Initial() => default;
    public int MaxSteps => N;
    public IReadOnlyList<string> Invariants => ["s-known"];
    public int Enabled(in State s, Span<int> steps)
    {
        if (s.S == 0)
        {
            for (int k = 0; k < N; k++) steps[k] = k;
            return N;
        }
        int n = 0;
        if (s.P is >= 1 and <= N) steps[n++] = N;
        if (s.Y == 0) steps[n++] = N + 1;
        return n;
    }
    public void Apply(ref State s, in int step)
    {
        if (step < N) { s.S = 1; s.P = step + 1; }
        else if (step == N) s.P = s.P is 1 or N ? 3 * N : N + s.P;
        else s.Y = 1;
    }
    public int Violated(in State s) => s.S > 1 ? 0 : -1;
    public bool IsFinal(in State s) => true;
    public string Label(in int step) => $"step {step}";
    public string Explain(int invariant, in State s) => "s out of range";
    public IReadOnlyList<string> Diff(in State before, in State after) => [];

    public int Agents => 3;
    public int AgentOf(in int step) => step < N ? 0 : step - N + 1;
    static Footprint Of(int agent) => Diamond.Of(agent);
    public Footprint StepFootprint(in State state, in int step) => Of(AgentOf(step));
    public Footprint Future(in State state, int agent) => agent switch
    {
        0 => state.S == 0 ? Of(0) : Footprint.None,
        1 => state.S == 0 || state.P is >= 1 and <= N ? Of(1) : Footprint.None,
        _ => state.Y == 0 ? Of(2) : Footprint.None,
    };
    public ulong Counters => 0;
    public int PropertyScopes => 1;
    public ulong PropertyScope(int scope) => 0b001;
}
