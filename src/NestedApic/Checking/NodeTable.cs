using System.Runtime.CompilerServices;

namespace NestedApic.Checking;

/// <summary>
/// The inner nodes of the state tree at one position: every distinct pair of child indices stored
/// once and numbered. A slot is 16 bytes, the pair and its index side by side, so a lookup costs
/// one cache line; an append-only arena maps an index back to its pair for decoding. Inserts are
/// lock-free: the pair is claimed with a compare-and-swap, its index written right after (a reader
/// that sees the pair before the index waits for it). Grows between rounds only.
/// </summary>
internal sealed class NodeTable : IGrowingTable
{
    const double TargetLoad = 0.75, HardLoad = 0.9;
    const int ChunkBits = 13;
    ulong[] _slots; // [2i]: (left + 1) << 32 | right; [2i + 1]: index + 1
    ulong[]?[] _chunks = new ulong[]?[16];
    readonly Lock _grow = new();
    long _reserved;
    int _block;

    public NodeTable(int capacity = 1024)
    {
        _slots = new ulong[capacity * 2];
        _block = BlockFor(capacity);
    }

    public long Reserved => Interlocked.Read(ref _reserved);
    public long Capacity => _slots.Length / 2;
    public long Bytes => _slots.Length * 8L + ((Reserved >> ChunkBits) + 1) * (8L << ChunkBits);
    public bool NeedsGrowth => Reserved + _block * 64L > Capacity * TargetLoad;
    public long GrowthBytes => NextCapacity() * 16L;

    static int BlockFor(long capacity) => (int)Math.Clamp(capacity / 256, 4, 256);
    long NextCapacity() => Capacity < 1 << 16 ? Capacity * 2 : ((long)(Capacity * 1.5) + 63) & ~63L;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static long Position(ulong pair, long capacity) => (long)Math.BigMul(InternTable.Mix(pair), (ulong)capacity, out _);

    /// <summary>The index of the pair (left, right), stored now if new; -1 when the table must grow first.</summary>
    public long Intern(int left, int right, ref IndexBlock block)
    {
        ulong pair = ((ulong)(uint)(left + 1) << 32) | (uint)right;
        var slots = _slots;
        long cap = slots.Length / 2;
        long i = Position(pair, cap);
        while (true)
        {
            ulong seen = Volatile.Read(ref slots[2 * i]);
            if (seen == 0)
            {
                if (block.Next == block.End && !Refill(ref block)) return -1;
                seen = Interlocked.CompareExchange(ref slots[2 * i], pair, 0);
                if (seen == 0)
                {
                    long index = block.Next++;
                    Arena(index) = pair;
                    Volatile.Write(ref slots[2 * i + 1], (ulong)(index + 1));
                    return index;
                }
            }
            if (seen == pair)
            {
                ulong index;
                while ((index = Volatile.Read(ref slots[2 * i + 1])) == 0) Thread.SpinWait(1);
                return (long)index - 1;
            }
            if (++i == cap) i = 0;
        }
    }

    /// <summary>Asks the CPU to bring the pair's first slot into cache (a hint: never faults).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public unsafe void Prefetch(int left, int right)
    {
        if (!System.Runtime.Intrinsics.X86.Sse.IsSupported) return;
        ulong pair = ((ulong)(uint)(left + 1) << 32) | (uint)right;
        var slots = _slots;
        System.Runtime.Intrinsics.X86.Sse.Prefetch0(Unsafe.AsPointer(ref slots[2 * Position(pair, slots.Length / 2)]));
    }

    /// <summary>The children of node <paramref name="index"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public (int Left, int Right) Pair(long index)
    {
        ulong p = Volatile.Read(ref _chunks)[index >> ChunkBits]![index & ((1 << ChunkBits) - 1)];
        return ((int)(p >> 32) - 1, (int)(uint)p);
    }

    ref ulong Arena(long index)
    {
        long c = index >> ChunkBits;
        var chunks = Volatile.Read(ref _chunks);
        var chunk = c < chunks.Length ? chunks[c] : null;
        chunk ??= AddChunk(c);
        return ref chunk[index & ((1 << ChunkBits) - 1)];
    }

    ulong[] AddChunk(long c)
    {
        lock (_grow)
        {
            var chunks = _chunks;
            if (c >= chunks.Length)
            {
                Array.Resize(ref chunks, (int)Math.Max(chunks.Length * 2, c + 1));
                Volatile.Write(ref _chunks, chunks);
            }
            return chunks[c] ??= new ulong[1 << ChunkBits];
        }
    }

    bool Refill(ref IndexBlock block)
    {
        long start = Interlocked.Add(ref _reserved, _block) - _block;
        if (start + _block > Capacity * HardLoad || start + _block >= int.MaxValue - 1) return false;
        block.Next = start; block.End = start + _block;
        return true;
    }

    ulong[]? _bigger;
    int _parts;

    int IGrowingTable.BeginGrowth(int threads)
    {
        _bigger = GC.AllocateUninitializedArray<ulong>((int)(NextCapacity() * 2));
        _parts = Growth.PartsFor(Capacity, threads);
        return _parts;
    }

    void IGrowingTable.ClearPart(int part)
    {
        var (from, to) = Growth.Range(_bigger!.Length / 2, part, _parts);
        Array.Clear(_bigger, (int)(2 * from), (int)(2 * (to - from)));
    }

    void IGrowingTable.RehashPart(int part)
    {
        var (old, bigger) = (_slots, _bigger!);
        long cap = bigger.Length / 2;
        var (from, to) = Growth.Range(old.Length / 2, part, _parts);
        for (long s = 2 * from; s < 2 * to; s += 2)
        {
            if (old[s] == 0) continue;
            long i = Position(old[s], cap);
            if (_parts == 1)
            {
                while (bigger[2 * i] != 0) if (++i == cap) i = 0;
                bigger[2 * i] = old[s];
            }
            else
                while (Interlocked.CompareExchange(ref bigger[2 * i], old[s], 0) != 0) if (++i == cap) i = 0;
            bigger[2 * i + 1] = old[s + 1];
        }
    }

    void IGrowingTable.EndGrowth()
    {
        _slots = _bigger!;
        _bigger = null;
        _block = BlockFor(Capacity);
    }
}
