using System.Numerics;
using System.Runtime.CompilerServices;

namespace NestedApic.Checking;

/// <summary>
/// One BFS level of state keys (8 bytes each; or, beside them, the real depths of chained states) in chunks, and the chunks of the level being expanded
/// are dropped as soon as its rounds are past them. The first chunk starts small and doubles up to
/// a full chunk (the only copying an append does): a search makes a new level per depth, and most
/// levels of a small model hold a few states (zeroing a full 512 KiB chunk each cost more than
/// the search of a 50-level chain).
/// </summary>
internal sealed class Frontier<T> where T : unmanaged
{
    public const int ChunkBits = 16, ChunkSize = 1 << ChunkBits, FirstChunk = 256;
    readonly List<T[]?> _chunks = [];
    long _count;

    public long Count => _count;
    public long Bytes { get; private set; }
    /// <summary>Bytes the next append of <paramref name="n"/> keys may allocate.</summary>
    public long AppendBytes(int n) => ((n + ChunkSize - 1) / ChunkSize + 1) * (long)ChunkSize * Unsafe.SizeOf<T>();

    public T this[long i] => _chunks[(int)(i >> ChunkBits)]![i & (ChunkSize - 1)];

    public void Append(ReadOnlySpan<T> keys)
    {
        while (keys.Length > 0)
        {
            int at = (int)(_count & (ChunkSize - 1));
            if (at == 0)
            {
                int size = _count == 0 ? Math.Min(ChunkSize, Math.Max(FirstChunk, (int)BitOperations.RoundUpToPowerOf2((uint)keys.Length))) : ChunkSize;
                _chunks.Add(new T[size]);
                Bytes += size * Unsafe.SizeOf<T>();
            }
            else if (at == _chunks[^1]!.Length)
            {
                // Only the first chunk is ever short: it doubles (or takes what is appended).
                int size = Math.Min(ChunkSize, Math.Max(at * 2, (int)BitOperations.RoundUpToPowerOf2((uint)(at + keys.Length))));
                var bigger = new T[size];
                _chunks[^1].AsSpan(0, at).CopyTo(bigger);
                Bytes += (size - at) * Unsafe.SizeOf<T>();
                _chunks[^1] = bigger;
            }
            int n = Math.Min(keys.Length, _chunks[^1]!.Length - at);
            keys[..n].CopyTo(_chunks[^1].AsSpan(at));
            keys = keys[n..];
            _count += n;
        }
    }

    /// <summary>Lets the chunks wholly before <paramref name="position"/> go.</summary>
    public void Release(long position)
    {
        for (int c = 0; c < position >> ChunkBits && c < _chunks.Count; c++)
            if (_chunks[c] is { } chunk) { _chunks[c] = null; Bytes -= chunk.Length * Unsafe.SizeOf<T>(); }
    }
}
