using System.Runtime.CompilerServices;

namespace NestedApic.Checking;

/// <summary>
/// The visited set: the 64-bit keys of the stored states (the tree root of each state, see
/// <see cref="StateStore{TState}"/>), exact, in open-addressing tables of 8-byte slots.
/// The set is 64 shards picked by the hash's top bits, each growing on its own: growth needs the
/// new arrays of one shard at a time, not of the whole set. Two ways in: one thread expanding a
/// round in parent order inserts as it goes (<see cref="AddInOrder"/>: the first parent to reach a
/// key is the smallest); several threads only look keys up while they expand
/// (<see cref="Contains"/>), then insert the round's candidates shard by shard, each shard by one
/// thread in parent order (<see cref="AddOwned"/>, from the slot where the lookup stopped), so
/// again the first to insert is the smallest parent, with no atomic operation: state ids, links
/// and traces are the same on any number of threads (the hash-partitioned insert of distributed
/// checkers such as DiVinE and LTSmin's).
/// A growth can be left pending (<see cref="GrowAsNeeded"/> with <c>later</c>): the threads that
/// next only look keys up rehash the shards (<see cref="Fill"/>) alongside their own work.
/// </summary>
internal sealed class RootSet
{
    public const int ShardBits = 6, Shards = 1 << ShardBits, MaxShardBits = 25;
    const double TargetLoad = 0.8, HardLoad = 0.9;

    sealed class Shard
    {
        public ulong[] Slots;
        public long Reserved;
        public int Block;
        /// <summary>Counts the arrays this shard published (see <see cref="Hint"/>): written after
        /// <see cref="Slots"/>, read before it.</summary>
        public int Version;

        public Shard(int capacity)
        {
            Slots = new ulong[capacity];
            Block = BlockFor(capacity);
        }

        public bool NeedsGrowth => Interlocked.Read(ref Reserved) + Block * 8L > Slots.Length * TargetLoad;
        public long NextCapacity => Slots.Length < 1 << 12 ? Slots.Length * 2L : ((long)(Slots.Length * 1.33) + 63) & ~63L;
    }

    readonly Shard[] _shards = new Shard[Shards];

    public RootSet(int capacity = 4096)
    {
        for (int s = 0; s < Shards; s++) _shards[s] = new Shard(Math.Max(64, capacity / Shards));
    }

    public long Capacity
    {
        get
        {
            long c = 0;
            foreach (var s in _shards) c += s.Slots.Length;
            return c;
        }
    }
    public long Bytes => Capacity * 8L;

    static int BlockFor(long capacity) => (int)Math.Clamp(capacity / 64, 1, 64);

    /// <summary>The key's shard, that shard's array (read once: a growth may publish a new one
    /// while lookups run) with its version (read before it) and the key's first slot in it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static int Locate(ulong key, Shard[] shards, out Shard shard, out ulong[] slots, out int shardIndex, out int version)
    {
        ulong h = InternTable.Mix(key);
        shardIndex = (int)(h >> (64 - ShardBits));
        shard = shards[shardIndex];
        version = Volatile.Read(ref shard.Version);
        slots = Volatile.Read(ref shard.Slots);
        return (int)Math.BigMul(h << ShardBits, (ulong)slots.Length, out _);
    }

    /// <summary>New: inserted now (or, looked up, absent); Old: stored before; Full: nothing was
    /// done, grow first; Taken: (for the caller) met already in this round.</summary>
    public enum Outcome { Old, New, Full, Taken }

    /// <summary>Inserts a key when one thread expands the whole round in parent order: the first
    /// parent to reach a key is the smallest. New when it was absent, Old when stored already;
    /// Full when the thread's room in the shard is used up and the table must grow first.</summary>
    public Outcome AddInOrder(ulong key, Span<IndexBlock> credits)
    {
        int i = Locate(key, _shards, out var shard, out var slots, out int s, out _);
        while (true)
        {
            ulong seen = slots[i];
            if (seen == 0)
            {
                ref var credit = ref credits[s];
                if (credit.Next == credit.End && !Refill(shard, ref credit)) return Outcome.Full;
                slots[i] = key;
                credit.Next++;
                return Outcome.New;
            }
            if (seen == key) return Outcome.Old;
            if (++i == slots.Length) i = 0;
        }
    }

