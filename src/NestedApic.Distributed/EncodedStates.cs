namespace NestedApic.Distributed;

/// <summary>
/// A level's states in their wire form, one after another in 1 MiB chunks, with each one's
/// offset: a frontier of KVM states takes about a tenth of its whole-state size.
/// </summary>
internal sealed class EncodedStates<TState, TCodec>(TCodec codec)
    where TState : unmanaged where TCodec : struct, IStateCodec<TState>
{
    const int ChunkBytes = 1 << 20;
    readonly List<byte[]> _chunks = [];
    long[] _offsets = new long[256];
    int _used; // bytes used in the last chunk

    public int Count { get; private set; }
    public long Bytes => (long)_chunks.Count * ChunkBytes + _offsets.Length * sizeof(long);

    public void Add(in TState s)
    {
        int max = codec.MaxEncodedLength;
        if (_chunks.Count == 0 || _used + max > ChunkBytes) { _chunks.Add(new byte[Math.Max(ChunkBytes, max)]); _used = 0; }
        if (Count == _offsets.Length) Array.Resize(ref _offsets, Count * 2);
        _offsets[Count++] = (long)(_chunks.Count - 1) * ChunkBytes + _used;
        _used += codec.Encode(s, _chunks[^1].AsSpan(_used));
    }

    public TState this[int i]
    {
        get
        {
            long at = _offsets[i];
            codec.Decode(_chunks[(int)(at / ChunkBytes)].AsSpan((int)(at % ChunkBytes)), out var s);
            return s;
        }
    }

    /// <summary>Empties the store, keeping one chunk for the next level.</summary>
    public void Clear()
    {
        if (_chunks.Count > 1) _chunks.RemoveRange(1, _chunks.Count - 1);
        Count = _used = 0;
    }
}
