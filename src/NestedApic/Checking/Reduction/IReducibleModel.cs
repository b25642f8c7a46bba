namespace NestedApic.Checking.Reduction;

/// <summary>
/// What a model declares so the engine may explore fewer interleavings (partial-order reduction,
/// <see cref="AmpleSets"/>). Steps are performed by agents (processes, vCPUs); each declares
/// footprints over component ids. A model that does not implement this is explored in full.
/// </summary>
public interface IReducibleModel<TState, TStep>
    where TState : unmanaged
    where TStep : unmanaged
{
    /// <summary>How many agents there are (at most 64).</summary>
    int Agents { get; }

    /// <summary>The agent performing <paramref name="step"/>.</summary>
    int AgentOf(in TStep step);

    /// <summary>The footprint of <paramref name="step"/>, enabled in <paramref name="state"/>.</summary>
    Footprint StepFootprint(in TState state, in TStep step);

    /// <summary>An over-approximation of the union of the footprints of every step
    /// <paramref name="agent"/> may perform on any path from <paramref name="state"/>, those
    /// enabled now included; its guards cover everything that decides which of the agent's steps
    /// are enabled in any state reachable from <paramref name="state"/>. <see cref="Footprint.All"/>
    /// is always a correct answer.</summary>
    Footprint Future(in TState state, int agent);

    /// <summary>Counters: components every step only increments and every guard only compares with
    /// a bound (a budget). Two steps that share nothing else commute even if both count the same
    /// counter: whenever both orders can run they reach the same state, and another agent's count
    /// can disable a step but never enable one.</summary>
    ulong Counters { get; }

    /// <summary>The property scopes: a state violates an invariant iff it does so in some scope,
    /// and whether it does in scope i depends only on the components of PropertyScope(i) (e.g.
    /// one scope per process for per-process properties; one scope of everything when unsure).</summary>
    int PropertyScopes { get; }
    ulong PropertyScope(int scope);

    /// <summary>Whether the checker's single-step chains pay for this model (Checker.Chain): they
    /// save the states whose reduced expansion is one step, at the cost of asking every successor.
    /// A model whose ample sets are never smaller than its enabled steps (every step visible to a
    /// property) gains only the states with one enabled step and may say no.</summary>
    bool SingleStepChains => true;
}
