using NestedApic.Checking;

namespace NestedApic.Distributed;

/// <summary>Rebuilds on a silo the model a client checks. A silo host registers one in its services;
/// it knows the kinds of model the program checks (universes, the classic examples...).</summary>
public interface IModelCatalog
{
    /// <summary>The model <paramref name="spec"/> describes; throws ArgumentException when it does not parse.</summary>
    ISearchModel Create(ModelSpec spec);
}

/// <summary>A model with its state and step types hidden, so a grain can hold one.</summary>
public interface ISearchModel
{
    internal IPartitionEngine CreatePartition(JobSpec job, int index);
}

/// <summary>Binds a model struct and its state encoding to the partition engine.</summary>
public sealed class SearchModel<TModel, TState, TStep, TCodec>(TModel model, TCodec codec) : ISearchModel
    where TModel : struct, IModel<TState, TStep>
    where TState : unmanaged
    where TStep : unmanaged
    where TCodec : struct, IStateCodec<TState>
{
    IPartitionEngine ISearchModel.CreatePartition(JobSpec job, int index) =>
        new PartitionEngine<TModel, TState, TStep, TCodec>(model, codec, job, index);
}

/// <summary>Shorthands: states on the wire in the model's own wire form, or as raw bytes.</summary>
public static class SearchModel
{
    /// <summary>States on the wire in the model's wire form (<see cref="IModel{TState, TStep}.Layout"/>).</summary>
    public static ISearchModel For<TModel, TState, TStep>(TModel model)
        where TModel : struct, IModel<TState, TStep> where TState : unmanaged where TStep : unmanaged =>
        new SearchModel<TModel, TState, TStep, LayoutStateCodec<TState>>(model, new(((IModel<TState, TStep>)model).Layout));

    /// <summary>States on the wire as their raw bytes (no layout needed; larger batches).</summary>
    public static ISearchModel Raw<TModel, TState, TStep>(TModel model)
        where TModel : struct, IModel<TState, TStep> where TState : unmanaged where TStep : unmanaged =>
        new SearchModel<TModel, TState, TStep, RawStateCodec<TState>>(model, default);

    /// <summary>The partition that owns a state: from the fingerprint's high half, so the slot a
    /// partition's table picks from the low half stays uniform.</summary>
    public static int Owner(ulong fingerprint, int partitions) => (int)(((fingerprint >> 32) * (ulong)partitions) >> 32);
}
