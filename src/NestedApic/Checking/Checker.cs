using System.Diagnostics;
using System.Runtime.CompilerServices;
using NestedApic.Checking.Reduction;

namespace NestedApic.Checking;

/// <summary>
/// Breadth-first explicit-state search over a model, level by level, so the error reported is at
/// the smallest depth, violation or deadlock (a violation first at equal depth), and its trace is a
/// shortest one. Each level is expanded in rounds; in a round the threads take contiguous slices of
/// the frontier and insert successors into the lock-free visited set; between rounds the
/// coordinator merges successors in slice order, grows the table, checks bounds and reports progress.
/// </summary>
public sealed class Checker<TModel, TState, TStep>
    where TModel : struct, IModel<TState, TStep>
    where TState : unmanaged
    where TStep : unmanaged
{
    readonly TModel _model;
    readonly CheckOptions _o;
    readonly FingerprintSet<TState>? _fingerprints;
    readonly ExactSet<TState>? _exact;
    readonly ParentLinks _links = new();
    /// <summary>Partial-order reduction, when on and the model declares footprints.</summary>
    readonly Reducer<TState, TStep>? _reducer;
    /// <summary>Symmetry reduction, when on and the model declares its agents interchangeable.</summary>
    readonly Symmetry<TState, TStep>? _symmetry;
    long _transitions, _reduced, _skipped;
    int _depth;
    readonly Stopwatch _clock = new();

    public Checker(TModel model, CheckOptions? options = null)
    {
        _model = model;
        _o = options ?? new CheckOptions();
        if (_o.Exact) _exact = new ExactSet<TState>();
        else _fingerprints = new FingerprintSet<TState>();
        if (_o.Reduce) _reducer = Reducer<TState, TStep>.For(model);
        if (_o.Symmetry) _symmetry = Symmetry<TState, TStep>.For(model);
    }

    /// <summary>What one thread found in its slice of a round: new states in order, each expanded
    /// state's count of new successors and each new state's step ordinal (see ParentLinks).</summary>
    sealed class Slice
    {
        public TState[] States = new TState[1024];
        public byte[] Steps = new byte[1024];
        public byte[] Counts = new byte[256];
        public int Count, Parents;
        public Dictionary<int, int>? BigCounts, BigSteps;
        public long Transitions, Reduced, Skipped;
        /// <summary>First event in the slice: a violation (invariant ≥ 0) or a deadlock (-2).</summary>
        public int Found = -1;
        /// <summary>The violating state's parent, or the deadlocked state.</summary>
        public long FoundId;
        public int FoundStep;

        public void Reset(int parents)
        {
            Count = Parents = 0; Transitions = Reduced = Skipped = 0; Found = -1;
            BigCounts?.Clear(); BigSteps?.Clear();
            if (Counts.Length < parents) Counts = new byte[parents];
        }

        public void Push(in TState s, int step)
        {
            if (Count == States.Length) { Array.Resize(ref States, Count * 2); Array.Resize(ref Steps, Count * 2); }
            States[Count] = s;
            if (step >= 255) (BigSteps ??= [])[Count] = step;
            Steps[Count++] = (byte)Math.Min(step, 255);
        }

        public void Expanded(int children)
        {
            if (children >= 255) (BigCounts ??= [])[Parents] = children;
            Counts[Parents++] = (byte)Math.Min(children, 255);
        }
    }

    IVisitedSet<TState> Visited => _exact is not null ? _exact : _fingerprints!;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    bool AddVisited(in TState s) =>
        _fingerprints is not null ? _fingerprints.Add(s, StateHash.Fingerprint(s)) : _exact!.Add(s, StateHash.Fingerprint(s));

    public CheckResult<TState, TStep> Run()
    {
        _clock.Start();
        var initial = _model.Initial();
        AddVisited(initial);
        Visited.Added(1);
        _links.AddRoot();
        int bad = _model.Violated(initial);
        if (bad >= 0) return Violation(initial, bad, []);

        int threads = Math.Max(1, _o.Threads);
        // More slices than threads: Parallel.For hands them out as threads free up, so one slow
        // slice does not leave a core idle; the merge stays in slice order (deterministic ids).
        var slices = Enumerable.Range(0, threads == 1 ? 1 : threads * SlicesPerThread).Select(_ => new Slice()).ToArray();
        var frontier = new TState[1024];
        frontier[0] = initial;
        int frontierCount = 1, nextCount = 0;
        long frontierStart = 0; // id of frontier[0]
        var next = new TState[1024];
        var lastProgress = TimeSpan.Zero;
        int stateSize = Unsafe.SizeOf<TState>();

        while (frontierCount > 0)
        {
            if (_depth >= _o.MaxDepth) return Finished(initial, StopReason.DepthBound, frontierCount);
            nextCount = 0;
            int pos = 0;
            while (pos < frontierCount)
            {
                if (_o.Cancel.IsCancellationRequested) return Finished(initial, StopReason.Cancelled, frontierCount - pos);
                int round = RoundSize(frontierCount - pos);
                if (round == 0 || Visited.NeedsGrowth)
                {
                    if (MemoryUsed(frontier, next, slices) + Visited.GrowthBytes > _o.MemoryBudgetBytes) return Finished(initial, StopReason.MemoryBudget, frontierCount - pos);
                    Visited.Grow();
                    continue;
                }
                Expand(frontier, frontierStart, pos, round, slices, threads);
                pos += round;
                // Merge in slice order: ids follow the frontier order, which ParentLinks relies on,
                // and with one thread the ids and the trace are the same every run.
                foreach (var sl in slices)
                {
                    _transitions += sl.Transitions;
                    _reduced += sl.Reduced; _skipped += sl.Skipped;
                    if (sl.Found != -1)
                    {
                        // A violation is one level deeper than the state that generated it; a
                        // deadlocked state later in this level is nearer, so it wins.
                        long dead = sl.Found == -2 ? sl.FoundId : FirstDeadlock(frontier, frontierStart, (int)(sl.FoundId - frontierStart) + 1, frontierCount);
                        if (dead >= 0) return Deadlock(initial, _links.PathTo(dead));
                        var path = _links.PathTo(sl.FoundId);
                        path.Add(sl.FoundStep);
                        return Violation(initial, sl.Found, path);
                    }
                    if (nextCount + sl.Count > next.Length) Array.Resize(ref next, Math.Max(next.Length * 2, nextCount + sl.Count));
                    sl.States.AsSpan(0, sl.Count).CopyTo(next.AsSpan(nextCount));
                    nextCount += sl.Count;
                    _links.Add(sl.Counts.AsSpan(0, sl.Parents), sl.Steps.AsSpan(0, sl.Count), sl.BigCounts, sl.BigSteps);
                    Visited.Added(sl.Count);
                }
                if (_links.Count > _o.MaxStates) return Finished(initial, StopReason.StateBound, frontierCount - pos + nextCount);
                // next may double when it is merged into again
                if (MemoryUsed(frontier, next, slices) + (long)next.Length * stateSize > _o.MemoryBudgetBytes) return Finished(initial, StopReason.MemoryBudget, frontierCount - pos + nextCount);
                if (_o.Progress is not null && _clock.Elapsed - lastProgress >= _o.ProgressInterval)
                {
                    lastProgress = _clock.Elapsed;
                    _o.Progress(Stats(frontierCount - pos + nextCount, frontierCount + nextCount));
                }
            }
            frontierStart += frontierCount;
            (frontier, next) = (next, frontier);
            frontierCount = nextCount;
            if (frontierCount > 0) _depth++;
        }
        return Finished(initial, StopReason.Complete, 0);
    }

    /// <summary>What the search holds now: the larger of our own accounting (array lengths, not
    /// counts) and the process's working set. Checked before every allocation that could push past
    /// the budget, so the budget stops the search, not the kernel's OOM killer.</summary>
    long MemoryUsed(TState[] frontier, TState[] next, Slice[] slices)
    {
        long states = frontier.Length + next.Length;
        foreach (var sl in slices) states += sl.States.Length;
        long ours = Visited.Bytes + _links.Bytes + states * Unsafe.SizeOf<TState>();
        return Math.Max(ours, Environment.WorkingSet);
    }

    /// <summary>How many frontier states the next round may expand without the visited table
    /// passing its hard load limit (each may add MaxSteps states); 0 means grow first.</summary>
    int RoundSize(int remaining) =>
        (int)Math.Min(Math.Min(remaining, 1 << 16), Visited.Room / Math.Max(1, _model.MaxSteps));

    const int SlicesPerThread = 8;

    void Expand(TState[] frontier, long frontierStart, int pos, int round, Slice[] slices, int threads)
    {
        int used = Math.Min(slices.Length, Math.Max(1, round / 256));
        int per = (round + used - 1) / used;
        for (int t = 0; t < slices.Length; t++) slices[t].Reset(per);
        if (used == 1) { ExpandSlice(frontier, frontierStart, pos, pos + round, slices[0]); return; }
        Parallel.For(0, used, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
        {
            int from = pos + t * per, to = Math.Min(pos + round, from + per);
            if (from < to) ExpandSlice(frontier, frontierStart, from, to, slices[t]);
        });
    }

    void ExpandSlice(TState[] frontier, long frontierStart, int from, int to, Slice sl)
    {
        var model = _model;
        Span<TStep> steps = model.MaxSteps <= 512 ? stackalloc TStep[model.MaxSteps] : new TStep[model.MaxSteps];
        Span<byte> perm = stackalloc byte[AmpleSets.MaxAgents];
        Span<int> order = _reducer is null ? default : model.MaxSteps <= 512 ? stackalloc int[model.MaxSteps] : new int[model.MaxSteps];
        bool deadlocks = _o.CheckDeadlock;
        for (int i = from; i < to; i++)
        {
            ref readonly TState state = ref frontier[i];
            int n = model.Enabled(state, steps);
            if (n == 0 && deadlocks && !model.IsFinal(state))
            {
                // A deadlocked state is reported by its own path, rebuilt from the links.
                sl.Found = -2; sl.FoundId = frontierStart + i;
                return;
            }
            // Partial-order reduction: the ample steps first (ordinals in `order`); the rest only
            // if the proviso fails, i.e. an ample successor was visited before (AmpleSets, C3).
            int m = _reducer is null ? n : _reducer.Select(state, steps[..n], order);
            bool full = m == n;
            int before = sl.Count;
            for (int j = 0; j < n; j++)
            {
                if (j == m && !full) { sl.Reduced++; sl.Skipped += n - m; break; }
                int k = full && m == n ? j : Ordinal(order, m, n, j);
                sl.Transitions++;
                var succ = state;
                model.Apply(ref succ, steps[k]);
                _symmetry?.Canonicalize(ref succ, perm);
                if (!AddVisited(succ)) { full |= j < m; continue; }
                int bad = model.Violated(succ);
                if (bad >= 0)
                {
                    sl.Found = bad; sl.FoundId = frontierStart + i; sl.FoundStep = k;
                    return;
                }
                sl.Push(succ, k);
            }
            sl.Expanded(sl.Count - before);
        }
    }

    /// <summary>The j-th step to expand: the m ample ordinals first, then the others in order.
    /// Writes the others after the ample ones in <paramref name="order"/> on first use.</summary>
    static int Ordinal(Span<int> order, int m, int n, int j)
    {
        if (j == m)
        {
            // fill order[m..n) with the ordinals not chosen, ascending
            Span<bool> taken = n <= 512 ? stackalloc bool[n] : new bool[n];
            for (int a = 0; a < m; a++) taken[order[a]] = true;
            int w = m;
            for (int k = 0; k < n; k++) if (!taken[k]) order[w++] = k;
        }
        return order[j];
    }

    /// <summary>The id of the first deadlocked state among frontier[from..to), or -1 (also when
    /// deadlocks are not checked). Run once, when a violation ends the search: the states of the
    /// level before <paramref name="from"/> were expanded, so had no deadlock.</summary>
    long FirstDeadlock(TState[] frontier, long frontierStart, int from, int to)
    {
        if (!_o.CheckDeadlock) return -1;
        var steps = new TStep[Math.Max(1, _model.MaxSteps)];
        for (int i = from; i < to; i++)
            if (_model.Enabled(frontier[i], steps) == 0 && !_model.IsFinal(frontier[i])) return frontierStart + i;
        return -1;
    }

    CheckResult<TState, TStep> Violation(in TState initial, int invariant, List<int> path)
    {
        var trace = Replay(initial, path);
        var last = trace.Count > 0 ? trace[^1].After : initial;
        return new()
        {
            Verdict = Verdict.Violated,
            StopReason = StopReason.Complete,
            Invariant = invariant,
            InvariantName = _model.Invariants[invariant],
            Explanation = _model.Explain(invariant, last),
            Initial = initial,
            Trace = trace,
            Stats = Stats(0, 0) with { Depth = trace.Count },
        };
    }

    CheckResult<TState, TStep> Deadlock(in TState initial, List<int> path)
    {
        var trace = Replay(initial, path);
        return new()
        {
            Verdict = Verdict.Deadlock,
            StopReason = StopReason.Complete,
            Initial = initial,
            Trace = trace,
            Stats = Stats(0, 0) with { Depth = trace.Count },
        };
    }

    CheckResult<TState, TStep> Finished(in TState initial, StopReason why, long queue) => new()
    {
        Verdict = why is StopReason.Complete or StopReason.DepthBound ? Verdict.Holds : Verdict.Bounded,
        StopReason = why,
        Initial = initial,
        Stats = Stats(queue, 0),
    };

    /// <summary>Replays step ordinals from the initial state, recording labels, states and diffs.
    /// Under symmetry the ordinals index the canonical states' steps: each is renamed back to the
    /// real vCPUs (canonical = perm(real)), so the trace is a path of the model itself.</summary>
    List<TraceEntry<TState, TStep>> Replay(TState state, List<int> path)
    {
        var trace = new List<TraceEntry<TState, TStep>>(path.Count);
        var steps = new TStep[Math.Max(1, _model.MaxSteps)];
        int agents = _symmetry?.Agents ?? 0;
        byte[] perm = Enumerable.Range(0, agents).Select(i => (byte)i).ToArray(), inverse = new byte[agents], next = new byte[agents];
        var canonical = state;
        foreach (int ordinal in path)
        {
            int n = _model.Enabled(canonical, steps);
            if (ordinal >= n) throw new InvalidOperationException($"replay diverged: step {ordinal} of {n}; the model is not deterministic");
            var step = steps[ordinal];
            if (_symmetry is not null)
            {
                for (int i = 0; i < agents; i++) inverse[perm[i]] = (byte)i;
                _model.Apply(ref canonical, step);
                _symmetry.Canonicalize(ref canonical, next);
                step = _symmetry.Permute(step, inverse);
                for (int i = 0; i < agents; i++) perm[i] = next[perm[i]];
            }
            var before = state;
            _model.Apply(ref state, step);
            if (_symmetry is null) canonical = state;
            trace.Add(new(step, _model.Label(step), state, _model.Diff(before, state)));
        }
        return trace;
    }

    Statistics Stats(long queue, long frontierStates)
    {
        long states = _links.Count;
        double secs = _clock.Elapsed.TotalSeconds;
        long generated = _transitions;
        return new()
        {
            States = states,
            Transitions = _transitions,
            ReducedStates = _reduced,
            SkippedSteps = _skipped,
            Reduction = (_reducer, _symmetry) switch
            {
                (null, null) => null,
                (_, null) => "partial-order (ample sets)",
                (null, _) => "symmetry (interchangeable agents)",
                _ => "partial-order (ample sets), symmetry (interchangeable agents)",
            },
            Depth = _depth,
            Queue = queue,
            Seconds = secs,
            BytesPerState = states == 0 ? 0 : (double)(Visited.Bytes + _links.Bytes) / states,
            FrontierBytes = frontierStates * Unsafe.SizeOf<TState>(),
            // TLC's optimistic estimate: each of the (generated - distinct) hits on a known
            // fingerprint could have been a different state, each with chance distinct / 2^64.
            CollisionProbability = _exact is not null ? 0 : (double)states * Math.Max(0, generated - states) / Math.Pow(2, 64),
        };
    }
}

/// <summary>Entry point with type inference: <c>Checker.Run&lt;M, S, T&gt;(model, options)</c>.</summary>
public static class Checker
{
    public static CheckResult<TState, TStep> Run<TModel, TState, TStep>(TModel model, CheckOptions? options = null)
        where TModel : struct, IModel<TState, TStep> where TState : unmanaged where TStep : unmanaged =>
        new Checker<TModel, TState, TStep>(model, options).Run();
}
