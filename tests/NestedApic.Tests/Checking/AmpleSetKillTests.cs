using NestedApic.Checking;
using NestedApic.Checking.Reduction;

namespace NestedApic.Tests.Checking;

/// <summary>
/// The closure of an ample set (AmpleSets.Close) must collect what every member writes and
/// touches: a component two members share may not cancel out. Agents A, B1, B2 and a fourth, D.
/// Seeded from A, the closure takes in B1 and B2 (they write y, which A reads); only then does D
/// conflict with the set, through a component both B1 and B2 write (<see cref="Joiners.Mode.Writes"/>:
/// x, which D reads) or both read (<see cref="Joiners.Mode.Touches"/>: z, which D writes). So every
/// seed's closure is all four agents and the initial state is expanded in full: D's step is at
/// depth 1 and the nearest violation is D's own (trace [3]), or D then B1 (trace [3, 1]). Were the
/// shared component cancelled (<c>writes ^=</c> or <c>touches ^=</c>, Stryker survivors of
/// AmpleSets), the set {A, B1, B2} would leave D out at the initial state and the violation would
/// be found one level deeper, behind A's step.
/// </summary>
public class AmpleSetKillTests
{
    [Theory]
    [InlineData(Joiners.Mode.Writes, 1)]
    [InlineData(Joiners.Mode.Writes, 2)]
    [InlineData(Joiners.Mode.Touches, 1)]
    [InlineData(Joiners.Mode.Touches, 2)]
    public void A_component_two_members_share_still_pulls_in_the_agent_it_conflicts_with(Joiners.Mode mode, int threads)
    {
        var r = Checker.Run<Joiners, Joiners.State, byte>(new Joiners(mode), new CheckOptions { Threads = threads, Reduce = true });
        Assert.Equal(Verdict.Violated, r.Verdict);
        byte[] expected = mode == Joiners.Mode.Writes ? [3] : [3, 1];
        Assert.Equal(expected, r.Trace.Select(t => t.Step));
    }
}

/// <summary>See <see cref="AmpleSetKillTests"/>. Steps 0 (A), 1 (B1), 2 (B2), 3 (D), each once.
/// Components: bit 0 the flag the invariant reads, 1 x, 2 y, 3 z, 4-7 each agent's done flag.
/// A reads y (and records it); B1 and B2 set x and y. Writes mode: D records x == 0 in the flag.
/// Touches mode: D sets z; B1 copies z into the flag, B2 declares a read of z (an
/// over-approximation, which a footprint may always be).</summary>
public readonly struct Joiners(Joiners.Mode mode) : IModel<Joiners.State, byte>, IReducibleModel<Joiners.State, byte>
{
    public enum Mode { Writes, Touches }
    public struct State { public byte Flag, X, Y, Z, DoneA, DoneB1, DoneB2, DoneD; }

    const ulong Flag = 1, X = 2, Y = 4, Z = 8, DoneA = 16, DoneB1 = 32, DoneB2 = 64, DoneD = 128;

    public State Initial() => default;
    public int MaxSteps => 4;
    public IReadOnlyList<string> Invariants => ["flag-clear"];

    public int Enabled(in State s, Span<byte> steps)
    {
        int n = 0;
        if (s.DoneA == 0) steps[n++] = 0;
        if (s.DoneB1 == 0) steps[n++] = 1;
        if (s.DoneB2 == 0) steps[n++] = 2;
        if (s.DoneD == 0) steps[n++] = 3;
        return n;
    }

    public void Apply(ref State s, in byte step)
    {
        switch (step)
        {
            case 0: s.DoneA = (byte)(s.Y == 0 ? 1 : 2); break;
            case 1:
                if (mode == Mode.Writes) s.X = 1; else s.Flag = s.Z;
                s.Y = 1; s.DoneB1 = 1;
                break;
            case 2:
                if (mode == Mode.Writes) s.X = 1;
                s.Y = 1; s.DoneB2 = 1;
                break;
            default:
                if (mode == Mode.Writes) s.Flag = (byte)(s.X == 0 ? 1 : 0); else s.Z = 1;
                s.DoneD = 1;
                break;
        }
    }

    public int Violated(in State s) => s.Flag != 0 ? 0 : -1;
    public bool IsFinal(in State s) => true;
    public string Label(in byte step) => $"step {step}";
    public string Explain(int invariant, in State s) => "flag set";
    public IReadOnlyList<string> Diff(in State before, in State after) => [];

    public int Agents => 4;
    public int AgentOf(in byte step) => step;

    Footprint Of(int agent) => (agent, mode) switch
    {
        (0, _) => new Footprint(Y | DoneA, DoneA, DoneA),
        (1, Mode.Writes) => new Footprint(DoneB1, X | Y | DoneB1, DoneB1),
        (2, Mode.Writes) => new Footprint(DoneB2, X | Y | DoneB2, DoneB2),
        (1, Mode.Touches) => new Footprint(Z | DoneB1, Y | DoneB1 | Flag, DoneB1),
        (2, Mode.Touches) => new Footprint(Z | DoneB2, Y | DoneB2, DoneB2),
        (_, Mode.Writes) => new Footprint(X | DoneD, Flag | DoneD, DoneD),
        _ => new Footprint(DoneD, Z | DoneD, DoneD),
    };

    public Footprint StepFootprint(in State state, in byte step) => Of(step);

    public Footprint Future(in State state, int agent) =>
        (agent switch { 0 => state.DoneA, 1 => state.DoneB1, 2 => state.DoneB2, _ => state.DoneD }) == 0 ? Of(agent) : Footprint.None;

    public ulong Counters => 0;
    public int PropertyScopes => 1;
    public ulong PropertyScope(int scope) => Flag;
}
