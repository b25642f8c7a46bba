using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace NestedApic.Checking;

/// <summary>
/// Compressed, exact storage of states (SPIN's -DCOLLAPSE, LTSmin's tree database), three levels:
/// each component of the layout is interned in its own table (leaves); the components of a group
/// (named "group.part", e.g. "vcpu0.apic") are interned as the tuple of their indices; the groups
/// are split into two halves (in the layout's order, or as <see cref="Regroup"/> pairs a layout of
/// plain cuts), each interned as the tuple of its groups (a pair for two), and the
/// state's 64-bit key is the pair of the halves' indices. With the VM-wide part and vCPU 0 in one
/// half and vCPU 1 in the other, a step re-interns the leaves it changed, its vCPU's tuple and at
/// most the two halves, however many components there are; each half holds far fewer distinct
/// values than there are states. A successor's unchanged components keep the parent's indices,
/// found by comparing bytes, not hashing. Zero components (absent vCPUs) are checked, never stored.
/// </summary>
internal sealed class StateStore<TState> where TState : unmanaged
{
    readonly StateComponent[] _leaves;
    readonly int[] _zeroOffsets, _zeroLengths;
    readonly InternTable[] _leafTables;
    /// <summary>Per group: its first leaf and leaf count; a group of several leaves has a table.</summary>
    readonly int[] _groupFirst, _groupCount, _groupOffset, _groupLength;
    readonly InternTable?[] _groupTables;
    readonly int _groups;
    /// <summary>The two halves: groups [0, _split) and [_split, _groups), each one group (no
    /// table), a pair of groups or a tuple.</summary>
    readonly int _split;
    readonly NodeTable?[] _halfPairs = new NodeTable?[2];
    readonly InternTable?[] _halfTuples = new InternTable?[2];

    /// <summary>Bytes from the start of a state to the end of its last stored component: a zero
    /// tail (absent vCPUs) past it need not be copied between buffers of this layout.</summary>
    public int Covered { get; }

    /// <param name="order">The stored components (the layout's non-zero ones, by position) in the
    /// order the store takes them (<see cref="Regroup"/>); null for the layout's order.</param>
    public StateStore(StateLayout layout, int[]? order = null)
    {
        if (layout.Size != Unsafe.SizeOf<TState>()) throw new ArgumentException($"layout of {layout.Size} bytes for a state of {Unsafe.SizeOf<TState>()}");
        _leaves = layout.Components.Where(c => !c.Zero).ToArray();
        if (order is not null)
        {
            if (order.Length != _leaves.Length || order.Order().Where((c, i) => c != i).Any())
                throw new ArgumentException($"an order of {order.Length} components is not a permutation of the layout's {_leaves.Length}");
            _leaves = order.Select(c => _leaves[c]).ToArray();
        }
        var zero = layout.Components.Where(c => c.Zero).ToArray();
        _zeroOffsets = zero.Select(c => c.Offset).ToArray();
        _zeroLengths = zero.Select(c => c.Length).ToArray();
        if (_leaves.Length == 0) _leaves = [new StateComponent("all", 0, layout.Size, false)];
        _leafTables = _leaves.Select(c => new InternTable(c.Length)).ToArray();
        int tail = layout.Size;
        foreach (var c in layout.Components.Reverse())
            if (c.Zero && c.Offset + c.Length == tail) tail = c.Offset; else break;
        Covered = tail;
        // Groups: runs of components with the same name before the first '.'.
        var first = new List<int>();
        var count = new List<int>();
        string? current = null;
        for (int c = 0; c < _leaves.Length; c++)
        {
            var name = _leaves[c].Name;
            int dot = name.IndexOf('.');
            var group = dot < 0 ? null : name[..dot];
            if (group is not null && group == current) { count[^1]++; continue; }
            first.Add(c); count.Add(1); current = group;
        }
        _groupFirst = [.. first];
        _groupCount = [.. count];
        _groupOffset = first.Select(c => _leaves[c].Offset).ToArray();
        _groupLength = first.Select((c, g) => _leaves[c + count[g] - 1].Offset + _leaves[c + count[g] - 1].Length - _leaves[c].Offset).ToArray();
        _groups = first.Count;
        _groupTables = count.Select(n => n > 1 ? new InternTable(4 * n) : null).ToArray();
        _split = _groups == 1 ? 1 : (_groups + 1) / 2;
        for (int h = 0; h < 2; h++)
        {
            int n = HalfCount(h);
            if (n == 2) _halfPairs[h] = new NodeTable();
            else if (n > 2) _halfTuples[h] = new InternTable(4 * n);
        }
        _interns = [.. _leafTables, .. _groupTables.OfType<InternTable>(), .. _halfTuples.OfType<InternTable>()];
        _pairs = [.. _halfPairs.OfType<NodeTable>()];
    }

