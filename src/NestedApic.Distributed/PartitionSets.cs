using NestedApic.Checking;

namespace NestedApic.Distributed;

/// <summary>A partition's visited states. One grain turn at a time touches it, so no locks.</summary>
internal interface IPartitionSet<TState> where TState : unmanaged
{
    bool Add(in TState state, ulong fingerprint);
    long Bytes { get; }
}

/// <summary>Open addressing over 64-bit fingerprints (never 0), grown by 2x past 0.75 load.</summary>
internal sealed class FingerprintTable<TState> : IPartitionSet<TState> where TState : unmanaged
{
    ulong[] _slots = new ulong[1 << 12];
    long _count;

    public long Bytes => (long)_slots.Length * sizeof(ulong);

    public bool Add(in TState state, ulong fp)
    {
        if (_count * 4 >= _slots.Length * 3L) Grow();
        if (!Insert(_slots, fp)) return false;
        _count++;
        return true;
    }

    static bool Insert(ulong[] slots, ulong fp)
    {
        // The partition was chosen from the fingerprint's high bits; the slot from the low ones.
        int mask = slots.Length - 1, i = (int)(fp & (ulong)mask);
        while (true)
        {
            if (slots[i] == fp) return false;
            if (slots[i] == 0) { slots[i] = fp; return true; }
            i = (i + 1) & mask;
        }
    }

    void Grow()
    {
        var bigger = new ulong[_slots.Length * 2];
        foreach (ulong fp in _slots)
            if (fp != 0) Insert(bigger, fp);
        _slots = bigger;
    }
}

/// <summary>Whole states: no fingerprint collision can hide one.</summary>
internal sealed class ExactTable<TState> : IPartitionSet<TState> where TState : unmanaged
{
    readonly HashSet<Key> _set = [];

    readonly struct Key(TState state, ulong fp) : IEquatable<Key>
    {
        readonly TState _state = state;
        readonly ulong _fp = fp;
        public bool Equals(Key o) => _fp == o._fp && StateHash.Equal(_state, o._state);
        public override bool Equals(object? obj) => obj is Key k && Equals(k);
        public override int GetHashCode() => (int)_fp;
    }

    public long Bytes => _set.Count * (System.Runtime.CompilerServices.Unsafe.SizeOf<TState>() + 24L);
    public bool Add(in TState state, ulong fp) => _set.Add(new Key(state, fp));
}
