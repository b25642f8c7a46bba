namespace NestedApic.Checking.Reduction;

/// <summary>
/// A model whose agents are interchangeable (symmetry reduction, Emerson and Sistla; Ip and Dill):
/// renaming agents by a permutation maps its transition system onto itself and keeps every
/// invariant's verdict. The search then keeps one state per orbit, the canonical one.
/// </summary>
public interface ISymmetricModel<TState, TStep>
    where TState : unmanaged
    where TStep : unmanaged
{
    /// <summary>How many agents a permutation renames (the length of its array).</summary>
    int SymmetricAgents { get; }

    /// <summary>Replaces the state by its orbit's representative, every reference to an agent
    /// renamed with it, and writes where each agent went (<paramref name="perm"/>[i] = the new
    /// index of agent i). The identity where the model cannot vouch for the symmetry.</summary>
    void Canonicalize(ref TState state, Span<byte> perm);

    /// <summary>The step with its agents renamed by <paramref name="perm"/>.</summary>
    TStep Permute(in TStep step, ReadOnlySpan<byte> perm);
}

/// <summary>The symmetry the checker applies, or none (see Reducer).</summary>
internal abstract class Symmetry<TState, TStep> where TState : unmanaged where TStep : unmanaged
{
    public abstract int Agents { get; }
    public abstract void Canonicalize(ref TState state, Span<byte> perm);
    public abstract TStep Permute(in TStep step, ReadOnlySpan<byte> perm);

    public static Symmetry<TState, TStep>? For<TModel>(TModel model) where TModel : struct, IModel<TState, TStep>
    {
        if (!typeof(ISymmetricModel<TState, TStep>).IsAssignableFrom(typeof(TModel))) return null;
        var type = typeof(ModelSymmetry<,,>).MakeGenericType(typeof(TModel), typeof(TState), typeof(TStep));
        return (Symmetry<TState, TStep>)Activator.CreateInstance(type, model)!;
    }
}

internal sealed class ModelSymmetry<TModel, TState, TStep>(TModel model) : Symmetry<TState, TStep>
    where TModel : struct, ISymmetricModel<TState, TStep>
    where TState : unmanaged
    where TStep : unmanaged
{
    readonly TModel _model = model;
    public override int Agents => _model.SymmetricAgents;
    public override void Canonicalize(ref TState state, Span<byte> perm) => _model.Canonicalize(ref state, perm);
    public override TStep Permute(in TStep step, ReadOnlySpan<byte> perm) => _model.Permute(step, perm);
}
