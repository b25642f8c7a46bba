namespace NestedApic.Checking;

/// <summary>
/// A model the engine explores. The state is a small unmanaged struct, copied by value and hashed
/// as bytes; a step is a compact unmanaged value. Implement it as a struct so the engine's generic
/// code is specialised (no interface calls on the hot path).
/// </summary>
public interface IModel<TState, TStep>
    where TState : unmanaged
    where TStep : unmanaged
{
    /// <summary>The state the search starts from.</summary>
    TState Initial();

    /// <summary>An upper bound on the number of steps <see cref="Enabled"/> may write.</summary>
    int MaxSteps { get; }

    /// <summary>Writes the steps enabled in <paramref name="state"/> into <paramref name="steps"/>
    /// and returns how many. The order must be deterministic.</summary>
    int Enabled(in TState state, Span<TStep> steps);

    /// <summary>Applies an enabled step to the state in place.</summary>
    void Apply(ref TState state, in TStep step);

    /// <summary>The names of the invariants, in the order <see cref="Violated"/> reports them.</summary>
    IReadOnlyList<string> Invariants { get; }

    /// <summary>Index into <see cref="Invariants"/> of the first invariant broken in this state,
    /// or -1 when all hold. Called once for every new state: keep it cheap.</summary>
    int Violated(in TState state);

    /// <summary>Whether a state without enabled steps is a legitimate end (not a deadlock).</summary>
    bool IsFinal(in TState state);

    /// <summary>A human-readable label of a step, for traces.</summary>
    string Label(in TStep step);

    /// <summary>Why invariant <paramref name="invariant"/> fails in this state: the fields that
    /// disagree. Called only when reporting.</summary>
    string Explain(int invariant, in TState state);

    /// <summary>How the state splits into components for compressed storage and the wire form
    /// (<see cref="StateLayout"/>). By default the state is cut into equal pieces, which the engine
    /// pairs by how steps change them (Checking/Regroup.cs); a model with a structure (a VM part
    /// and per-vCPU parts) names it here. Called once per search.</summary>
    StateLayout Layout => StateLayout.Of<TState>();

    /// <summary>The fields that differ between two states, as "name: old → new" lines. Called only
    /// when reporting a trace.</summary>
    IReadOnlyList<string> Diff(in TState before, in TState after);
}
