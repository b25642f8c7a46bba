namespace NestedApic.Checking;

/// <summary>
/// How each state was first reached, in about 2 bytes a state. The search gives ids in BFS order
/// and expands states in id order, merging each state's new successors right after the previous
/// state's; so the children of state p are exactly ids 1 + cum(p) .. cum(p + 1), where cum(p)
/// sums the new-successor counts of the states before p. Stored: that count for every expanded
/// state and the step ordinal of every state, one byte each (255 escapes to a side table), plus
/// cum at every 1024th expanded state for lookup. Enough to rebuild a counterexample by replay.
/// </summary>
internal sealed class ParentLinks
{
    const int ChunkBits = 16, ChunkSize = 1 << ChunkBits, CheckpointBits = 10;
    const byte Escape = 255;
    readonly List<byte[]> _counts = [], _steps = [];
    readonly List<long> _checkpoints = [];
    readonly Dictionary<long, int> _bigCounts = [], _bigSteps = [];
    long _expanded, _count, _children;

    /// <summary>States recorded: the initial state and every child.</summary>
    public long Count => _count;
    public long Bytes => (long)(_counts.Count + _steps.Count) * ChunkSize + _checkpoints.Count * sizeof(long)
        + (_bigCounts.Count + _bigSteps.Count) * 24L;

    public void AddRoot() => Put(_steps, _bigSteps, _count++, 0);

    /// <summary>Records one expanded state's number of new successors, in id order.</summary>
    public void AddExpanded(int children)
    {
        if ((_expanded & ((1 << CheckpointBits) - 1)) == 0) _checkpoints.Add(_children);
        Put(_counts, _bigCounts, _expanded++, children);
        _children += children;
    }

    /// <summary>Records the next child's step ordinal, in id order.</summary>
    public void AddChild(int step) => Put(_steps, _bigSteps, _count++, step);

    /// <summary>Bulk form of <see cref="AddExpanded"/> and <see cref="AddChild"/> for a slice.</summary>
    public void Add(ReadOnlySpan<byte> counts, ReadOnlySpan<byte> steps, Dictionary<int, int>? bigCounts, Dictionary<int, int>? bigSteps)
    {
        // Runs of plain counts are copied whole (a run ends at an escape, a chunk's end or a
        // checkpoint): the coordinator does this between rounds while the other threads wait.
        for (int i = 0; i < counts.Length;)
        {
            if (counts[i] == Escape) { AddExpanded(bigCounts![i++]); continue; }
            int at = (int)(_expanded & (ChunkSize - 1));
            if (at == 0 && _expanded >> ChunkBits == _counts.Count) _counts.Add(new byte[ChunkSize]);
            if ((_expanded & ((1 << CheckpointBits) - 1)) == 0) _checkpoints.Add(_children);
            int toCheckpoint = (1 << CheckpointBits) - (int)(_expanded & ((1 << CheckpointBits) - 1));
            int n = Math.Min(Math.Min(ChunkSize - at, counts.Length - i), toCheckpoint);
            int esc = counts.Slice(i, n).IndexOf(Escape);
            if (esc >= 0) n = esc;
            var run = counts.Slice(i, n);
            run.CopyTo(_counts[(int)(_expanded >> ChunkBits)].AsSpan(at));
            foreach (byte c in run) _children += c;
            _expanded += n; i += n;
        }
        for (int i = 0; i < steps.Length;)
        {
            if (steps[i] == Escape) { AddChild(bigSteps![i++]); continue; }
            int at = (int)(_count & (ChunkSize - 1));
            if (at == 0 && _count >> ChunkBits == _steps.Count) _steps.Add(new byte[ChunkSize]);
            int n = Math.Min(ChunkSize - at, steps.Length - i);
            int esc = steps.Slice(i, n).IndexOf(Escape);
            if (esc >= 0) n = esc;
            steps.Slice(i, n).CopyTo(_steps[(int)(_count >> ChunkBits)].AsSpan(at));
            _count += n; i += n;
        }
    }

    static void Put(List<byte[]> chunks, Dictionary<long, int> big, long id, int value)
    {
        int chunk = (int)(id >> ChunkBits);
        if (chunk == chunks.Count) chunks.Add(new byte[ChunkSize]);
        if (value >= Escape) { big[id] = value; value = Escape; }
        chunks[chunk][id & (ChunkSize - 1)] = (byte)value;
    }

    static int Get(List<byte[]> chunks, Dictionary<long, int> big, long id)
    {
        byte b = chunks[(int)(id >> ChunkBits)][id & (ChunkSize - 1)];
        return b == Escape ? big[id] : b;
    }

    /// <summary>The state that first reached child <paramref name="id"/> (≥ 1).</summary>
    long Parent(long id)
    {
        long rank = id - 1; // among all children
        int lo = 0, hi = _checkpoints.Count - 1;
        while (lo < hi)
        {
            int mid = (lo + hi + 1) / 2;
            if (_checkpoints[mid] <= rank) lo = mid; else hi = mid - 1;
        }
        long p = (long)lo << CheckpointBits, cum = _checkpoints[lo];
        while (true)
        {
            cum += Get(_counts, _bigCounts, p);
            if (rank < cum) return p;
            p++;
        }
    }

    /// <summary>Step ordinals from the initial state (id 0) to <paramref name="id"/>.</summary>
    public List<int> PathTo(long id)
    {
        var path = new List<int>();
        for (; id != 0; id = Parent(id)) path.Add(Get(_steps, _bigSteps, id));
        path.Reverse();
        return path;
    }
}
