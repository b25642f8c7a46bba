using System.Runtime.CompilerServices;
using CsCheck;
using NestedApic.Checking;
using NestedApic.Checking.Reduction;

namespace NestedApic.Tests.Checking.Oracle;

/// <summary>
/// How a random system of agents is drawn, for the partial-order reduction's oracle
/// (<see cref="ReductionOracleTests"/>). Each agent is a small automaton over its program counter,
/// its own local flag and a few shared variables: a move leaves one pc for another, may be
/// guarded by one variable's value and by a shared budget, and may write one variable (a constant,
/// or another variable plus one). The footprints are derived from the moves, so they are exact by
/// construction; what the oracle tests is the engine's use of them. Built from <see cref="Seed"/>
/// by <see cref="Build"/>, so a failing case prints as this one line.
/// </summary>
sealed record AgentSpec(
    int Shared, int Domain, int Agents, int Pcs, int MovesPerAgent, double Guarded, double Local,
    int Invariants, bool OneScope, int Budget, bool Progressive, bool CheckDeadlock, ulong Seed)
{
    /// <summary>An upper bound on the reachable states: values of the shared variables, the local
    /// flags, the pcs and the budget.</summary>
    public long Bound => (long)Math.Pow(Domain, Shared) * (1L << Agents) * (long)Math.Pow(Pcs, Agents) * (Budget + 1);

    public AgentSystem Build()
    {
        var rng = new Random(unchecked((int)Seed ^ (int)(Seed >> 32)));
        var moves = new List<Move>();
        for (int a = 0; a < Agents; a++)
            for (int k = 0; k < MovesPerAgent; k++)
            {
                // A variable: the agent's local flag (values 0 and 1) or a shared one.
                (sbyte Var, int Values) Pick() => rng.NextDouble() < Local ? ((sbyte)(AgentSystem.LocalBase + a), 2) : ((sbyte)rng.Next(Shared), Domain);
                sbyte guardVar = -1, writeVar = -1, readVar = -1;
                byte guardVal = 0, value = 0;
                if (rng.NextDouble() < Guarded) { var (g, n) = Pick(); guardVar = g; guardVal = (byte)rng.Next(n); }
                if (rng.Next(5) != 0)
                {
                    var (w, n) = Pick();
                    writeVar = w;
                    if (rng.Next(3) == 0) readVar = Pick().Var;
                    value = (byte)rng.Next(n);
                }
                // A progressive agent's pc only grows (past the last pc it stays), so what it
                // leaves behind is gone for good: reductions cannot hide behind its cycles.
                int from = rng.Next(Pcs), to = Progressive ? Math.Min(Pcs - 1, from + 1 + rng.Next(2)) : rng.Next(Pcs);
                moves.Add(new Move((byte)a, (byte)from, (byte)to, guardVar, guardVal, writeVar, readVar, value,
                    Budget > 0 && rng.Next(2) == 0));
            }
        var invariants = new Invariant[Invariants];
        for (int i = 0; i < Invariants; i++)
        {
            // Often a shared variable seen at one agent's pc: another agent's write is then
            // visible while that agent moves (the visibility condition decides).
            bool local = rng.Next(4) == 0;
            int a = rng.Next(Agents);
            invariants[i] = new Invariant(local ? (byte)(AgentSystem.LocalBase + a) : (byte)rng.Next(Shared),
                (byte)rng.Next(local ? 2 : Domain), rng.Next(2) == 0 ? (sbyte)a : (sbyte)-1, (byte)rng.Next(Pcs));
        }
        var initial = new byte[Shared];
        for (int i = 0; i < Shared; i++) initial[i] = (byte)rng.Next(Domain);
        return new AgentSystem(this, [.. moves], invariants, initial, (byte)rng.Next(Shared), (byte)rng.Next(Domain));
    }
}

/// <summary>A move of one agent: from pc <see cref="From"/> to <see cref="To"/>, enabled when
/// variable <see cref="GuardVar"/> (if any) holds <see cref="GuardVal"/> and, when
/// <see cref="Counted"/>, the budget is not spent (which it then counts); it writes
/// <see cref="WriteVar"/> (if any): <see cref="ReadVar"/> plus one when there is one, else
/// <see cref="Value"/>.</summary>
readonly record struct Move(byte Agent, byte From, byte To, sbyte GuardVar, byte GuardVal, sbyte WriteVar, sbyte ReadVar, byte Value, bool Counted);

