namespace NestedApic.Checking.Reduction;

/// <summary>
/// What a step (or a set of steps) may read and write, as sets of abstract component ids (bits
/// 0..63; the model decides what a component is). The reads must cover everything the step's
/// enabledness, its arguments and its effect depend on; the writes everything it may change; the
/// guards, a part of the reads, everything its enabledness and arguments depend on (for an
/// agent's future: everything that decides which of its steps are enabled). Over-approximation is
/// always sound; leaving a component out is a bug.
/// </summary>
public readonly record struct Footprint(ulong Reads, ulong Writes, ulong Guards)
{
    /// <summary>A footprint whose guards are all its reads (the safe default).</summary>
    public Footprint(ulong reads, ulong writes) : this(reads, writes, reads) { }

    /// <summary>Touches everything: dependent with every step and visible to every property.</summary>
    public static readonly Footprint All = new(ulong.MaxValue, ulong.MaxValue);
    public static readonly Footprint None = default;

    public ulong Touches => Reads | Writes;

    /// <summary>Bernstein's conditions: neither writes what the other reads or writes. Two enabled
    /// steps with independent footprints commute and neither enables or disables the other.</summary>
    public bool IndependentOf(Footprint other) =>
        (Writes & other.Touches) == 0 && (other.Writes & Reads) == 0;

    public static Footprint operator |(Footprint a, Footprint b) => new(a.Reads | b.Reads, a.Writes | b.Writes, a.Guards | b.Guards);

    public static Footprint ReadWrite(ulong both) => new(both, both);
}
