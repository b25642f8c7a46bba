namespace NestedApic.Checking;

/// <summary>
/// For each state id (discovery order), the id of the state it was first reached from and the
/// ordinal of the step among that state's enabled steps: 6 bytes a state, enough to rebuild a
/// counterexample by replay without keeping any state.
/// </summary>
internal sealed class ParentLinks
{
    const int ChunkBits = 20, ChunkSize = 1 << ChunkBits;
    readonly List<int[]> _parents = [];
    readonly List<ushort[]> _steps = [];
    long _count;

    public long Count => _count;
    public long Bytes => (long)_parents.Count * ChunkSize * (sizeof(int) + sizeof(ushort));

    public void Add(long parent, int step)
    {
        int chunk = (int)(_count >> ChunkBits), at = (int)(_count & (ChunkSize - 1));
        if (chunk == _parents.Count) { _parents.Add(new int[ChunkSize]); _steps.Add(new ushort[ChunkSize]); }
        _parents[chunk][at] = (int)parent;
        _steps[chunk][at] = (ushort)step;
        _count++;
    }

    public (long Parent, int Step) this[long id] =>
        (_parents[(int)(id >> ChunkBits)][id & (ChunkSize - 1)], _steps[(int)(id >> ChunkBits)][id & (ChunkSize - 1)]);

    /// <summary>Step ordinals from the initial state (id 0) to <paramref name="id"/>.</summary>
    public List<int> PathTo(long id)
    {
        var path = new List<int>();
        while (id != 0)
        {
            var (parent, step) = this[id];
            path.Add(step);
            id = parent;
        }
        path.Reverse();
        return path;
    }
}