/// <summary>Invariant: not (variable <see cref="Var"/> = <see cref="Val"/>, and agent
/// <see cref="Agent"/>, if any, at pc <see cref="Pc"/>).</summary>
readonly record struct Invariant(byte Var, byte Val, sbyte Agent, byte Pc);

/// <summary>A drawn system with its footprints worked out. Variables 0..5 are shared, 8 + a is
/// agent a's local flag; components (footprint bits) are the variables' numbers, 16 + a for agent
/// a's pc, and 24 for the budget.</summary>
sealed class AgentSystem
{
    public const int LocalBase = 8, PcBase = 16, BudgetBit = 24;
    public readonly AgentSpec Spec;
    public readonly Move[] Moves;
    public readonly Invariant[] Invariants;
    public readonly byte[] Initial;
    public readonly byte FinalVar, FinalVal;
    public readonly Footprint[] StepFootprints;
    /// <summary>[agent][pc]: the footprint of every move the agent can make from that pc on.</summary>
    public readonly Footprint[][] Futures;
    public readonly ulong[] Scopes;

    public AgentSystem(AgentSpec spec, Move[] moves, Invariant[] invariants, byte[] initial, byte finalVar, byte finalVal)
    {
        (Spec, Moves, Invariants, Initial, FinalVar, FinalVal) = (spec, moves, invariants, initial, finalVar, finalVal);
        StepFootprints = [.. moves.Select(FootprintOf)];
        Futures = new Footprint[spec.Agents][];
        for (int a = 0; a < spec.Agents; a++)
        {
            Futures[a] = new Footprint[spec.Pcs];
            for (int pc = 0; pc < spec.Pcs; pc++)
            {
                // Every pc the agent's moves can lead to from pc, whatever the guards say.
                var reach = new HashSet<int> { pc };
                for (bool grew = true; grew;)
                {
                    grew = false;
                    foreach (var m in moves)
                        if (m.Agent == a && reach.Contains(m.From)) grew |= reach.Add(m.To);
                }
                var f = Footprint.None;
                for (int i = 0; i < moves.Length; i++)
                    if (moves[i].Agent == a && reach.Contains(moves[i].From)) f |= StepFootprints[i];
                Futures[a][pc] = f;
            }
        }
        var scopes = invariants.Select(i => Bit(i.Var) | (i.Agent >= 0 ? Bit(PcBase + i.Agent) : 0)).ToArray();
        Scopes = spec.OneScope && scopes.Length > 0 ? [scopes.Aggregate((x, y) => x | y)] : scopes;
    }

    static ulong Bit(int component) => 1UL << component;

    static Footprint FootprintOf(Move m)
    {
        // Exact: a move that stays at its pc does not write it (an agent that cannot leave its
        // pc then has a future that writes none of its guards).
        ulong guards = Bit(PcBase + m.Agent), writes = m.From != m.To ? Bit(PcBase + m.Agent) : 0;
        if (m.GuardVar >= 0) guards |= Bit(m.GuardVar);
        if (m.Counted) { guards |= Bit(BudgetBit); writes |= Bit(BudgetBit); }
        ulong reads = guards;
        if (m.WriteVar >= 0) writes |= Bit(m.WriteVar);
        if (m.ReadVar >= 0 && m.WriteVar >= 0) reads |= Bit(m.ReadVar);
        return new Footprint(reads, writes, guards);
    }

    public override string ToString() =>
        $"{Spec}\n  moves: {string.Join("; ", Moves.Select((m, i) => $"{i}={m}"))}\n  invariants: {string.Join("; ", Invariants)}";
}

[InlineArray(16)] struct Bytes16 { byte _b; }

