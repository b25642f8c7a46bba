namespace NestedApic.Distributed;

/// <summary>What a silo needs to rebuild the model the client checks: a kind its catalog knows
/// (e.g. "universe", "peterson") and that kind's own text (a universe's TOML, a policy name...).</summary>
[GenerateSerializer, Immutable]
public sealed record ModelSpec(
    [property: Id(0)] string Kind,
    [property: Id(1)] string Name,
    [property: Id(2)] string Text,
    [property: Id(3)] IReadOnlyDictionary<string, string> Settings);

/// <summary>One search, as every partition sees it.</summary>
[GenerateSerializer, Immutable]
public sealed record JobSpec(
    [property: Id(0)] string JobId,
    [property: Id(1)] ModelSpec Model,
    [property: Id(2)] int Partitions,
    [property: Id(3)] bool Exact,
    [property: Id(4)] bool CheckDeadlock,
    [property: Id(5)] long MemoryBudgetPerSilo,
    [property: Id(6)] int LeaseSeconds);

/// <summary>Where a partition landed.</summary>
[GenerateSerializer, Immutable]
public sealed record PartitionPlace([property: Id(0)] string Silo, [property: Id(1)] int ProcessId);

/// <summary>What a partition did while expanding its share of one level.</summary>
[GenerateSerializer, Immutable]
public sealed record ExpandReport(
    [property: Id(0)] long Transitions,
    [property: Id(1)] long BytesSent,
    [property: Id(2)] long Messages,
    /// <summary>Partition index of the deadlocked frontier state with the least path, or -1.</summary>
    [property: Id(3)] int Deadlock,
    /// <summary>That state's path (step ordinals, see PartitionEngine): the least across partitions is reported.</summary>
    [property: Id(4)] byte[]? DeadlockPath,
    [property: Id(5)] bool OverBudget);

/// <summary>What a partition received in one level, read once every partition has expanded.</summary>
[GenerateSerializer, Immutable]
public sealed record LevelReport(
    [property: Id(0)] long NewStates,
    /// <summary>Partition index of the new state with the least path that broke an invariant, or -1.</summary>
    [property: Id(1)] int Violation,
    [property: Id(2)] int Invariant,
    [property: Id(3)] byte[]? ViolationPath,
    [property: Id(4)] long WorkingSet,
    [property: Id(5)] long Bytes,
    [property: Id(6)] string Silo);

/// <summary>How a state was first reached: its parent's partition and index there, and the
/// ordinal of the step among the parent's enabled steps. Partition -1: the initial state.</summary>
[GenerateSerializer, Immutable]
public readonly record struct ParentRef([property: Id(0)] int Partition, [property: Id(1)] int Index, [property: Id(2)] int Step);