    int HalfFirst(int h) => h == 0 ? 0 : _split;
    int HalfCount(int h) => h == 0 ? _split : _groups - _split;

    /// <summary>Indices of one state (leaves, groups, the halves): a thread's scratch per state.</summary>
    public int IndexCount => _leaves.Length + _groups + 2;
    /// <summary>Tables a thread keeps an <see cref="IndexBlock"/> for: leaves, groups, halves.</summary>
    public int TableCount => _leaves.Length + _groups + 2;

    int GroupAt => _leaves.Length;
    int HalfAt => _leaves.Length + _groups;

    public long Bytes
    {
        get
        {
            long b = 0;
            foreach (var t in _interns) b += t.Bytes;
            foreach (var p in _pairs) b += p.Bytes;
            return b;
        }
    }

    /// <summary>Every intern table (leaves, groups, tuple halves) and every pair table: the
    /// tables that grow. Kept as arrays: <see cref="GrowAsNeeded"/> runs between every two rounds,
    /// and code that allocates there is code the JIT recompiles mid-search.</summary>
    readonly InternTable[] _interns;
    readonly NodeTable[] _pairs;

    /// <summary>Grows every table near its target load, on the pool's threads (a large table's
    /// rehash split among them), when
    /// <paramref name="affordable"/> says all their new slot arrays fit; returns the bytes let
    /// go, or -1 when the growth was not affordable.</summary>
    public long GrowAsNeeded(Func<long, bool> affordable, WorkerPool pool)
    {
        long needed = 0, freed = 0;
        int growing = 0;
        foreach (var t in _interns) if (t.NeedsGrowth) { needed += t.GrowthBytes; freed += t.Capacity * 8; growing++; }
        foreach (var p in _pairs) if (p.NeedsGrowth) { needed += p.GrowthBytes; freed += p.Capacity * 16; growing++; }
        if (growing == 0) return 0;
        if (!affordable(needed)) return -1;
        IGrowingTable[] tables = [.. _interns.Where(t => t.NeedsGrowth), .. _pairs.Where(p => p.NeedsGrowth)];
        Growth.Parallel(tables, pool);
        return freed;
    }

    /// <summary>Encodes <paramref name="state"/> into its key, reusing the indices of
    /// <paramref name="parent"/> (whose indices are <paramref name="parentIdx"/>) where a component
    /// is unchanged; fills <paramref name="idx"/>. Returns 0 when a table is full (grow, retry).</summary>
    public ulong Encode(in TState state, in TState parent, ReadOnlySpan<int> parentIdx, Span<int> idx, Span<IndexBlock> blocks) =>
        EncodeLower(state, parent, parentIdx, idx, blocks) ? EncodeUpper(idx, blocks) : 0;

    /// <summary>A half whose index <see cref="EncodeUpper"/> still has to intern.</summary>
    const int Pending = -2;

    /// <summary>The first stage of <see cref="Encode"/>: leaves and groups, and the halves that did
    /// not change; a half that changed is marked pending and its slot prefetched, so that
    /// <see cref="EncodeUpper"/>, called a few states later, finds it in cache. False when a table
    /// is full.</summary>
    public bool EncodeLower(in TState state, in TState parent, ReadOnlySpan<int> parentIdx, Span<int> idx, Span<IndexBlock> blocks)
    {
        var s = StateLayout.Bytes(in state);
        var p = StateLayout.Bytes(in parent);
        for (int z = 0; z < _zeroOffsets.Length; z++)
            if (s.Slice(_zeroOffsets[z], _zeroLengths[z]).ContainsAnyExcept((byte)0)) ZeroWritten(z);
        for (int g = 0; g < _groups; g++)
        {
            int from = _groupFirst[g], n = _groupCount[g];
            // A group the step did not touch (another vCPU): one comparison for all its parts.
            if (n > 1 && s.Slice(_groupOffset[g], _groupLength[g]).SequenceEqual(p.Slice(_groupOffset[g], _groupLength[g])))
            {
                parentIdx.Slice(from, n).CopyTo(idx.Slice(from, n));
                idx[GroupAt + g] = parentIdx[GroupAt + g];
                continue;
            }
            for (int c = from; c < from + n; c++)
            {
                ref readonly var comp = ref _leaves[c];
                var v = s.Slice(comp.Offset, comp.Length);
                if (v.SequenceEqual(p.Slice(comp.Offset, comp.Length))) { idx[c] = parentIdx[c]; continue; }
                long leaf = _leafTables[c].Intern(v, ref blocks[c]);
                if (leaf < 0) return false;
                idx[c] = (int)leaf;
            }
            if (n == 1) { idx[GroupAt + g] = idx[from]; continue; }
            var members = idx.Slice(from, n);
            if (members.SequenceEqual(parentIdx.Slice(from, n))) { idx[GroupAt + g] = parentIdx[GroupAt + g]; continue; }
            long i = _groupTables[g]!.Intern(MemoryMarshal.AsBytes(members), ref blocks[GroupAt + g]);
            if (i < 0) return false;
            idx[GroupAt + g] = (int)i;
        }
        for (int h = 0; h < 2; h++)
        {
            int from = GroupAt + HalfFirst(h), n = HalfCount(h);
            if (n <= 1) { idx[HalfAt + h] = n == 1 ? idx[from] : 0; continue; }
            var members = idx.Slice(from, n);
            if (members.SequenceEqual(parentIdx.Slice(from, n))) { idx[HalfAt + h] = parentIdx[HalfAt + h]; continue; }
            idx[HalfAt + h] = Pending;
            _halfPairs[h]?.Prefetch(members[0], members[1]);
        }
        return true;
    }

