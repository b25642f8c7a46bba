namespace NestedApic.Distributed;

/// <summary>A silo (and the partitions it held) was lost mid-search: the run cannot give a verdict.
/// The message is one line naming what was lost.</summary>
public sealed class ClusterLostException(string message, Exception? inner = null) : Exception(message, inner);