    /// <summary>Whether <paramref name="key"/> is stored, without writing; <paramref name="shard"/>
    /// receives its shard (where <see cref="AddOwned"/> will insert it) and, when absent,
    /// <paramref name="hint"/> the empty slot the lookup ended at (see <see cref="Hint"/>).</summary>
    public bool Contains(ulong key, out int shard, out int hint)
    {
        int i = Locate(key, _shards, out _, out var slots, out shard, out int version);
        while (true)
        {
            ulong seen = slots[i];
            if (seen == key) { hint = 0; return true; }
            if (seen == 0) { hint = Hint(i, version); return false; }
            if (++i == slots.Length) i = 0;
        }
    }

    /// <summary>Where an absent key's lookup ended, for its insert: the empty slot (at most
    /// <see cref="MaxShardBits"/> bits) and the low bits of the shard's array version. The slots
    /// the lookup passed were full, and a slot is never emptied, so while the shard keeps that
    /// array the insert can start at the hint instead of probing again from the key's first slot
    /// (linear probing at a load of 0.6 to 0.8 passes several slots, often on another cache
    /// line). A growth in between changes the version: the insert then probes from the start.
    /// Six bits of version are enough: a shard grows fewer than 64 times in a whole search (from
    /// 64 slots to 2^25 by ×2, then ×1.33, steps).</summary>
    static int Hint(int slot, int version) => slot | (version & HintVersionMask) << MaxShardBits;

    const int HintVersionMask = (1 << (31 - MaxShardBits)) - 1;

    /// <summary>The slot to start an insert at: the hint's when the shard still has the array
    /// the hint came from, else the key's first slot.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    int Start(ulong key, int hint, out ulong[] slots, out int shard)
    {
        int first = Locate(key, _shards, out _, out slots, out shard, out int version);
        return (hint >> MaxShardBits) == (version & HintVersionMask) ? hint & ((1 << MaxShardBits) - 1) : first;
    }

    /// <summary>Asks the CPU to bring the slot an insert with <paramref name="hint"/> starts at
    /// into cache (a hint: never faults).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public unsafe void PrefetchInsert(ulong key, int hint)
    {
        if (!System.Runtime.Intrinsics.X86.Sse.IsSupported) return;
        int i = Start(key, hint, out var slots, out _);
        System.Runtime.Intrinsics.X86.Sse.Prefetch0(Unsafe.AsPointer(ref slots[i]));
    }

    /// <summary>Inserts a key into a shard only the calling thread writes now, with room made
    /// beforehand (<see cref="GrowAsNeeded"/> with the round's count for the shard), starting at
    /// <paramref name="hint"/> from <see cref="Contains"/> when it still holds. True when it was
    /// absent; the caller counts it for <paramref name="shard"/> and reports the counts with
    /// <see cref="Added"/> (shards of several threads share cache lines: an increment per insert
    /// would bounce them between cores).</summary>
    public bool AddOwned(ulong key, int hint, out int shard)
    {
        int i = Start(key, hint, out var slots, out shard);
        while (true)
        {
            ulong seen = slots[i];
            if (seen == 0)
            {
                slots[i] = key;
                return true;
            }
            if (seen == key) return false;
            if (++i == slots.Length) i = 0;
        }
    }

    /// <summary>Asks the CPU to bring the key's first slot into cache (a hint: never faults).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public unsafe void Prefetch(ulong key)
    {
        if (!System.Runtime.Intrinsics.X86.Sse.IsSupported) return;
        int i = Locate(key, _shards, out _, out var slots, out _, out _);
        System.Runtime.Intrinsics.X86.Sse.Prefetch0(Unsafe.AsPointer(ref slots[i]));
    }

    /// <summary>Counts <paramref name="count"/> keys <see cref="AddOwned"/> stored in the shard.</summary>
    public void Added(int shard, long count) => _shards[shard].Reserved += count;

