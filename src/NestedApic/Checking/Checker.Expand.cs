using System.Runtime.CompilerServices;
using NestedApic.Checking.Reduction;

namespace NestedApic.Checking;

public sealed partial class Checker<TModel, TState, TStep>
{
    /// <summary>Expands frontier[pos, pos + round): threads take slices; a slice that fills a
    /// table stops, the table grows, and the slice resumes where it stopped. Then each slice keeps
    /// the candidates it owns. False when growing would pass the memory budget.</summary>
    bool ExpandRound(Slice[] slices, int threads, long frontierStart, long pos, int round)
    {
        // Guided sizes: each slice takes 1/(2 threads) of what is left, at least MinSlice
        // parents, the last slice the rest. The threads take slices in order, so the round ends
        // on small ones, and a thread waits at its end for a small slice, not an average one.
        int used = 0, from = 0;
        for (int t = 0; t < slices.Length; t++)
        {
            int left = round - from;
            int size = t == slices.Length - 1 ? left : Math.Min(left, Math.Max(MinSlice, left / (2 * threads)));
            slices[t].Reset(from, from + size);
            from += size;
            if (size > 0) used++;
        }
        // One slice expands the round in parent order: its first insert of a key is the owner's.
        _inOrder = used == 1 || threads == 1;
        _roundKeys?.Clear();
        _roundStart = frontierStart;
        _roundPos = pos;
        _expandOne ??= ExpandOrFill;
        _keepOne ??= i => Keep(_todo[i]);
        // A pending growth of the visited set (GrowTables) is rehashed by the expanding threads,
        // unless one slice inserts as it expands.
        if (_inOrder) FinishGrowth(filled: false);
        while (true)
        {
            int todo = 0;
            if (_todo.Length < slices.Length) _todo = new Slice[slices.Length];
            foreach (var s in slices) if (s.Next < s.To) _todo[todo++] = s;
            if (todo == 0) break;
            _todoCount = todo;
            _pass++;
            _pool.Run(todo + _root.PendingGrowth, _expandOne);
            FinishGrowth(filled: true);
            bool full = false;
            for (int t = 0; t < todo; t++) full |= _todo[t].Full;
            if (!full) break;
            if (!GrowTables()) return false;
            foreach (var s in slices) s.Full = false;
        }
        slices.CopyTo(_todo, 0);
        if (!_inOrder && !Insert(slices)) return false;
        _pool.Run(used == 1 ? 1 : slices.Length, _keepOne);
        foreach (var s in slices) { _transitions += s.Transitions; _reduced += s.Reduced; _skipped += s.Skipped; _chained += s.Chained; _boundHit |= s.BoundHit; }
        return true;
    }

    /// <summary>Counts the expansion passes of the search: a round's first, and one more after
    /// each growth of a full table.</summary>
    long _pass;

    Scratch[] _scratch = [];

    const int RecentBits = 12;
    /// <summary>The fewest parents a slice takes (but the round's last).</summary>
    const int MinSlice = 64;

    /// <summary>Inserts the round's candidates into the visited set, one partition of its shards a
    /// thread, each in slice and parent order, so the first parent to insert a key (its owner) is
    /// the smallest that reached it, whatever the timing. Room for all of them is made first.
    /// False when that room would pass the memory budget.</summary>
    bool Insert(Slice[] slices)
    {
        Span<long> incoming = stackalloc long[RootSet.Shards];
        foreach (var s in slices)
            for (int h = 0; h < RootSet.Shards; h++) incoming[h] += s.ShardCounts[h];
        long freed = _root.GrowAsNeeded(Affordable, incoming);
        if (freed < 0) return false;
        _garbage += freed;
        _insertOne ??= part => InsertPart(_todo, part);
        _pool.Run(slices[0].PartCount.Length, _insertOne);
        return true;
    }

