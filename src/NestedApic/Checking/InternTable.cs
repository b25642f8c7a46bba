using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace NestedApic.Checking;

/// <summary>
/// Indices a thread takes from a table in blocks, so threads do not share a counter per insert.
/// One per (slice, table); what is left of a block carries over to the next round.
/// </summary>
internal struct IndexBlock
{
    public long Next, End;
}

/// <summary>
/// Every distinct value of one component (fixed width) stored once and numbered: the values sit in
/// an append-only arena of chunks (an index never moves), and a lock-free open-addressing table of
/// 8-byte slots finds them: (32-bit hash tag &lt;&lt; 32) | (index + 1). Inserts run on many
/// threads at once; the slot table grows between rounds only (see <see cref="Room"/>).
/// </summary>
internal sealed class InternTable : IGrowingTable
{
    public const double TargetLoad = 0.75, HardLoad = 0.9;
    readonly int _width, _chunkBits;
    ulong[] _slots;
    byte[]?[] _chunks = new byte[]?[16];
    readonly Lock _grow = new();
    /// <summary>Indices handed out (in blocks): an upper bound on the values stored.</summary>
    long _reserved;
    int _block;

    public InternTable(int width, int capacity = 1024)
    {
        _width = width;
        // About 64 KiB a chunk, so a table of a few values stays small.
        _chunkBits = Math.Max(4, BitOperations.Log2((uint)Math.Max(1, 65536 / width)));
        _slots = new ulong[capacity];
        _block = BlockFor(capacity);
    }

    public long Reserved => Interlocked.Read(ref _reserved);
    public long Capacity => _slots.Length;
    public long Bytes => _slots.Length * 8L + ChunkCount * ((long)_width << _chunkBits);
    long ChunkCount => (Reserved + (1L << _chunkBits) - 1) >> _chunkBits;
    public bool NeedsGrowth => Reserved + _block * 64L > _slots.Length * TargetLoad;
    /// <summary>The new slot array's bytes.</summary>
    public long GrowthBytes => NextCapacity() * 8L;

    static int BlockFor(long capacity) => (int)Math.Clamp(capacity / 256, 4, 256);
    long NextCapacity() => _slots.Length < 1 << 20 ? _slots.Length * 2L : ((long)(_slots.Length * 1.5) + 63) & ~63L;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static int Position(uint tag, int capacity) => (int)(((ulong)tag * (ulong)capacity) >> 32);

    /// <summary>The index of <paramref name="value"/>, stored now if new; -1 when the table is at
    /// its hard load and must grow first (nothing was stored).</summary>
    public long Intern(ReadOnlySpan<byte> value, ref IndexBlock block)
    {
        ulong h = StateHash.Hash(value);
        return Intern(value, (uint)h | 1, ref block);
    }

    public static ulong Mix(ulong k)
    {
        k ^= k >> 33; k *= 0xFF51AFD7ED558CCDUL;
        k ^= k >> 33; k *= 0xC4CEB9FE1A85EC53UL;
        return k ^ (k >> 33);
    }

    long Intern(ReadOnlySpan<byte> value, uint tag, ref IndexBlock block)
    {
        var slots = _slots;
        int i = Position(tag, slots.Length);
        while (true)
        {
            ulong seen = Volatile.Read(ref slots[i]);
            if (seen == 0)
            {
                if (block.Next == block.End && !Refill(ref block)) return -1;
                long index = block.Next;
                value.CopyTo(Entry(index, forWrite: true));
                ulong mine = ((ulong)tag << 32) | (ulong)(index + 1);
                seen = Interlocked.CompareExchange(ref slots[i], mine, 0);
                if (seen == 0) { block.Next++; return index; }
            }
            if ((uint)(seen >> 32) == tag)
            {
                long index = (long)(uint)seen - 1;
                if (Entry(index, forWrite: false).SequenceEqual(value)) return index;
            }
            if (++i == slots.Length) i = 0;
        }
    }

    bool Refill(ref IndexBlock block)
    {
        long start = Interlocked.Add(ref _reserved, _block) - _block;
        if (start + _block > _slots.Length * HardLoad || start + _block >= int.MaxValue)
        {
            // Over the hard load: leave the reservation (it only makes the table grow sooner).
            return false;
        }
        block.Next = start; block.End = start + _block;
        return true;
    }

    /// <summary>The stored value at <paramref name="index"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ReadOnlySpan<byte> Value(long index) => Entry(index, forWrite: false);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    Span<byte> Entry(long index, bool forWrite)
    {
        long c = index >> _chunkBits;
        var chunks = Volatile.Read(ref _chunks);
        byte[]? chunk = c < chunks.Length ? chunks[c] : null;
        if (chunk is null)
        {
            if (!forWrite) throw new InvalidOperationException($"index {index} was never stored");
            chunk = AddChunk(c);
        }
        return chunk.AsSpan((int)(index & ((1L << _chunkBits) - 1)) * _width, _width);
    }

    byte[] AddChunk(long c)
    {
        lock (_grow)
        {
            var chunks = _chunks;
            if (c >= chunks.Length)
            {
                Array.Resize(ref chunks, (int)Math.Max(chunks.Length * 2, c + 1));
                Volatile.Write(ref _chunks, chunks);
            }
            return chunks[c] ??= new byte[_width << _chunkBits];
        }
    }

    ulong[]? _bigger;
    int _parts;

    int IGrowingTable.BeginGrowth(int threads)
    {
        _bigger = GC.AllocateUninitializedArray<ulong>((int)NextCapacity());
        _parts = Growth.PartsFor(_slots.Length, threads);
        return _parts;
    }

    // Clearing writes every page of the new slots: see Growth.
    void IGrowingTable.ClearPart(int part)
    {
        var (from, to) = Growth.Range(_bigger!.Length, part, _parts);
        Array.Clear(_bigger, (int)from, (int)(to - from));
    }

    void IGrowingTable.RehashPart(int part)
    {
        var (old, bigger) = (_slots, _bigger!);
        var (from, to) = Growth.Range(old.Length, part, _parts);
        for (long k = from; k < to; k++)
        {
            ulong s = old[k];
            if (s == 0) continue;
            int i = Position((uint)(s >> 32), bigger.Length);
            if (_parts == 1)
            {
                while (bigger[i] != 0) if (++i == bigger.Length) i = 0;
                bigger[i] = s;
            }
            else
                while (Interlocked.CompareExchange(ref bigger[i], s, 0) != 0) if (++i == bigger.Length) i = 0;
        }
    }

    void IGrowingTable.EndGrowth()
    {
        _slots = _bigger!;
        _bigger = null;
        _block = BlockFor(_slots.Length);
    }
}
