namespace NestedApic.Checking;

/// <summary>A table whose growth several threads share: <see cref="BeginGrowth"/> (one thread)
/// allocates the new slots and says in how many parts the rest goes; every part is cleared
/// (<see cref="ClearPart"/>), then, once all are, every part of the old slots is rehashed
/// (<see cref="RehashPart"/>), each part once, on any threads; <see cref="EndGrowth"/> (one
/// thread) publishes the new slots. Only between rounds: nothing looks up or inserts meanwhile.
/// With more than one part the rehash claims slots with a compare-and-swap, so the layout depends
/// on the timing; what a lookup finds does not (no slot is ever emptied).</summary>
internal interface IGrowingTable
{
    /// <summary>Near its target load: it should grow before the next round.</summary>
    bool NeedsGrowth { get; }
    int BeginGrowth(int threads);
    void ClearPart(int part);
    void RehashPart(int part);
    void EndGrowth();
}

/// <summary>Growing <see cref="IGrowingTable"/>s on a pool's threads (on a pool of one, in one part each). The new slots are
/// cleared before the rehash, which writes every page first. A rehash reads a slot before it
/// writes it: a page first read maps the shared zero page, and the write that follows must then
/// flush that mapping from every CPU running the process, an interrupt to each (a VM exit in a
/// guest). Writing first takes a fresh page with no flush. Measured on intel-wide, two threads:
/// TLB shootdowns a run (/proc/interrupts) 2,109 before, 527 after.</summary>
internal static class Growth
{
    /// <summary>Slots a part holds at least: a smaller table grows on one thread.</summary>
    const int PartSlots = 1 << 16;

    /// <summary>Parts for a table of <paramref name="slots"/> slots growing on <paramref name="threads"/>
    /// threads: one on one thread (no compare-and-swap), else up to four a thread (a thread that
    /// finishes early takes another).</summary>
    public static int PartsFor(long slots, int threads) => threads <= 1 ? 1 : (int)Math.Clamp(slots / PartSlots, 1, 4 * threads);

    /// <summary>The slots [From, To) of part <paramref name="part"/> of <paramref name="parts"/>.</summary>
    public static (long From, long To) Range(long length, int part, int parts) => (length * part / parts, length * (part + 1) / parts);

    /// <summary>Grows <paramref name="tables"/> together on the pool's threads: the clearing of all
    /// their parts, then the rehash of all.</summary>
    public static void Parallel(IGrowingTable[] tables, WorkerPool pool)
    {
        var first = new int[tables.Length + 1]; // table t's parts are items first[t]..first[t + 1] - 1
        for (int t = 0; t < tables.Length; t++) first[t + 1] = first[t] + tables[t].BeginGrowth(pool.Threads);
        pool.Run(first[^1], i => Part(tables, first, i, rehash: false));
        pool.Run(first[^1], i => Part(tables, first, i, rehash: true));
        foreach (var t in tables) t.EndGrowth();
    }

    static void Part(IGrowingTable[] tables, int[] first, int item, bool rehash)
    {
        int t = 0;
        while (first[t + 1] <= item) t++;
        if (rehash) tables[t].RehashPart(item - first[t]);
        else tables[t].ClearPart(item - first[t]);
    }
}