/// <summary>An <see cref="AgentSystem"/> seen by the engine, with the footprints it declares.</summary>
readonly struct AgentModel(AgentSystem sys) : IModel<AgentModel.State, byte>, IReducibleModel<AgentModel.State, byte>
{
    /// <summary>Vars holds the shared variables (0..5) and the local flags (8..15).</summary>
    public struct State { public Bytes16 Vars; public Bytes16 Pcs; public byte Spent; }

    public AgentSystem System => sys;

    public State Initial()
    {
        var s = default(State);
        for (int i = 0; i < sys.Initial.Length; i++) s.Vars[i] = sys.Initial[i];
        return s;
    }

    public int MaxSteps => sys.Moves.Length;

    public bool Enabled(in State s, in Move m) =>
        s.Pcs[m.Agent] == m.From && (m.GuardVar < 0 || s.Vars[m.GuardVar] == m.GuardVal) && (!m.Counted || s.Spent < sys.Spec.Budget);

    public int Enabled(in State s, Span<byte> steps)
    {
        int n = 0;
        for (int i = 0; i < sys.Moves.Length; i++)
            if (Enabled(s, sys.Moves[i])) steps[n++] = (byte)i;
        return n;
    }

    public void Apply(ref State s, in byte step)
    {
        var m = sys.Moves[step];
        if (m.WriteVar >= 0)
        {
            int values = m.WriteVar >= AgentSystem.LocalBase ? 2 : sys.Spec.Domain;
            s.Vars[m.WriteVar] = m.ReadVar >= 0 ? (byte)((s.Vars[m.ReadVar] + 1) % values) : m.Value;
        }
        s.Pcs[m.Agent] = m.To;
        if (m.Counted) s.Spent++;
    }

    public IReadOnlyList<string> Invariants => [.. sys.Invariants.Select((_, i) => $"inv{i}")];

    public int Violated(in State s)
    {
        for (int i = 0; i < sys.Invariants.Length; i++)
        {
            var inv = sys.Invariants[i];
            if (s.Vars[inv.Var] == inv.Val && (inv.Agent < 0 || s.Pcs[inv.Agent] == inv.Pc)) return i;
        }
        return -1;
    }

    public bool IsFinal(in State s) => s.Vars[sys.FinalVar] == sys.FinalVal;
    public string Label(in byte step) => $"move {step}";
    public string Explain(int invariant, in State s) => $"inv{invariant}";
    public IReadOnlyList<string> Diff(in State before, in State after) => [];

    public int Agents => sys.Spec.Agents;
    public int AgentOf(in byte step) => sys.Moves[step].Agent;
    public Footprint StepFootprint(in State state, in byte step) => sys.StepFootprints[step];
    public Footprint Future(in State state, int agent) => sys.Futures[agent][state.Pcs[agent]];
    public ulong Counters => sys.Spec.Budget > 0 ? 1UL << AgentSystem.BudgetBit : 0;
    public int PropertyScopes => sys.Scopes.Length;
    public ulong PropertyScope(int scope) => sys.Scopes[scope];
}

static class RandomAgents
{
    /// <summary>2 to 4 agents of 2 to 5 moves over 2 or 3 pcs, mostly on their own flags, 1 to 4 shared variables of 2 or 3
    /// values, 0 to 2 invariants (a system without one is checked for deadlocks or holds), a
    /// budget of 1 or 2 in half of them (one agent's count can disable another's steps); at most 40,000 states by <see cref="AgentSpec.Bound"/>.</summary>
    public static readonly Gen<AgentSpec> Systems =
        (from shared in Gen.Int[1, 4]
         from domain in Gen.Int[2, 3]
         from agents in Gen.Int[2, 4]
         from pcs in Gen.Int[2, 3]
         from moves in Gen.Int[2, 5]
         from guarded in Gen.Double[0, 1]
         from local in Gen.Double[0.4, 1]
         from invariants in Gen.Int[0, 2]
         from oneScope in Gen.Bool
         from budget in Gen.Frequency((1, Gen.Const(0)), (1, Gen.Int[1, 2]))
         from progressive in Gen.Bool
         from deadlock in Gen.Frequency((1, Gen.Const(true)), (2, Gen.Const(false)))
         from seed in Gen.ULong
         select new AgentSpec(shared, domain, agents, pcs, moves, guarded, local, invariants, oneScope, budget, progressive, deadlock, seed))
        .Where(s => s.Bound <= 40_000);
}
