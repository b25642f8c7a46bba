namespace NestedApic.Checking.Reduction;

/// <summary>
/// Ample-set partial-order reduction (Clarke, Grumberg and Peled, Model Checking, ch. 10; the
/// process-based selection SPIN uses, Holzmann and Peled 1994, widened to sets of processes),
/// decided from footprints. In a state, the enabled steps of a set V of agents form the ample set
/// when (v below stands for V taken as one agent):
/// <list type="bullet">
/// <item>C0: v has an enabled step;</item>
/// <item>C1 (persistence, Valmari's D1): no other agent a can ever perform a step that depends on
/// one of v's enabled steps (a's future writes touch nothing they read or write, a's future reads
/// nothing they write; counters excepted, see <see cref="IReducibleModel{TState,TStep}.Counters"/>),
/// nor wake one of v's other steps (a's future writes nothing that decides which of v's steps are
/// enabled: the guards of v's future, <see cref="Footprint.Guards"/>; counters excepted: they only
/// disable). So on any path that avoids v's enabled steps only other agents move (v's disabled
/// steps stay disabled: their guards do not change), and each of v's enabled steps that can still
/// run after them could have run first;</item>
/// <item>D2 (a key step): the guards of one of v's enabled steps hold nothing any other agent may
/// write, counters included, so no path avoiding the ample set disables it;</item>
/// <item>C2 (visibility, per property scope): for every scope v's enabled steps write, no other
/// agent's future writes that scope. Then a violation reached without v's steps is either in a
/// scope v's step cannot change (it survives v's step, appended) or in one no one else changed
/// (it was already in the current state, which the search checks);</item>
/// <item>C3 (the cycle proviso, applied by the checker): the state is expanded in full when one
/// of the ample successors was visited before. In breadth-first order every state at depth ≤ d
/// is visited before level d is expanded, so a reduced state's successors all lie at depth d+1
/// and every cycle of the reduced graph contains a fully expanded state; the proviso is the
/// closed-set condition of Bošnački, Leue and Lluch Lafuente (SPIN 2006, "Partial-order reduction
/// for general state exploring algorithms"), taken conservatively over all visited states.</item>
/// </list>
/// These preserve reachability of invariant violations (with the property, see the visibility
/// argument) and of deadlocks. Each agent with enabled steps seeds a set, grown by every agent
/// that breaks C1 or C2 against it; the set with fewest enabled steps wins, the first on ties, so
/// the search stays deterministic. A model may leave out of Future the steps that can only follow
/// a state violating an invariant (the search stops there).
/// </summary>
public static class AmpleSets
{
    public const int MaxAgents = 64;

    /// <summary>Writes the ordinals of the ample steps into <paramref name="chosen"/> and returns
    /// how many; returns <paramref name="steps"/>.Length (and writes nothing) when the state must
    /// be expanded in full.</summary>
    public static int Select<TModel, TState, TStep>(in TModel model, in TState state, ReadOnlySpan<TStep> steps, Span<int> chosen)
        where TModel : struct, IReducibleModel<TState, TStep>
        where TState : unmanaged
        where TStep : unmanaged
    {
        int n = steps.Length;
        int agents = model.Agents;
        if (n < 2 || agents < 2 || agents > MaxAgents) return n;
        Span<Footprint> enabled = stackalloc Footprint[agents];
        Span<int> count = stackalloc int[agents];
        enabled.Clear();
        count.Clear();
        int active = 0;
        for (int i = 0; i < n; i++)
        {
            int a = model.AgentOf(steps[i]);
            if ((uint)a >= (uint)agents) return n;
            if (count[a]++ == 0) active++;
            enabled[a] |= model.StepFootprint(state, steps[i]);
        }
        if (active < 2) return n;

        Span<Footprint> future = stackalloc Footprint[agents];
        for (int a = 0; a < agents; a++) future[a] = model.Future(state, a);
        Span<ulong> scopes = stackalloc ulong[Math.Min(model.PropertyScopes, MaxAgents)];
        if (scopes.Length < model.PropertyScopes) return n;
        for (int i = 0; i < scopes.Length; i++) scopes[i] = model.PropertyScope(i);

        // Grow a set of agents from each one with enabled steps until no agent outside it can
        // interfere (C1) or see its writes through a property (C2); keep the smallest.
        ulong bestSet = 0;
        int bestCount = n;
        for (int v = 0; v < agents; v++)
        {
            if (count[v] == 0 || count[v] >= bestCount) continue;
            ulong set = Close(1UL << v, enabled, future, scopes, model.Counters);
            int c = 0;
            ulong othersWrite = 0;
            for (int a = 0; a < agents; a++)
                if ((set >> a & 1) != 0) c += count[a];
                else othersWrite |= future[a].Writes;
            if (c < bestCount && HasKeyStep(model, state, steps, set, othersWrite)) { bestCount = c; bestSet = set; }
        }
        if (bestSet == 0) return n;
        int m = 0;
        for (int i = 0; i < n; i++)
            if ((bestSet >> model.AgentOf(steps[i]) & 1) != 0) chosen[m++] = i;
        return m;
    }

