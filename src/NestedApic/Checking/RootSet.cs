using System.Runtime.CompilerServices;

namespace NestedApic.Checking;

/// <summary>
/// The visited set: the 64-bit keys of the stored states (the tree root of each state, see
/// <see cref="StateStore{TState}"/>), exact, in lock-free open-addressing tables of 8-byte slots.
/// A key inserted in the current round carries the <see cref="Fresh"/> bit until the round ends:
/// only those can still change hands. Threads race to insert, but which parent reached a fresh key
/// first in BFS order (its owner) is settled in the round's small <see cref="OwnerTable"/> with a
/// compare-and-swap minimum, so state ids, parent links and traces are the same on any number of
/// threads as on one. A key without the bit is old, with no further memory access.
/// The set is 64 shards picked by the hash's top bits, each growing on its own: growth needs the
/// new arrays of one shard at a time, not of the whole set.
/// </summary>
internal sealed class RootSet
{
    public const int ShardBits = 6, Shards = 1 << ShardBits, MaxShardBits = 25;
    const double TargetLoad = 0.8, HardLoad = 0.9;

    /// <summary>Keys never use bit 63 (their high half is an index + 1 below 2^31).</summary>
    public const ulong Fresh = 1UL << 63;

    sealed class Shard
    {
        public ulong[] Slots;
        public long Reserved;
        public int Block;

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

    public long Capacity => _shards.Sum(s => (long)s.Slots.Length);
    public long Bytes => Capacity * 8L;

    static int BlockFor(long capacity) => (int)Math.Clamp(capacity / 64, 1, 64);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static (int Shard, int Position) Locate(ulong key, Shard[] shards, out Shard shard)
    {
        ulong h = InternTable.Mix(key);
        int s = (int)(h >> (64 - ShardBits));
        shard = shards[s];
        return (s, (int)Math.BigMul(h << ShardBits, (ulong)shard.Slots.Length, out _));
    }

    /// <summary>Taken: stored in this round already, owned by an earlier or the same parent
    /// (a caller that does not care treats it as Old).</summary>
    public enum Outcome { Old, New, Full, Taken }

    /// <summary>Inserts <paramref name="key"/> (never 0) reached from state <paramref name="parent"/>.
    /// New: the key is now owned by <paramref name="parent"/> (it was absent, or owned by a later
    /// parent of the same round, which loses it); Old: an earlier round stored it; Taken: an earlier
    /// or the same parent of this round owns it; Full: nothing was done, grow first (this set or the owner table).
    /// <paramref name="credits"/> holds one block per shard and then the owner table's.</summary>
    public Outcome Add(ulong key, uint parent, OwnerTable owners, Span<IndexBlock> credits, out int slot, out bool inserted)
    {
        var (s, i) = Locate(key, _shards, out var shard);
        var slots = shard.Slots;
        inserted = false;
        while (true)
        {
            ulong seen = Volatile.Read(ref slots[i]);
            if (seen == 0)
            {
                ref var credit = ref credits[s];
                if (credit.Next == credit.End && !Refill(shard, ref credit)) { slot = -1; return Outcome.Full; }
                ref var owned = ref credits[Shards];
                // The owner table must have room before the key is visible.
                if (owned.Next == owned.End && !owners.Refill(ref owned)) { slot = -1; return Outcome.Full; }
                seen = Interlocked.CompareExchange(ref slots[i], key | Fresh, 0);
                if (seen == 0) { credit.Next++; owned.Next++; inserted = true; seen = key | Fresh; }
            }
            if (seen == key) { slot = (s << MaxShardBits) | i; return Outcome.Old; }
            if (seen == (key | Fresh))
            {
                slot = (s << MaxShardBits) | i;
                return owners.Claim(key, parent) ? Outcome.New : Outcome.Taken;
            }
            if (++i == slots.Length) i = 0;
        }
    }

    /// <summary>Inserts a key when one thread expands the whole round in parent order: the first
    /// parent to reach a key is the smallest, so no owner is recorded and the key is never fresh.
    /// New when it was absent; Full as for <see cref="Add"/>.</summary>
    public Outcome AddInOrder(ulong key, Span<IndexBlock> credits)
    {
        var (s, i) = Locate(key, _shards, out var shard);
        var slots = shard.Slots;
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

    /// <summary>Asks the CPU to bring the key's first slot into cache (a hint: never faults).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public unsafe void Prefetch(ulong key)
    {
        if (!System.Runtime.Intrinsics.X86.Sse.IsSupported) return;
        var (_, i) = Locate(key, _shards, out var shard);
        System.Runtime.Intrinsics.X86.Sse.Prefetch0(Unsafe.AsPointer(ref shard.Slots[i]));
    }

    /// <summary>Prefetches a slot <see cref="Settle"/> is about to write.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public unsafe void PrefetchSlot(int slot)
    {
        if (!System.Runtime.Intrinsics.X86.Sse.IsSupported) return;
        System.Runtime.Intrinsics.X86.Sse.Prefetch0(Unsafe.AsPointer(ref _shards[slot >> MaxShardBits].Slots[slot & ((1 << MaxShardBits) - 1)]));
    }

    /// <summary>Ends a key's first round: it can no longer change hands.</summary>
    public void Settle(int slot)
    {
        ref ulong k = ref _shards[slot >> MaxShardBits].Slots[slot & ((1 << MaxShardBits) - 1)];
        k &= ~Fresh;
    }

    /// <summary>The slot of a stored key (after growth moved it).</summary>
    public int Find(ulong key)
    {
        var (s, i) = Locate(key, _shards, out var shard);
        var slots = shard.Slots;
        while ((slots[i] & ~Fresh) != key)
        {
            if (slots[i] == 0) throw new InvalidOperationException("key not stored");
            if (++i == slots.Length) i = 0;
        }
        return (s << MaxShardBits) | i;
    }

    static bool Refill(Shard shard, ref IndexBlock credit)
    {
        int block = shard.Block;
        long start = Interlocked.Add(ref shard.Reserved, block) - block;
        if (start + block > shard.Slots.Length * HardLoad) return false;
        credit.Next = start; credit.End = start + block;
        return true;
    }

    /// <summary>Grows the shards near their target load, on the pool's threads, when
    /// <paramref name="affordable"/> says all their new arrays fit. Only between rounds. Returns
    /// the bytes of the arrays let go, or -1 when the growth was not affordable or a shard is at
    /// its largest.</summary>
    public long GrowAsNeeded(Func<long, bool> affordable, WorkerPool pool)
    {
        var growing = _shards.Where(s => s.NeedsGrowth).ToArray();
        if (growing.Length == 0) return 0;
        long freed = 0, needed = 0;
        foreach (var shard in growing)
        {
            if (shard.NextCapacity > 1L << MaxShardBits) return -1;
            needed += shard.NextCapacity * 8L;
            freed += shard.Slots.Length * 8L;
        }
        if (!affordable(needed)) return -1;
        pool.Run(growing.Length, i => Grow(growing[i], (int)growing[i].NextCapacity));
        return freed;
    }

    static void Grow(Shard shard, int capacity)
    {
        var bigger = new ulong[capacity];
        var old = shard.Slots;
        for (int s = 0; s < old.Length; s++)
        {
            ulong k = old[s];
            if (k == 0) continue;
            int i = (int)Math.BigMul(InternTable.Mix(k & ~Fresh) << ShardBits, (ulong)capacity, out _);
            while (bigger[i] != 0) if (++i == capacity) i = 0;
            bigger[i] = k;
        }
        shard.Slots = bigger;
        shard.Block = BlockFor(capacity);
    }
}