    void InsertPart(Slice[] slices, int part)
    {
        var root = _root;
        Span<long> added = stackalloc long[RootSet.Shards];
        added.Clear();
        foreach (var s in slices)
        {
            var list = s.PartIdx[part].AsSpan(0, s.PartCount[part]);
            var (keys, hints) = (s.Keys, s.Hints);
            for (int i = 0; i < list.Length; i++)
            {
                if (i + 8 < list.Length) { int ahead = list[i + 8]; root.PrefetchInsert(keys[ahead], hints[ahead]); }
                int c = list[i];
                if (root.AddOwned(keys[c], hints[c], out int shard)) { list[i] |= int.MinValue; added[shard]++; }
            }
        }
        for (int h = 0; h < RootSet.Shards; h++) if (added[h] > 0) root.Added(h, added[h]);
    }

    /// <summary>Work item <paramref name="i"/> of an expansion: slices and shards to rehash
    /// alternate, so that one thread rehashes (faulting the new pages in) while the other
    /// expands, then the longer list's rest.</summary>
    void ExpandOrFill(int i)
    {
        int slices = _todoCount, fills = _root.PendingGrowth, both = Math.Min(slices, fills);
        if (i < 2 * both)
        {
            if ((i & 1) == 0) ExpandSlice(_todo[i >> 1], _roundStart, _roundPos);
            else _root.Fill(i >> 1);
        }
        else if (slices > fills) ExpandSlice(_todo[i - fills], _roundStart, _roundPos);
        else _root.Fill(i - slices);
    }

    /// <summary>Ends a pending growth, rehashing it first on this thread unless the pool did.</summary>
    void FinishGrowth(bool filled)
    {
        if (_root.PendingGrowth == 0) return;
        if (!filled) for (int i = 0; i < _root.PendingGrowth; i++) _root.Fill(i);
        _root.EndGrowth();
        _garbage += _rootFreed;
        _rootFreed = 0;
    }

    /// <summary>The round being expanded, for the pool's work items.</summary>
    long _roundStart, _roundPos;
    int _todoCount;
    Slice[] _todo = [];
    Action<int>? _expandOne, _keepOne, _insertOne;

    /// <summary>Successors encoded before their keys go into the visited set: the set's slots are
    /// prefetched meanwhile, so its cache misses overlap instead of adding up.</summary>
    const int Batch = 16;
    bool _inOrder;

