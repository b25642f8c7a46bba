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
/// </summary>
internal sealed class PartitionEngine<TModel, TState, TStep, TCodec> : IPartitionEngine
    where TModel : struct, IModel<TState, TStep>
    where TState : unmanaged
    where TStep : unmanaged
    where TCodec : struct, IStateCodec<TState>
{
    /// <summary>A batch is sent once it holds this many bytes.</summary>
    internal const int BatchBytes = 32 * 1024;
    const int ChunkBits = 14;

    readonly TModel _model;
    readonly TCodec _codec;
    readonly JobSpec _job;
    readonly int _index;
    readonly IPartitionSet<TState> _visited;
    readonly List<ParentRef[]> _parents = [];
    TState[] _frontier = new TState[256], _next = new TState[256];
    int _frontierCount, _nextCount, _frontierStart;
    int _violation = -1, _invariant = -1;

    public PartitionEngine(TModel model, TCodec codec, JobSpec job, int index)
    {
        _model = model; _codec = codec; _job = job; _index = index;
        _visited = job.Exact ? new ExactTable<TState>() : new FingerprintTable<TState>();
        var initial = model.Initial();
        ulong fp = StateHash.Fingerprint(initial);
        if (SearchModel.Owner(fp, job.Partitions) == index)
        {
            // The initial state is level 0: straight into the frontier (the client checked its invariants).
            _visited.Add(initial, fp);
            AddParent(new ParentRef(-1, 0, 0));
            _frontier[_frontierCount++] = initial;
        }
    }

    int Count => _frontierStart + _frontierCount + _nextCount;

    void AddParent(ParentRef p)
    {
        int id = Count, chunk = id >> ChunkBits;
        if (chunk == _parents.Count) _parents.Add(new ParentRef[1 << ChunkBits]);
        _parents[chunk][id & ((1 << ChunkBits) - 1)] = p;
    }

    public ParentRef Parent(int index) =>
        index >= 0 && index < Count ? _parents[index >> ChunkBits][index & ((1 << ChunkBits) - 1)]
            : throw new ArgumentOutOfRangeException(nameof(index), $"partition {_index} holds {Count} states, not {index + 1}");

    /// <summary>A successor this partition owns: kept for the next level when it is new.</summary>
    void Insert(in TState s, ulong fp, ParentRef from)
    {
        if (!_visited.Add(s, fp)) return;
        if (_violation < 0)
        {
            int bad = _model.Violated(s);
            if (bad >= 0) { _violation = Count; _invariant = bad; }
        }
        AddParent(from);
        if (_nextCount == _next.Length) Array.Resize(ref _next, _next.Length * 2);
        _next[_nextCount++] = s;
    }

    public async Task<ExpandReport> Expand(Func<int, ReadOnlyMemory<byte>, Task> send)
    {
        int partitions = _job.Partitions;
        var steps = new TStep[Math.Max(1, _model.MaxSteps)];
        var buffers = new byte[partitions][];
        var lengths = new int[partitions];
        var pending = new List<Task>();
        int record = 10 + _codec.MaxEncodedLength; // two varints and the state
        long transitions = 0, bytes = 0, messages = 0;
        int deadlock = -1;
        bool overBudget = false;

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
            if (n == 0 && _job.CheckDeadlock && !_model.IsFinal(state)) { deadlock = _frontierStart + i; break; }
            int parent = _frontierStart + i;
            for (int k = 0; k < n; k++)
            {
                var succ = state;
                _model.Apply(ref succ, steps[k]);
                ulong fp = StateHash.Fingerprint(succ);
                int owner = SearchModel.Owner(fp, partitions);
                if (owner == _index) { Insert(succ, fp, new ParentRef(_index, parent, k)); continue; }
                var buf = buffers[owner] ??= new byte[BatchBytes];
                int at = lengths[owner];
                at += WriteVarint(buf.AsSpan(at), (uint)parent);
                at += WriteVarint(buf.AsSpan(at), (uint)k);
                at += _codec.Encode(succ, buf.AsSpan(at));
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
        return new ExpandReport(transitions, bytes, messages, deadlock, overBudget);
    }

    public void Receive(int from, ReadOnlySpan<byte> batch)
    {
        int partitions = _job.Partitions;
        while (!batch.IsEmpty)
        {
            int parent = (int)ReadVarint(ref batch);
            int step = (int)ReadVarint(ref batch);
            batch = batch[_codec.Decode(batch, out var s)..];
            ulong fp = StateHash.Fingerprint(s);
            if (SearchModel.Owner(fp, partitions) != _index)
                throw new InvalidOperationException($"partition {_index} got a state owned by partition {SearchModel.Owner(fp, partitions)} from {from}");
            Insert(s, fp, new ParentRef(from, parent, step));
        }
    }

    public LevelReport EndLevel(string silo)
    {
        var report = new LevelReport(_nextCount, _violation, _invariant, Environment.WorkingSet, Bytes, silo);
        _frontierStart += _frontierCount;
        (_frontier, _next) = (_next, _frontier);
        _frontierCount = _nextCount;
        _nextCount = 0;
        _violation = _invariant = -1;
        return report;
    }

    long Bytes => _visited.Bytes + (long)_parents.Count * (1 << ChunkBits) * 12
        + (long)(_frontier.Length + _next.Length) * System.Runtime.CompilerServices.Unsafe.SizeOf<TState>();

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
