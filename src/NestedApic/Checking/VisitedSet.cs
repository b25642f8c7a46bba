namespace NestedApic.Checking;

/// <summary>
/// The set of visited states. Fingerprint mode keeps 64-bit fingerprints in a lock-free
/// open-addressing table (8 bytes a slot); exact mode keeps whole states, collision-free.
/// Growth happens only between rounds, when no thread inserts.
/// </summary>
internal interface IVisitedSet<TState> where TState : unmanaged
{
    /// <summary>Adds the state; false when it was already there. Thread-safe.</summary>
    bool Add(in TState state, ulong fingerprint);
    long Count { get; }
    long Bytes { get; }
    /// <summary>Tells the set that <paramref name="n"/> more Adds returned true: counting once a
    /// round spares the threads a shared counter.</summary>
    void Added(long n);
    /// <summary>How many more states fit before the hard load limit: a round must not add more.</summary>
    long Room { get; }
    /// <summary>Past the target load: grow before the next round.</summary>
    bool NeedsGrowth { get; }
    /// <summary>Bytes the next growth would need in all (old and new table together).</summary>
    long GrowthBytes { get; }
    void Grow();
}

/// <summary>
/// Lock-free linear probing over 8-byte fingerprints. The capacity need not be a power of two: a
/// slot is picked by multiply-high (fp · capacity) >> 64, so the table can grow by 1.4× rather
/// than 2×, which keeps the load between 0.57 and 0.8 and so 10 to 14 bytes a state.
/// </summary>
internal sealed class FingerprintSet<TState> : IVisitedSet<TState> where TState : unmanaged
{
    ulong[] _slots;
    long _count;
    // Grow past 0.8 (checked between rounds); a round may fill up to 0.9, where probing still ends.
    const double TargetLoad = 0.8, HardLoad = 0.9, Growth = 1.4;

    public FingerprintSet(int initialCapacity = 4096) => _slots = new ulong[initialCapacity];

    public long Count => _count;
    public long Bytes => (long)_slots.Length * sizeof(ulong);
    public long GrowthBytes => Bytes + NextLength() * sizeof(ulong);
    public long Room => Math.Max(0, (long)(_slots.Length * HardLoad) - Count);
    public bool NeedsGrowth => Count > _slots.Length * TargetLoad;

    public bool Add(in TState state, ulong fp) => Insert(_slots, fp);
    public void Added(long n) => _count += n;

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    static bool Insert(ulong[] slots, ulong fp)
    {
        long i = (long)Math.BigMul(fp, (ulong)slots.Length, out _);
        while (true)
        {
            ulong seen = Volatile.Read(ref slots[i]);
            if (seen == fp) return false;
            if (seen == 0)
            {
                seen = Interlocked.CompareExchange(ref slots[i], fp, 0);
                if (seen == 0) return true;
                if (seen == fp) return false;
            }
            if (++i == slots.Length) i = 0;
        }
    }

    long NextLength() => ((long)(_slots.Length * Growth) + 63) & ~63L;

    public void Grow()
    {
        var bigger = new ulong[NextLength()];
        foreach (ulong fp in _slots)
            if (fp != 0) Insert(bigger, fp);
        _slots = bigger;
    }
}

internal sealed class ExactSet<TState> : IVisitedSet<TState> where TState : unmanaged
{
    const int Stripes = 256;
    readonly Dictionary<Key, byte>[] _maps = Enumerable.Range(0, Stripes).Select(_ => new Dictionary<Key, byte>()).ToArray();
    long _count;

    readonly struct Key(TState state, ulong fp) : IEquatable<Key>
    {
        public readonly TState State = state;
        public readonly ulong Fp = fp;
        public bool Equals(Key o) => Fp == o.Fp && StateHash.Equal(State, o.State);
        public override bool Equals(object? obj) => obj is Key k && Equals(k);
        public override int GetHashCode() => (int)Fp;
    }

    public long Count => Interlocked.Read(ref _count);
    public long Bytes => Count * (System.Runtime.CompilerServices.Unsafe.SizeOf<TState>() + 32);
    public long GrowthBytes => Bytes * 2;
    public long Room => long.MaxValue;
    public bool NeedsGrowth => false;
    public void Grow() { }
    public void Added(long n) { }

    public bool Add(in TState state, ulong fp)
    {
        var map = _maps[(int)(fp >> 56)];
        lock (map)
        {
            if (!map.TryAdd(new Key(state, fp), 0)) return false;
        }
        Interlocked.Increment(ref _count);
        return true;
    }
}
