using NestedApic.Checking;
using NestedApic.Checking.Reduction;

namespace NestedApic.Tests.Checking;

// The small models of MutationKillTests, each built so that one corner of the engine decides its
// verdict or trace.

/// <summary>States (a, b), each its own component: see
/// MutationKillTests.A_component_table_that_fills_mid_round_resumes_with_the_right_parents.</summary>
readonly struct FreshB(bool bad) : IModel<FreshB.State, int>
{
    const int L = MutationKillTests.L;
    public struct State { public int A, B; }
    public StateLayout Layout => new StateLayout.Builder(8).Cut(0, "a").Cut(4, "b").Build();
    public State Initial() => default;
    public int MaxSteps => L;
    public IReadOnlyList<string> Invariants => ["not-last"];
    public int Enabled(in State s, Span<int> steps)
    {
        if (s.A == 0)
        {
            for (int i = 0; i < L; i++) steps[i] = i + 1;
            return L;
        }
        if (s.B != 0 || s.A > L) return 0;
        steps[0] = 0;
        return 1;
    }
    public void Apply(ref State s, in int step)
    {
        if (s.A == 0) s.A = step;
        else if (s.A <= MutationKillTests.R) s.A += L;
        else s.B = s.A;
    }
    public int Violated(in State s) => bad && s.A == L && s.B == L ? 0 : -1;
    public bool IsFinal(in State s) => true;
    public string Label(in int step) => $"step {step}";
    public string Explain(int invariant, in State s) => "(L, L)";
    public IReadOnlyList<string> Diff(in State before, in State after) => [];
}

/// <summary>States (a, b), each its own component: see
/// MutationKillTests.A_resumed_slice_keeps_the_owners_a_thread_met_later_in_the_pass_before.
/// The initial state steps to (i, 0) for i in 1..N; (i, 0) steps to (-1, i + d) for d in
/// 0..K-1, so each child has K neighbouring parents and its owner is the first: a slice's first
/// parents share children with the previous slice's last. The N + K - 1 fresh values of b fill
/// b's table in that round, several times.</summary>
readonly struct Window : IModel<Window.State, int>
{
    public const int N = 20_000, K = 8;
    public struct State { public int A, B; }
    public StateLayout Layout => new StateLayout.Builder(8).Cut(0, "a").Cut(4, "b").Build();
    public State Initial() => default;
    public int MaxSteps => N;
    public IReadOnlyList<string> Invariants => [];
    public int Enabled(in State s, Span<int> steps)
    {
        if (s.A < 0) return 0;
        int n = s.A == 0 ? N : K;
        for (int i = 0; i < n; i++) steps[i] = i;
        return n;
    }
    public void Apply(ref State s, in int step) => s = s.A == 0 ? new State { A = step + 1 } : new State { A = -1, B = s.A + step };
    public int Violated(in State s) => -1;
    public bool IsFinal(in State s) => true;
    public string Label(in int step) => $"step {step}";
    public string Explain(int invariant, in State s) => "";
    public IReadOnlyList<string> Diff(in State before, in State after) => [];
}

/// <summary>States (a, b, c), three components, a and b one half: see
/// MutationKillTests.A_full_pair_table_stops_the_round_and_it_resumes.</summary>
readonly struct Pairs(bool bad) : IModel<Pairs.State, int>
{
    public struct State { public int A, B, C; }
    public StateLayout Layout => new StateLayout.Builder(12).Cut(0, "a").Cut(4, "b").Cut(8, "c").Build();
    public State Initial() => default;
    public int MaxSteps => 10_000;
    public IReadOnlyList<string> Invariants => ["not-corner"];
    public int Enabled(in State s, Span<int> steps)
    {
        if (s.A != 0) return 0;
        for (int i = 0; i < 10_000; i++) steps[i] = i;
        return 10_000;
    }
    public void Apply(ref State s, in int step)
    {
        s.A = 1 + step / 100;
        s.B = 1 + step % 100;
        s.C = 7;
    }
    public int Violated(in State s) => bad && s.A == 100 && s.B == 100 ? 0 : -1;
    public bool IsFinal(in State s) => true;
    public string Label(in int step) => $"step {step}";
    public string Explain(int invariant, in State s) => "corner";
    public IReadOnlyList<string> Diff(in State before, in State after) => [];
}

