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
    /// <summary>How many more states fit before the load limit.</summary>
    long Room { get; }
    /// <summary>Bytes the next growth would need in all (old and new table together).</summary>
    long GrowthBytes { get; }
    void Grow();
}

internal sealed class FingerprintSet<TState> : IVisitedSet<TState> where TState : unmanaged
{
    ulong[] _slots;
    long _count;
    const double MaxLoad = 0.75;

    public FingerprintSet(int log2Capacity = 12) => _slots = new ulong[1L << log2Capacity];

    public long Count => Interlocked.Read(ref _count);
    public long Bytes => (long)_slots.Length * sizeof(ulong);
    public long GrowthBytes => Bytes * 3;
    public long Room => Math.Max(0, (long)(_slots.Length * MaxLoad) - Count);

    public bool Add(in TState state, ulong fp) => Insert(_slots, fp, ref _count);

    static bool Insert(ulong[] slots, ulong fp, ref long count)
    {
        long mask = slots.Length - 1;
        long i = (long)(fp >> 17) & mask;
        while (true)
        {
            ulong seen = Volatile.Read(ref slots[i]);
            if (seen == fp) return false;
            if (seen == 0)
            {
                seen = Interlocked.CompareExchange(ref slots[i], fp, 0);
                if (seen == 0) { Interlocked.Increment(ref count); return true; }
                if (seen == fp) return false;
            }
            i = (i + 1) & mask;
        }
    }

    public void Grow()
    {
        var bigger = new ulong[_slots.Length * 2];
        long n = 0;
        foreach (ulong fp in _slots)
            if (fp != 0) Insert(bigger, fp, ref n);
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
    public void Grow() { }

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