    void ExpandSlice(Slice sl, long frontierStart, long pos)
    {
        var model = _model;
        int max = MaxSteps;
        Span<TStep> steps = max <= 256 ? stackalloc TStep[max] : new TStep[max];
        Span<int> order = _reducer is null ? default : max <= 256 ? stackalloc int[max] : new int[max];
        Span<byte> perm = stackalloc byte[AmpleSets.MaxAgents];
        Span<TStep> chainSteps = !_chain ? default : max <= 256 ? stackalloc TStep[max] : new TStep[max];
        bool deadlocks = _o.CheckDeadlock;
        bool onlyDeadlocks = _pending is not null;
        var store = _store;
        var blocks = sl.Blocks.AsSpan();
        var scratch = _scratch[WorkerPool.ThreadIndex];
        if (scratch.Pass != _pass)
        {
            Array.Clear(scratch.Recent);
            scratch.Pass = _pass;
        }
        var batch = scratch.Batch;
        int b = 0;
        TState parent = default;
        int covered = store.Covered;
        for (int i = sl.Next; i < sl.To; i++)
        {
            long level = pos + i;
            store.Decode(_frontier[level], ref parent, sl.ParentIdx);
            int n = Successors(parent, steps);
            // A chained state can reach the depth bound before its level does: it stays unexpanded.
            int depth = _chain ? _depthsNow[level] : 0;
            if (depth >= _o.MaxDepth) { sl.BoundHit |= n > 0; continue; }
            if (i >= sl.Counted)
            {
                if (n == 0 && deadlocks && !model.IsFinal(parent))
                {
                    // A deadlocked state is reported by its own path, rebuilt from the links.
                    if (!Flush(sl, scratch, b)) return;
                    sl.Deadlock = (int)level;
                    sl.Next = sl.To;
                    return;
                }
                sl.Counted = i + 1;
                sl.Transitions += n;
            }
            if (onlyDeadlocks || sl.ViolationKey != 0) continue;
            // Partial-order reduction: the ample steps (ordinals in `order`) first; the others
            // only if an earlier round stored one of their successors (AmpleSets, C3). j counts
            // the sequence, k is the step's ordinal among the enabled steps (links and replay use it).
            int m = _reducer is null || n < 2 ? n : _reducer.Select(parent, steps[..n], order);
            if (m < n) FillRest(order, m, n); // also on a resume past m: `order` is this call's
            int j0 = i == sl.Next ? sl.NextStep : 0;
            if (j0 == 0) { sl.ProvisoParent = i; sl.ProvisoOld = false; }
            // A resume at or past m comes after the decision to expand in full (only then are
            // those steps generated); the flag below may since belong to another parent.
            bool full = m == n || j0 >= m;
            for (int j = j0; j < n; j++)
            {
                if (j == m && !full)
                {
                    if (!Flush(sl, scratch, b)) return;
                    b = 0;
                    if (!sl.ProvisoOld) { sl.Reduced++; sl.Skipped += n - m; break; }
                    full = true;
                }
                int k = m == n ? j : order[j];
                ref var e = ref batch[b];
                // The batch's zero tail stays zero (a model writing there is caught in Encode).
                Unsafe.CopyBlockUnaligned(ref Unsafe.As<TState, byte>(ref e.State), ref Unsafe.As<TState, byte>(ref parent), (uint)covered);
                model.Apply(ref e.State, steps[k]);
                e.Depth = depth + 1;
                e.Chained = _chain ? Chain(ref e.State, chainSteps, _o.MaxDepth - e.Depth) : 0;
                e.Depth += e.Chained;
                _symmetry?.Canonicalize(ref e.State, perm);
                e.Parent = i; e.Step = k; e.Seq = j;
                if (!store.EncodeLower(e.State, parent, sl.ParentIdx, scratch.BatchIdx.AsSpan(b * store.IndexCount, store.IndexCount), blocks))
                {
                    if (Flush(sl, scratch, b)) { sl.Next = i; sl.NextStep = j; sl.Full = true; }
                    return;
                }
                if (++b == Batch)
                {
                    if (!Flush(sl, scratch, b)) return;
                    b = 0;
                }
            }
        }
        if (!Flush(sl, scratch, b)) return;
        sl.Next = sl.To;
    }

    /// <summary>The keys stored in this round, kept only in order and under partial-order
    /// reduction (the proviso must tell them from an earlier round's).</summary>
    HashSet<ulong>? _roundKeys;

    /// <summary>Writes the ordinals the ample set left out, ascending, after its m ordinals.</summary>
    static void FillRest(Span<int> order, int m, int n)
    {
        Span<bool> taken = n <= 512 ? stackalloc bool[n] : new bool[n];
        for (int a = 0; a < m; a++) taken[order[a]] = true;
        int w = m;
        for (int k = 0; k < n; k++) if (!taken[k]) order[w++] = k;
    }

