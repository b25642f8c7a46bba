namespace NestedApic.Checking;

/// <summary>
/// One BFS level of state keys (8 bytes each) in chunks: appending never copies, and the chunks of
/// the level being expanded are dropped as soon as its rounds are past them.
/// </summary>
internal sealed class Frontier
{
    public const int ChunkBits = 16, ChunkSize = 1 << ChunkBits;
    readonly List<ulong[]?> _chunks = [];
    long _count;

    public long Count => _count;
    public long Bytes { get; private set; }
    /// <summary>Bytes the next append of <paramref name="n"/> keys may allocate.</summary>
    public long AppendBytes(int n) => ((n + ChunkSize - 1) / ChunkSize + 1) * (long)ChunkSize * sizeof(ulong);

    public ulong this[long i] => _chunks[(int)(i >> ChunkBits)]![i & (ChunkSize - 1)];

    public void Append(ReadOnlySpan<ulong> keys)
    {
        while (keys.Length > 0)
        {
            int at = (int)(_count & (ChunkSize - 1));
            if (at == 0) { _chunks.Add(new ulong[ChunkSize]); Bytes += ChunkSize * sizeof(ulong); }
            int n = Math.Min(keys.Length, ChunkSize - at);
            keys[..n].CopyTo(_chunks[^1].AsSpan(at));
            keys = keys[n..];
            _count += n;
        }
    }

    /// <summary>Lets the chunks wholly before <paramref name="position"/> go.</summary>
    public void Release(long position)
    {
        for (int c = 0; c < position >> ChunkBits && c < _chunks.Count; c++)
            if (_chunks[c] is not null) { _chunks[c] = null; Bytes -= ChunkSize * sizeof(ulong); }
    }
}