    static bool Refill(Shard shard, ref IndexBlock credit)
    {
        int block = shard.Block;
        long start = Interlocked.Add(ref shard.Reserved, block) - block;
        if (start + block > shard.Slots.Length * HardLoad) return false;
        credit.Next = start; credit.End = start + block;
        return true;
    }

    /// <summary>Grows the shards near their target load, counting <paramref name="incoming"/>
    /// more keys for each shard when given (a round's candidates, before <see cref="AddOwned"/>),
    /// when <paramref name="affordable"/> says all their new arrays fit. Only between rounds or
    /// phases. With <paramref name="later"/> the new arrays are only allocated: the rehash is
    /// <see cref="Fill"/>'s, while threads only look keys up. Returns the bytes of the arrays let
    /// go (once filled), or -1 when the growth was not affordable or a shard is at its largest.</summary>
    public long GrowAsNeeded(Func<long, bool> affordable, ReadOnlySpan<long> incoming = default, bool later = false)
    {
        if (_pending.Length > 0) throw new InvalidOperationException("a growth is still pending");
        // Counted first, allocation-free: this runs before every round, and nothing grows in most.
        Span<long> capacity = stackalloc long[Shards];
        long freed = 0, needed = 0;
        int growing = 0;
        for (int s = 0; s < Shards; s++)
        {
            var shard = _shards[s];
            capacity[s] = 0;
            // Candidates are an upper bound (duplicates among them insert nothing: on the classic
            // models most of them): room for all of them at the hard load, no more.
            long worst = Interlocked.Read(ref shard.Reserved) + (incoming.IsEmpty ? 0 : incoming[s]);
            if (!shard.NeedsGrowth && worst <= shard.Slots.Length * HardLoad) continue;
            long wanted = (long)(worst / HardLoad) + 64;
            capacity[s] = Math.Max(shard.NextCapacity, (wanted + 63) & ~63L);
            if (capacity[s] > 1L << MaxShardBits) return -1;
            needed += capacity[s] * 8L;
            freed += shard.Slots.Length * 8L;
            growing++;
        }
        if (growing == 0) return 0;
        if (!affordable(needed)) return -1;
        // Allocated here, on one thread (an allocation can start a collection, which would have to
        // stop the other threads), but cleared by the rehash: the collector clears reused memory
        // when it hands out an array, milliseconds on one thread while the others wait.
        _pending = new (Shard, ulong[])[growing];
        for (int s = 0, g = 0; s < Shards; s++)
            if (capacity[s] > 0) _pending[g++] = (_shards[s], GC.AllocateUninitializedArray<ulong>((int)capacity[s]));
        if (!later)
        {
            // On this thread: one thread searches, or a round's candidates need room now (rare).
            for (int i = 0; i < _pending.Length; i++) Fill(i);
            _pending = [];
        }
        return freed;
    }

    /// <summary>Shards whose new arrays <see cref="GrowAsNeeded"/> allocated for a later rehash.</summary>
    (Shard Shard, ulong[] Bigger)[] _pending = [];

    public int PendingGrowth => _pending.Length;

    /// <summary>Ends a growth once every pending shard was filled.</summary>
    public void EndGrowth() => _pending = [];

    /// <summary>Rehashes the <paramref name="pending"/>-th pending shard into its new array and
    /// publishes it. Lookups may run meanwhile (no insert may): each reads the shard's array once,
    /// and the old and the new hold the same keys.</summary>
    public void Fill(int pending)
    {
        var (shard, bigger) = _pending[pending];
        int capacity = bigger.Length;
        Array.Clear(bigger); // also faults its pages in by writing: see Growth
        var old = shard.Slots;
        for (int s = 0; s < old.Length; s++)
        {
            ulong k = old[s];
            if (k == 0) continue;
            int i = (int)Math.BigMul(InternTable.Mix(k) << ShardBits, (ulong)capacity, out _);
            while (bigger[i] != 0) if (++i == capacity) i = 0;
            bigger[i] = k;
        }
        shard.Block = BlockFor(capacity);
        Volatile.Write(ref shard.Slots, bigger);
        Volatile.Write(ref shard.Version, shard.Version + 1);
    }
}