    /// <summary>Inserts the batch's keys in order; false when the set was full at one of them
    /// (the slice then resumes there).</summary>
    bool Flush(Slice sl, Scratch scratch, int count)
    {
        var blocks = sl.Blocks.AsSpan();
        var credits = blocks[_store.TableCount..];
        var batch = scratch.Batch;
        int encoded = count, width = _store.IndexCount;
        for (int j = 0; j < count; j++)
        {
            ulong key = _store.EncodeUpper(scratch.BatchIdx.AsSpan(j * width, width), blocks);
            if (key == 0) { encoded = j; break; }
            batch[j].Key = key;
            // A key the thread met in this pass needs no lookup (below): no prefetch either.
            if (_inOrder || RecentSlot(scratch, key) != key) _root.Prefetch(key);
        }
        for (int j = 0; j < count; j++)
        {
            ref var e = ref batch[j];
            int shard = -1, hint = 0;
            // Several threads only look up here: Insert stores the round's candidates after.
            var outcome = j >= encoded ? RootSet.Outcome.Full
                : _inOrder ? _root.AddInOrder(e.Key, credits)
                : Lookup(scratch, e.Key, out shard, out hint);
            if (outcome == RootSet.Outcome.Full)
            {
                sl.Next = e.Parent; sl.NextStep = e.Seq; sl.Full = true;
                return false;
            }
            sl.Chained += e.Chained; // here, past the resume point: a resumed slice walks its chain again
            if (outcome != RootSet.Outcome.New)
            {
                // Only an earlier round's state counts for the proviso (a state of this round is one
                // level deeper). In order, Old also means this round: the round's own keys tell.
                if (_reducer is not null && outcome == RootSet.Outcome.Old && e.Parent == sl.ProvisoParent && !(_inOrder && _roundKeys?.Contains(e.Key) == true))
                    sl.ProvisoOld = true;
                continue;
            }
            if (_inOrder && _reducer is not null) (_roundKeys ??= []).Add(e.Key);
            // A state's owner has it among its candidates, so checking every candidate sees every
            // violation with its owner.
            if (sl.ViolationKey == 0)
            {
                int bad = _model.Violated(e.State);
                if (bad >= 0) { sl.ViolationKey = e.Key; sl.ViolationInvariant = bad; }
            }
            sl.Push(e.Key, shard, hint, e.Parent, e.Step, e.Depth);
        }
        return true;
    }

    /// <summary>A successor's outcome while several threads expand: Taken when the thread met it
    /// among its recent candidates (it was absent then, and nothing is inserted until the pass
    /// ends, so it still is: no lookup), else Old when the visited set has it, else New, noted
    /// among the recent candidates.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    RootSet.Outcome Lookup(Scratch scratch, ulong key, out int shard, out int hint)
    {
        ref ulong seen = ref RecentSlot(scratch, key);
        if (seen == key) { shard = -1; hint = 0; return RootSet.Outcome.Taken; }
        if (_root.Contains(key, out shard, out hint)) return RootSet.Outcome.Old;
        seen = key;
        return RootSet.Outcome.New;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static ref ulong RecentSlot(Scratch scratch, ulong key) =>
        ref scratch.Recent[(int)((key * 0x9E3779B97F4A7C15UL) >> (64 - RecentBits))];

    /// <summary>Keeps the candidates the slice's parents own (a smaller parent elsewhere may have
    /// taken one), in order, and counts each parent's kept children.</summary>
    void Keep(Slice sl)
    {
        int parents = sl.To - sl.From;
        sl.Counts.AsSpan(0, parents).Clear();
        if (sl.StepBytes.Length < sl.Count) sl.StepBytes = new byte[Math.Max(sl.Count, sl.StepBytes.Length * 2)];
        int kept = 0;
        bool all = _inOrder;
        // Each partition's entries in candidate order: a cursor each.
        Span<int> cursor = stackalloc int[sl.PartCount.Length];
        cursor.Clear();
        for (int c = 0; c < sl.Count; c++)
        {
            int p = sl.Parents[c];
            if (!all)
            {
                int part = sl.Parts[c];
                if (sl.PartIdx[part][cursor[part]++] >= 0) continue;
            }
            sl.Keys[kept] = sl.Keys[c]; sl.Parents[kept] = p; sl.Steps[kept] = sl.Steps[c]; sl.Depths[kept] = sl.Depths[c];
            int step = sl.Steps[c];
            if (step >= 255) (sl.BigSteps ??= [])[kept] = step;
            sl.StepBytes[kept++] = (byte)Math.Min(step, 255);
            int local = p - sl.From;
            if (sl.Counts[local] == 254) (sl.BigCounts ??= [])[local] = 255;
            else if (sl.Counts[local] == 255) sl.BigCounts![local]++;
            if (sl.Counts[local] < 255) sl.Counts[local]++;
        }
        sl.Kept = kept;
    }
}