    /// <summary>The second stage of <see cref="Encode"/>: interns the pending halves and returns
    /// the key; 0 when a table is full.</summary>
    public ulong EncodeUpper(Span<int> idx, Span<IndexBlock> blocks)
    {
        for (int h = 0; h < 2; h++)
        {
            if (idx[HalfAt + h] != Pending) continue;
            var members = idx.Slice(GroupAt + HalfFirst(h), HalfCount(h));
            long i = _halfPairs[h] is { } pair ? pair.Intern(members[0], members[1], ref blocks[HalfAt + h])
                : _halfTuples[h]!.Intern(MemoryMarshal.AsBytes(members), ref blocks[HalfAt + h]);
            if (i < 0) return 0;
            idx[HalfAt + h] = (int)i;
        }
        return ((ulong)(uint)(idx[HalfAt] + 1) << 32) | (uint)idx[HalfAt + 1];
    }

    /// <summary>Encodes a state without a parent (the initial state).</summary>
    public ulong EncodeFresh(in TState state, Span<int> idx, Span<IndexBlock> blocks)
    {
        var parentIdx = new int[IndexCount];
        parentIdx.AsSpan().Fill(-1);
        // A parent no component can equal: every byte differs from the state's.
        TState parent = state;
        foreach (ref byte b in MemoryMarshal.AsBytes(MemoryMarshal.CreateSpan(ref parent, 1))) b = (byte)~b;
        return Encode(state, parent, parentIdx, idx, blocks);
    }

    /// <summary>Writes the state of <paramref name="key"/> into <paramref name="state"/>, its
    /// indices into <paramref name="idx"/>. Only the stored components are written: the zero
    /// components of <paramref name="state"/> must be zero already (a buffer that only ever held
    /// states of this layout).</summary>
    public void Decode(ulong key, ref TState state, Span<int> idx)
    {
        var s = MemoryMarshal.AsBytes(MemoryMarshal.CreateSpan(ref state, 1));
        idx[HalfAt] = (int)(key >> 32) - 1;
        idx[HalfAt + 1] = (int)(uint)key;
        for (int h = 0; h < 2; h++)
        {
            int from = GroupAt + HalfFirst(h), n = HalfCount(h);
            if (n == 1) idx[from] = idx[HalfAt + h];
            else if (_halfPairs[h] is { } pair) (idx[from], idx[from + 1]) = pair.Pair(idx[HalfAt + h]);
            else if (n > 2) MemoryMarshal.Cast<byte, int>(_halfTuples[h]!.Value(idx[HalfAt + h])).CopyTo(idx.Slice(from, n));
        }
        for (int g = 0; g < _groups; g++)
        {
            int from = _groupFirst[g], n = _groupCount[g];
            if (n == 1) idx[from] = idx[GroupAt + g];
            else MemoryMarshal.Cast<byte, int>(_groupTables[g]!.Value(idx[GroupAt + g])).CopyTo(idx.Slice(from, n));
        }
        for (int c = 0; c < _leaves.Length; c++)
            _leafTables[c].Value(idx[c]).CopyTo(s.Slice(_leaves[c].Offset));
    }

    void ZeroWritten(int z) =>
        throw new InvalidOperationException($"the model wrote into bytes {_zeroOffsets[z]}..{_zeroOffsets[z] + _zeroLengths[z]} of the state, a component its layout declares zero");
}
