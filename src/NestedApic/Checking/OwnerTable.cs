using System.Runtime.CompilerServices;

namespace NestedApic.Checking;

/// <summary>
/// The owners of the keys first inserted in the current round: for each, the smallest parent id
/// that reached it, settled with a compare-and-swap minimum. Small (a round's new states), so it
/// stays in cache; cleared for every round, grown (rehashed) when a round outgrows it.
/// </summary>
internal sealed class OwnerTable
{
    const double HardLoad = 0.7;
    ulong[] _keys;
    uint[] _owners;
    long _reserved;

    public OwnerTable(int capacity = 1 << 14)
    {
        _keys = new ulong[capacity];
        _owners = new uint[capacity];
        _owners.AsSpan().Fill(uint.MaxValue);
    }

    public long Bytes => _keys.Length * 12L;
    public bool Exhausted => Interlocked.Read(ref _reserved) + 1024 > _keys.Length * HardLoad;
    public long GrowthBytes => _keys.Length * 24L;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    int Position(ulong key) => (int)Math.BigMul(InternTable.Mix(key), (ulong)_keys.Length, out _);

    /// <summary>Room for 16 more keys, reserved by one thread.</summary>
    public bool Refill(ref IndexBlock block)
    {
        long start = Interlocked.Add(ref _reserved, 16) - 16;
        if (start + 16 > _keys.Length * HardLoad) return false;
        block.Next = start; block.End = start + 16;
        return true;
    }

    /// <summary>Whether <paramref name="parent"/> now owns <paramref name="key"/> (it is smaller
    /// than every parent that claimed it before).</summary>
    public bool Claim(ulong key, uint parent)
    {
        var keys = _keys;
        int i = Position(key);
        while (true)
        {
            ulong seen = Volatile.Read(ref keys[i]);
            if (seen == 0) seen = Interlocked.CompareExchange(ref keys[i], key, 0);
            if (seen == 0 || seen == key) break;
            if (++i == keys.Length) i = 0;
        }
        ref uint owner = ref _owners[i];
        uint cur = Volatile.Read(ref owner);
        while (parent < cur)
        {
            uint was = Interlocked.CompareExchange(ref owner, parent, cur);
            if (was == cur) return true;
            cur = was;
        }
        return false;
    }

    /// <summary>The owner of a key claimed this round.</summary>
    public uint Owner(ulong key)
    {
        int i = Position(key);
        while (_keys[i] != key)
        {
            if (_keys[i] == 0) throw new InvalidOperationException("key not claimed this round");
            if (++i == _keys.Length) i = 0;
        }
        return _owners[i];
    }

    /// <summary>Empties the table for the next round.</summary>
    public void Clear()
    {
        Array.Clear(_keys);
        _owners.AsSpan().Fill(uint.MaxValue);
        _reserved = 0;
    }

    /// <summary>Doubles the table mid-round, keeping its claims. Only between resumes.</summary>
    public void Grow()
    {
        var keys = _keys;
        var owners = _owners;
        _keys = new ulong[keys.Length * 2];
        _owners = new uint[keys.Length * 2];
        _owners.AsSpan().Fill(uint.MaxValue);
        for (int s = 0; s < keys.Length; s++)
        {
            if (keys[s] == 0) continue;
            int i = Position(keys[s]);
            while (_keys[i] != 0) if (++i == _keys.Length) i = 0;
            _keys[i] = keys[s];
            _owners[i] = owners[s];
        }
    }
}
