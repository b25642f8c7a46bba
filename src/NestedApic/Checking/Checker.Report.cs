namespace NestedApic.Checking;

public sealed partial class Checker<TModel, TState, TStep>
{
    CheckResult<TState, TStep> Violation(in TState initial, int invariant, List<int> path) =>
        CheckResult<TState, TStep>.Violation(_model, initial, invariant, Replay(initial, path), Stats(0, 0));

    CheckResult<TState, TStep> Deadlock(in TState initial, List<int> path) =>
        CheckResult<TState, TStep>.Deadlock(initial, Replay(initial, path), Stats(0, 0));

    CheckResult<TState, TStep> Finished(in TState initial, StopReason why, long queue) =>
        CheckResult<TState, TStep>.Finished(initial, why, Stats(queue, 0));

    /// <summary>Replays step ordinals from the initial state, recording labels, states and diffs.
    /// Each ordinal's step is followed by the chain the search took after it (Chain). Under
    /// symmetry the ordinals index the canonical states' steps: each is renamed back to the real
    /// agents (canonical = perm(real)), so the trace is a path of the model itself.</summary>
    List<TraceEntry<TState, TStep>> Replay(TState state, List<int> path)
    {
        var trace = new List<TraceEntry<TState, TStep>>(path.Count);
        var steps = new TStep[MaxSteps];
        var taken = new List<TStep>();
        int agents = _symmetry?.Agents ?? 0;
        byte[] perm = Enumerable.Range(0, agents).Select(i => (byte)i).ToArray(), inverse = new byte[agents], next = new byte[Math.Max(agents, 1)];
        var canonical = state;
        foreach (int ordinal in path)
        {
            int n = Successors(canonical, steps);
            if (ordinal >= n) throw new InvalidOperationException($"replay diverged: step {ordinal} of {n}; the model is not deterministic");
            taken.Clear();
            taken.Add(steps[ordinal]);
            _model.Apply(ref canonical, steps[ordinal]);
            if (_chain) Chain(ref canonical, steps, _o.MaxDepth - (trace.Count + 1), taken);
            if (_symmetry is not null)
            {
                for (int i = 0; i < agents; i++) inverse[perm[i]] = (byte)i;
                _symmetry.Canonicalize(ref canonical, next);
                for (int t = 0; t < taken.Count; t++) taken[t] = _symmetry.Permute(taken[t], inverse);
                for (int i = 0; i < agents; i++) perm[i] = next[perm[i]];
            }
            foreach (var step in taken)
            {
                var before = state;
                _model.Apply(ref state, step);
                trace.Add(new(step, _model.Label(step), state, _model.Diff(before, state)));
            }
            if (_symmetry is null) canonical = state;
        }
        return trace;
    }

    string PartialOrder => _chain ? "partial-order (ample sets, single-step chains)" : "partial-order (ample sets)";

    Statistics Stats(long queue, long frontierStates)
    {
        long states = _links.Count;
        long peak = Memory.PeakWorkingSet();
        return new()
        {
            States = states,
            Transitions = _transitions,
            ReducedStates = _reduced,
            SkippedSteps = _skipped,
            ChainedStates = _chained,
            Reduction = (_reducer, _symmetry) switch
            {
                (null, null) => null,
                (_, null) => PartialOrder,
                (null, _) => "symmetry (interchangeable agents)",
                _ => PartialOrder + ", symmetry (interchangeable agents)",
            },
            Depth = _chain ? Math.Max(_deepest, _depth) : _depth,
            Queue = queue,
            Seconds = _clock.Elapsed.TotalSeconds,
            PeakMemoryBytes = peak,
            MemoryBudgetBytes = _o.MemoryBudgetBytes,
            StoreBytes = Accounted(),
            BytesPerState = states == 0 ? 0 : (double)peak / states,
            FrontierBytes = frontierStates * sizeof(ulong),
            Levels = [.. _levels],
            // Stored states are exact (the key is the state): no collision can hide one.
            CollisionProbability = 0,
        };
    }
}
