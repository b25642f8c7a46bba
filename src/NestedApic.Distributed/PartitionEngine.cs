using NestedApic.Checking;

namespace NestedApic.Distributed;

/// <summary>What a partition grain drives, with the model's types hidden.</summary>
internal interface IPartitionEngine
{
    /// <summary>Expands this partition's frontier: successors it owns go straight into its next
    /// level, the others to their owners through <paramref name="send"/>(owner, batch).</summary>
    Task<ExpandReport> Expand(Func<int, ReadOnlyMemory<byte>, Task> send);
    /// <summary>Takes a batch of successors another partition sent.</summary>
    void Receive(int from, ReadOnlySpan<byte> batch);
    /// <summary>Reports the level just received and makes it the frontier.</summary>
    LevelReport EndLevel(string silo);
    ParentRef Parent(int index);
}

/// <summary>
/// One partition of the hash-partitioned breadth-first search: the visited states whose
/// fingerprint it owns, the frontier of the current level, and how each state was first reached.
/// States are numbered in arrival order within the partition, level after level, so (partition,
/// index) names a state for the whole run. A grain runs one call at a time (batches arrive only
/// while Expand awaits), so nothing here locks.
///
/// The local engine expands a level in frontier order and steps in order, so the parent it keeps
/// for a state, and the first violation or deadlock it meets, are those of the lexicographically
/// least shortest path (as step ordinals). Partitions meet states in no such order, so each state
/// of the frontier and of the level being received carries that path: a state reached again in
/// the same level by a smaller path takes the new parent, and each level reports its least
/// violation and deadlock. The paths are the level's depth long (a byte a step) and kept only for
/// the two levels in hand.
/// </summary>
internal sealed class PartitionEngine<TModel, TState, TStep, TCodec> : IPartitionEngine
    where TModel : struct, IModel<TState, TStep>
    where TState : unmanaged
    where TStep : unmanaged
    where TCodec : struct, IStateCodec<TState>
{
    /// <summary>A batch is sent once it holds this many bytes.</summary>
    internal const int BatchBytes = 32 * 1024;
    const int ChunkBits = 12;

    readonly TModel _model;
    readonly TCodec _codec;
    readonly JobSpec _job;
    readonly int _index;
    readonly IPartitionSet<TState> _visited;
    /// <summary>Per state: parent partition + 1 (0: the initial state), step ordinal, parent index,
    /// packed in 8 bytes (16, 16 and 32 bits).</summary>
    readonly List<ulong[]> _parents = [];
    /// <summary>The two levels in hand, kept in wire form.</summary>
    EncodedStates<TState, TCodec> _frontier, _next;
    int _frontierCount, _nextCount, _frontierStart;
    /// <summary>Depth of the frontier; its paths are _depth steps of _stepBytes (big-endian, so
    /// byte order is step order), the next level's one step longer.</summary>
    int _depth;
    readonly int _stepBytes;
    byte[] _frontierPaths = new byte[256], _nextPaths = new byte[256];
    /// <summary>The next level's states by fingerprint: where a state reached again this level is.</summary>
    readonly Dictionary<ulong, int> _nextAt = [];
    int _violation = -1, _invariant = -1;

    public PartitionEngine(TModel model, TCodec codec, JobSpec job, int index)
    {
        if (job.Partitions > ushort.MaxValue - 1 || model.MaxSteps > ushort.MaxValue)
            throw new ArgumentException($"{job.Partitions} partitions, {model.MaxSteps} steps: parent references hold at most 65534 and 65535");
        _model = model; _codec = codec; _job = job; _index = index;
        _stepBytes = model.MaxSteps <= 256 ? 1 : 2;
        _visited = job.Exact ? new ExactTable<TState>() : new FingerprintTable<TState>();
        _frontier = new(codec);
        _next = new(codec);
        var initial = model.Initial();
        ulong fp = StateHash.Fingerprint(initial);
        if (SearchModel.Owner(fp, job.Partitions) == index)
        {
            // The initial state is level 0: straight into the frontier (the client checked its invariants).
            _visited.Add(initial, fp);
            AddParent(new ParentRef(-1, 0, 0));
            _frontier.Add(initial);
            _frontierCount++;
        }
    }

    int Count => _frontierStart + _frontierCount + _nextCount;
    int PathLength => _depth * _stepBytes;
    Span<byte> FrontierPath(int i) => _frontierPaths.AsSpan(i * PathLength, PathLength);
    Span<byte> NextPath(int i) => _nextPaths.AsSpan(i * (PathLength + _stepBytes), PathLength + _stepBytes);

    void SetParent(int id, ParentRef p)
    {
        int chunk = id >> ChunkBits;
        if (chunk == _parents.Count) _parents.Add(new ulong[1 << ChunkBits]);
        _parents[chunk][id & ((1 << ChunkBits) - 1)] = (ulong)(ushort)(p.Partition + 1) << 48 | (ulong)(ushort)p.Step << 32 | (uint)p.Index;
    }

    void AddParent(ParentRef p) => SetParent(Count, p);

    public ParentRef Parent(int index)
    {
        if (index < 0 || index >= Count) throw new ArgumentOutOfRangeException(nameof(index), $"partition {_index} holds {Count} states, not {index + 1}");
        ulong packed = _parents[index >> ChunkBits][index & ((1 << ChunkBits) - 1)];
        return new ParentRef((int)(packed >> 48) - 1, (int)(uint)packed, (int)(ushort)(packed >> 32));
    }

    /// <summary>The path of a successor: its parent's and the step.</summary>
    void ChildPath(ReadOnlySpan<byte> parentPath, int step, Span<byte> into)
    {
        parentPath.CopyTo(into);
        if (_stepBytes == 1) into[parentPath.Length] = (byte)step;
        else { into[parentPath.Length] = (byte)(step >> 8); into[parentPath.Length + 1] = (byte)step; }
    }

    /// <summary>A successor this partition owns: kept for the next level when it is new; when it
    /// is already there from this level by a greater path, it takes this parent.</summary>
    void Insert(in TState s, ulong fp, ParentRef from, ReadOnlySpan<byte> path)
    {
        if (!_visited.Add(s, fp))
        {
            if (_nextAt.TryGetValue(fp, out int at) && path.SequenceCompareTo(NextPath(at)) < 0 && StateHash.Equal(_next[at], s))
            {
                path.CopyTo(NextPath(at));
                SetParent(_frontierStart + _frontierCount + at, from);
                if (_violation != at && _model.Violated(s) is >= 0 and var bad && (_violation < 0 || path.SequenceCompareTo(NextPath(_violation)) < 0))
                    (_violation, _invariant) = (at, bad);
            }
            return;
        }
        int index = _nextCount;
        AddParent(from);
        int stride = PathLength + _stepBytes;
        if ((_nextCount + 1) * stride > _nextPaths.Length) Array.Resize(ref _nextPaths, Math.Max(_nextPaths.Length * 2, (_nextCount + 1) * stride));
        _next.Add(s);
        _nextCount++;
        path.CopyTo(NextPath(index));
        _nextAt[fp] = index;
        int violated = _model.Violated(s);
        if (violated >= 0 && (_violation < 0 || path.SequenceCompareTo(NextPath(_violation)) < 0))
            (_violation, _invariant) = (index, violated);
    }

    public async Task<ExpandReport> Expand(Func<int, ReadOnlyMemory<byte>, Task> send)
    {
        int partitions = _job.Partitions;
        var steps = new TStep[Math.Max(1, _model.MaxSteps)];
        var buffers = new byte[partitions][];
        var lengths = new int[partitions];
        var pending = new List<Task>();
        var childPath = new byte[PathLength + _stepBytes];
        int record = 10 + _codec.MaxEncodedLength + PathLength; // two varints, the state, the parent's path
        long transitions = 0, bytes = 0, messages = 0;
        int deadlock = -1;
        bool overBudget = Environment.WorkingSet > _job.MemoryBudgetPerSilo;
        if (overBudget) return new ExpandReport(0, 0, 0, -1, null, true);

        async Task Flush(int owner)
        {
            pending.Add(send(owner, buffers[owner].AsMemory(0, lengths[owner])));
            bytes += lengths[owner]; messages++;
            buffers[owner] = new byte[BatchBytes];
            lengths[owner] = 0;
            // Bounded in-flight batches: the owners' Receive calls pace the expansion.
            if (pending.Count >= 2 * partitions) { await Task.WhenAll(pending); pending.Clear(); }
        }

        for (int i = 0; i < _frontierCount; i++)
        {
            var state = _frontier[i];
            int n = _model.Enabled(state, steps);
            transitions += n;
            if (n == 0 && _job.CheckDeadlock && !_model.IsFinal(state))
            {
                // The search ends at this level: what is left is to find its least deadlock.
                if (deadlock < 0 || FrontierPath(i).SequenceCompareTo(FrontierPath(deadlock)) < 0) deadlock = i;
                continue;
            }
            if (deadlock >= 0) continue;
            int parent = _frontierStart + i;
            for (int k = 0; k < n; k++)
            {
                var succ = state;
                _model.Apply(ref succ, steps[k]);
                ulong fp = StateHash.Fingerprint(succ);
                int owner = SearchModel.Owner(fp, partitions);
                if (owner == _index)
                {
                    ChildPath(FrontierPath(i), k, childPath);
                    Insert(succ, fp, new ParentRef(_index, parent, k), childPath);
                    continue;
                }
                var buf = buffers[owner] ??= new byte[BatchBytes];
                int at = lengths[owner];
                at += WriteVarint(buf.AsSpan(at), (uint)parent);
                at += WriteVarint(buf.AsSpan(at), (uint)k);
                at += _codec.Encode(succ, buf.AsSpan(at));
                FrontierPath(i).CopyTo(buf.AsSpan(at));
                at += PathLength;
                lengths[owner] = at;
                if (at + record > BatchBytes) await Flush(owner);
            }
            if ((i & 1023) == 1023)
            {
                if (Environment.WorkingSet > _job.MemoryBudgetPerSilo) { overBudget = true; break; }
                // Let batches from other partitions in between, so they do not pile up.
                await Task.Yield();
            }
        }
        for (int owner = 0; owner < partitions; owner++)
            if (lengths[owner] > 0) await Flush(owner);
        await Task.WhenAll(pending);
        return new ExpandReport(transitions, bytes, messages, deadlock < 0 ? -1 : _frontierStart + deadlock,
            deadlock < 0 ? null : FrontierPath(deadlock).ToArray(), overBudget);
    }

    public void Receive(int from, ReadOnlySpan<byte> batch)
    {
        int partitions = _job.Partitions;
        Span<byte> childPath = stackalloc byte[PathLength + _stepBytes];
        while (!batch.IsEmpty)
        {
            int parent = (int)ReadVarint(ref batch);
            int step = (int)ReadVarint(ref batch);
            batch = batch[_codec.Decode(batch, out var s)..];
            ChildPath(batch[..PathLength], step, childPath);
            batch = batch[PathLength..];
            ulong fp = StateHash.Fingerprint(s);
            if (SearchModel.Owner(fp, partitions) != _index)
                throw new InvalidOperationException($"partition {_index} got a state owned by partition {SearchModel.Owner(fp, partitions)} from {from}");
            Insert(s, fp, new ParentRef(from, parent, step), childPath);
        }
    }

    public LevelReport EndLevel(string silo)
    {
        var report = new LevelReport(_nextCount, _violation < 0 ? -1 : _frontierStart + _frontierCount + _violation, _invariant,
            _violation < 0 ? null : NextPath(_violation).ToArray(), Environment.WorkingSet, Bytes, silo);
        _frontierStart += _frontierCount;
        (_frontier, _next) = (_next, _frontier);
        _next.Clear();
        (_frontierPaths, _nextPaths) = (_nextPaths, _frontierPaths);
        _frontierCount = _nextCount;
        _nextCount = 0;
        _nextAt.Clear();
        _depth++;
        _violation = _invariant = -1;
        return report;
    }

    /// <summary>Bytes kept for the visited states (set and parent references); as the local
    /// engine counts, the frontier is transient and left out.</summary>
    long Bytes => _visited.Bytes + (long)_parents.Count * (1 << ChunkBits) * sizeof(ulong);

    static int WriteVarint(Span<byte> to, uint v)
    {
        int n = 0;
        while (v >= 0x80) { to[n++] = (byte)(v | 0x80); v >>= 7; }
        to[n++] = (byte)v;
        return n;
    }

    static uint ReadVarint(ref ReadOnlySpan<byte> from)
    {
        uint v = 0;
        for (int shift = 0; ; shift += 7)
        {
            byte b = from[0];
            from = from[1..];
            v |= (uint)(b & 0x7F) << shift;
            if (b < 0x80) return v;
        }
    }
}