/// <summary>State (a, b); step 0 (agent 0) toggles a, step 1 (agent 1) sets b while it is 0.
/// Footprints: a is component 0, b component 1; the invariant reads b.</summary>
readonly struct ToggleModel : IModel<ToggleModel.State, byte>, IReducibleModel<ToggleModel.State, byte>
{
    public struct State { public byte A, B; }
    public State Initial() => default;
    public int MaxSteps => 2;
    public IReadOnlyList<string> Invariants => ["b-clear"];
    public int Enabled(in State s, Span<byte> steps)
    {
        steps[0] = 0;
        if (s.B != 0) return 1;
        steps[1] = 1;
        return 2;
    }
    public void Apply(ref State s, in byte step)
    {
        if (step == 0) s.A ^= 1; else s.B = 1;
    }
    public int Violated(in State s) => s.B != 0 ? 0 : -1;
    public bool IsFinal(in State s) => true;
    public string Label(in byte step) => step == 0 ? "toggle a" : "set b";
    public string Explain(int invariant, in State s) => "b set";
    public IReadOnlyList<string> Diff(in State before, in State after) => [];

    public int Agents => 2;
    public int AgentOf(in byte step) => step;
    public Footprint StepFootprint(in State state, in byte step) => Footprint.ReadWrite(1UL << step);
    public Footprint Future(in State state, int agent) =>
        agent == 0 || state.B == 0 ? Footprint.ReadWrite(1UL << agent) : Footprint.None;
    public ulong Counters => 0;
    public int PropertyScopes => 1;
    public ulong PropertyScope(int scope) => 1UL << 1;
}

/// <summary>Steps: 0 and 1 start with t = 1 or 2 (agent 0), 2 toggles t (agent 1), 3 sets x
/// (agent 2), 4 sets y (agent 3). Components: bit 0 the phase, 1 t, 2 x, 3 y.</summary>
readonly struct CycleOfThree : IModel<CycleOfThree.State, byte>, IReducibleModel<CycleOfThree.State, byte>
{
    public struct State { public byte Started, T, X, Y; }
    public State Initial() => default;
    public int MaxSteps => 3;
    public IReadOnlyList<string> Invariants => ["x-clear"];
    public int Enabled(in State s, Span<byte> steps)
    {
        if (s.Started == 0) { steps[0] = 0; steps[1] = 1; return 2; }
        int n = 0;
        steps[n++] = 2;
        if (s.X == 0) steps[n++] = 3;
        if (s.Y == 0) steps[n++] = 4;
        return n;
    }
    public void Apply(ref State s, in byte step)
    {
        switch (step)
        {
            case 0: case 1: s.Started = 1; s.T = (byte)(step + 1); break;
            case 2: s.T = s.T switch { 1 => 3, 3 => 2, _ => 1 }; break;
            case 3: s.X = 1; break;
            default: s.Y = 1; break;
        }
    }
    public int Violated(in State s) => s.X != 0 ? 0 : -1;
    public bool IsFinal(in State s) => true;
    public string Label(in byte step) => $"step {step}";
    public string Explain(int invariant, in State s) => "x set";
    public IReadOnlyList<string> Diff(in State before, in State after) => [];

    public int Agents => 4;
    public int AgentOf(in byte step) => step <= 1 ? 0 : step - 1;
    static Footprint Of(int agent) => agent switch
    {
        0 => Footprint.ReadWrite(0b11),
        1 => new Footprint(0b11, 0b10),
        2 => new Footprint(0b101, 0b100),
        _ => new Footprint(0b1001, 0b1000),
    };
    public Footprint StepFootprint(in State state, in byte step) => Of(AgentOf(step));
    public Footprint Future(in State state, int agent) => agent switch
    {
        0 => state.Started == 0 ? Of(0) : Footprint.None,
        2 => state.X == 0 ? Of(2) : Footprint.None,
        3 => state.Y == 0 ? Of(3) : Footprint.None,
        _ => Of(agent),
    };
    public ulong Counters => 0;
    public int PropertyScopes => 1;
    public ulong PropertyScope(int scope) => 0b100;
}
