using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace NestedApic.Checking;

/// <summary>
/// Breadth-first explicit-state search over a model, level by level, so the first violation found
/// is at the smallest depth and its trace is a shortest one. Each level is expanded in rounds; in
/// a round the threads take contiguous slices of the frontier and insert successors into the
/// lock-free visited set; between rounds the coordinator merges successors in slice order, grows
/// the table, checks bounds and reports progress.
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
    long _transitions;
    int _depth;
    readonly Stopwatch _clock = new();

    public Checker(TModel model, CheckOptions? options = null)
    {
        _model = model;
        _o = options ?? new CheckOptions();
        if (_o.Exact) _exact = new ExactSet<TState>();
        else _fingerprints = new FingerprintSet<TState>();
    }

    /// <summary>What one thread found in its slice of a round.</summary>
    sealed class Slice
    {
        public readonly List<TState> States = [];
        public readonly List<(long Parent, int Step)> Links = [];
        public long Transitions;
        /// <summary>First event in the slice: a violation (invariant ≥ 0) or a deadlock (-2).</summary>
        public int Found = -1;
        public long FoundParent;
        public int FoundStep;
        public TState FoundState;
        public void Reset() { States.Clear(); Links.Clear(); Transitions = 0; Found = -1; }
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
        _links.Add(0, 0);
        int bad = _model.Violated(initial);
        if (bad >= 0) return Violation(initial, bad, []);

        int threads = Math.Max(1, _o.Threads);
        var slices = Enumerable.Range(0, threads).Select(_ => new Slice()).ToArray();
        var frontier = new List<TState> { initial };
        long frontierStart = 0; // id of frontier[0]
        var next = new List<TState>();
        var lastProgress = TimeSpan.Zero;
        int stateSize = Unsafe.SizeOf<TState>();

        while (frontier.Count > 0)
        {
            if (_depth >= _o.MaxDepth) return Finished(initial, StopReason.DepthBound, frontier.Count);
            next.Clear();
            int pos = 0;
            while (pos < frontier.Count)
            {
                if (_o.Cancel.IsCancellationRequested) return Finished(initial, StopReason.Cancelled, frontier.Count - pos);
                int round = RoundSize(frontier.Count - pos);
                if (round == 0)
                {
                    if (MemoryUsed(frontier, next, slices) + Visited.GrowthBytes > _o.MemoryBudgetBytes) return Finished(initial, StopReason.MemoryBudget, frontier.Count - pos);
                    Visited.Grow();
                    continue;
                }
                Expand(frontier, frontierStart, pos, round, slices, threads);
                pos += round;
                // Merge in slice order: with one thread the ids and the trace are the same every run.
                long nextId = _links.Count;
                foreach (var sl in slices)
                {
                    _transitions += sl.Transitions;
                    if (sl.Found != -1)
                    {
                        var path = _links.PathTo(sl.FoundParent);
                        path.Add(sl.FoundStep);
                        return sl.Found >= 0 ? Violation(initial, sl.Found, path) : Deadlock(initial, path);
                    }
                    for (int i = 0; i < sl.States.Count; i++)
                    {
                        next.Add(sl.States[i]);
                        _links.Add(sl.Links[i].Parent, sl.Links[i].Step);
                    }
                }
                if (_links.Count > _o.MaxStates) return Finished(initial, StopReason.StateBound, frontier.Count - pos + next.Count);
                if (MemoryUsed(frontier, next, slices) + (long)next.Capacity * stateSize > _o.MemoryBudgetBytes) return Finished(initial, StopReason.MemoryBudget, frontier.Count - pos + next.Count);
                if (_o.Progress is not null && _clock.Elapsed - lastProgress >= _o.ProgressInterval)
                {
                    lastProgress = _clock.Elapsed;
                    _o.Progress(Stats(frontier.Count - pos + next.Count, frontier.Count + next.Count));
                }
            }
            frontierStart += frontier.Count;
            (frontier, next) = (next, frontier);
            if (frontier.Count > 0) _depth++;
        }
        return Finished(initial, StopReason.Complete, 0);
    }

    /// <summary>What the search holds now: the larger of our own accounting (list capacities, not
    /// counts: a list may double next) and the process's working set. Checked before every
    /// allocation that could push past the budget, so the budget stops the search, not the kernel.</summary>
    long MemoryUsed(List<TState> frontier, List<TState> next, Slice[] slices)
    {
        long states = frontier.Capacity + next.Capacity;
        long links = 0;
        foreach (var sl in slices) { states += sl.States.Capacity; links += sl.Links.Capacity; }
        long ours = Visited.Bytes + _links.Bytes + states * Unsafe.SizeOf<TState>() + links * 16;
        return Math.Max(ours, Environment.WorkingSet);
    }

    /// <summary>How many frontier states the next round may expand without the visited table
    /// passing its load limit (each may add MaxSteps states); 0 means grow first.</summary>
    int RoundSize(int remaining) =>
        (int)Math.Min(Math.Min(remaining, 1 << 16), Visited.Room / Math.Max(1, _model.MaxSteps));

    void Expand(List<TState> frontier, long frontierStart, int pos, int round, Slice[] slices, int threads)
    {
        int used = Math.Min(threads, Math.Max(1, round / 256));
        for (int t = 0; t < slices.Length; t++) slices[t].Reset();
        if (used == 1) { ExpandSlice(frontier, frontierStart, pos, pos + round, slices[0]); return; }
        int per = (round + used - 1) / used;
        Parallel.For(0, used, new ParallelOptions { MaxDegreeOfParallelism = used }, t =>
        {
            int from = pos + t * per, to = Math.Min(pos + round, from + per);
            if (from < to) ExpandSlice(frontier, frontierStart, from, to, slices[t]);
        });
    }

    void ExpandSlice(List<TState> frontier, long frontierStart, int from, int to, Slice sl)
    {
        var model = _model;
        Span<TStep> steps = model.MaxSteps <= 512 ? stackalloc TStep[model.MaxSteps] : new TStep[model.MaxSteps];
        for (int i = from; i < to && sl.Found == -1; i++)
        {
            var state = frontier[i];
            int n = model.Enabled(state, steps);
            sl.Transitions += n;
            if (n == 0 && _o.CheckDeadlock && !model.IsFinal(state))
            {
                // A deadlocked state is reported by its own path: its parent link, replayed.
                var (parent, step) = _links[frontierStart + i];
                if (frontierStart + i == 0) { sl.Found = -2; sl.FoundParent = 0; sl.FoundStep = -1; }
                else { sl.Found = -2; sl.FoundParent = parent; sl.FoundStep = step; }
                break;
            }
            for (int k = 0; k < n; k++)
            {
                var succ = state;
                model.Apply(ref succ, steps[k]);
                if (!AddVisited(succ)) continue;
                int bad = model.Violated(succ);
                if (bad >= 0)
                {
                    sl.Found = bad; sl.FoundParent = frontierStart + i; sl.FoundStep = k; sl.FoundState = succ;
                    break;
                }
                sl.States.Add(succ);
                sl.Links.Add((frontierStart + i, k));
            }
        }
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
        if (path.Count > 0 && path[^1] < 0) path.RemoveAt(path.Count - 1);
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

    /// <summary>Replays step ordinals from the initial state, recording labels, states and diffs.</summary>
    List<TraceEntry<TState, TStep>> Replay(TState state, List<int> path)
    {
        var trace = new List<TraceEntry<TState, TStep>>(path.Count);
        var steps = new TStep[Math.Max(1, _model.MaxSteps)];
        foreach (int ordinal in path)
        {
            int n = _model.Enabled(state, steps);
            if (ordinal >= n) throw new InvalidOperationException($"replay diverged: step {ordinal} of {n}; the model is not deterministic");
            var before = state;
            _model.Apply(ref state, steps[ordinal]);
            trace.Add(new(steps[ordinal], _model.Label(steps[ordinal]), state, _model.Diff(before, state)));
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
            Depth = _depth,
            Queue = queue,
            Seconds = secs,
            BytesPerState = states == 0 ? 0 : (double)(Visited.Bytes + states * (sizeof(int) + sizeof(ushort))) / states,
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