    /// <summary>The ordinal of the step <see cref="Select"/> would choose when it chooses an ample
    /// set of one step, else -1: the first agent with one enabled step whose closed set adds only
    /// agents without enabled steps and passes D2. Cheaper than Select (the checker's chains ask
    /// this of every successor): the other agents' step footprints are not computed. An agent
    /// with steps that joins the set rules it out, so the closure may treat its steps as none.</summary>
    public static int SelectOne<TModel, TState, TStep>(in TModel model, in TState state, ReadOnlySpan<TStep> steps)
        where TModel : struct, IReducibleModel<TState, TStep>
        where TState : unmanaged
        where TStep : unmanaged
    {
        int n = steps.Length;
        int agents = model.Agents;
        if (n < 2 || agents < 2 || agents > MaxAgents || model.PropertyScopes > MaxAgents) return -1;
        Span<int> count = stackalloc int[agents];
        Span<int> only = stackalloc int[agents];
        count.Clear();
        int active = 0;
        for (int i = 0; i < n; i++)
        {
            int a = model.AgentOf(steps[i]);
            if ((uint)a >= (uint)agents) return -1;
            if (count[a]++ == 0) { active++; only[a] = i; }
        }
        if (active < 2) return -1;
        Span<Footprint> future = stackalloc Footprint[agents];
        for (int a = 0; a < agents; a++) future[a] = model.Future(state, a);
        Span<ulong> scopes = stackalloc ulong[model.PropertyScopes];
        for (int i = 0; i < scopes.Length; i++) scopes[i] = model.PropertyScope(i);
        Span<Footprint> alone = stackalloc Footprint[agents];
        for (int v = 0; v < agents; v++)
        {
            if (count[v] != 1) continue;
            alone.Clear();
            var own = alone[v] = model.StepFootprint(state, steps[only[v]]);
            ulong set = Close(1UL << v, alone, future, scopes, model.Counters), othersWrite = 0;
            bool more = false;
            for (int a = 0; a < agents; a++)
                if ((set >> a & 1) == 0) othersWrite |= future[a].Writes;
                else more |= a != v && count[a] != 0;
            if (!more && (own.Guards & othersWrite) == 0) return only[v];
        }
        return -1;
    }

    /// <summary>D2: an enabled step of the set whose guards hold nothing the other agents may write.</summary>
    static bool HasKeyStep<TModel, TState, TStep>(in TModel model, in TState state, ReadOnlySpan<TStep> steps, ulong set, ulong othersWrite)
        where TModel : struct, IReducibleModel<TState, TStep>
        where TState : unmanaged
        where TStep : unmanaged
    {
        foreach (ref readonly var step in steps)
            if ((set >> model.AgentOf(step) & 1) != 0 && (model.StepFootprint(state, step).Guards & othersWrite) == 0) return true;
        return false;
    }

    /// <summary>The smallest set of agents holding <paramref name="set"/> that no other agent
    /// depends on: C1 and C2 above for the set taken as one agent.</summary>
    static ulong Close(ulong set, ReadOnlySpan<Footprint> enabled, ReadOnlySpan<Footprint> future, ReadOnlySpan<ulong> scopes, ulong counters)
    {
        while (true)
        {
            ulong writes = 0, touches = 0;
            for (int a = 0; a < future.Length; a++)
                if ((set >> a & 1) != 0) { writes |= enabled[a].Writes; touches |= enabled[a].Touches | future[a].Guards; }
            writes &= ~counters;
            touches &= ~counters;
            ulong grown = set;
            for (int a = 0; a < future.Length; a++)
            {
                if ((set >> a & 1) != 0) continue;
                if ((future[a].Writes & touches) != 0 || (future[a].Reads & writes) != 0) { grown |= 1UL << a; continue; } // C1
                foreach (ulong scope in scopes)
                    if ((scope & writes) != 0 && (scope & future[a].Writes) != 0) { grown |= 1UL << a; break; } // C2
            }
            if (grown == set) return set;
            set = grown;
        }
    }
}

/// <summary>The reduction the checker applies; null-object free: the checker holds none when the
/// model declares no footprints or reduction is off.</summary>
internal abstract class Reducer<TState, TStep> where TState : unmanaged where TStep : unmanaged
{
    public abstract int Select(in TState state, ReadOnlySpan<TStep> steps, Span<int> chosen);
    /// <summary>See <see cref="AmpleSets.SelectOne"/>.</summary>
    public abstract int SelectOne(in TState state, ReadOnlySpan<TStep> steps);
    /// <summary>The model's <see cref="IReducibleModel{TState, TStep}.SingleStepChains"/>.</summary>
    public abstract bool Chains { get; }

    /// <summary>A reducer for <typeparamref name="TModel"/> if it declares footprints, else null.</summary>
    public static Reducer<TState, TStep>? For<TModel>(TModel model) where TModel : struct, IModel<TState, TStep>
    {
        if (!typeof(IReducibleModel<TState, TStep>).IsAssignableFrom(typeof(TModel))) return null;
        var type = typeof(AmpleReducer<,,>).MakeGenericType(typeof(TModel), typeof(TState), typeof(TStep));
        return (Reducer<TState, TStep>)Activator.CreateInstance(type, model)!;
    }
}

internal sealed class AmpleReducer<TModel, TState, TStep>(TModel model) : Reducer<TState, TStep>
    where TModel : struct, IReducibleModel<TState, TStep>
    where TState : unmanaged
    where TStep : unmanaged
{
    readonly TModel _model = model;
    public override int Select(in TState state, ReadOnlySpan<TStep> steps, Span<int> chosen) =>
        AmpleSets.Select<TModel, TState, TStep>(_model, state, steps, chosen);
    public override int SelectOne(in TState state, ReadOnlySpan<TStep> steps) =>
        AmpleSets.SelectOne<TModel, TState, TStep>(_model, state, steps);
    public override bool Chains => _model.SingleStepChains;
}
