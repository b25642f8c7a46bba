using System.Diagnostics;
using NestedApic.Checking.Reduction;

namespace NestedApic.Checking;

/// <summary>
/// Breadth-first explicit-state search over a model, level by level, so the error reported is at
/// the smallest depth, violation or deadlock (a deadlock met while expanding depth d wins over a
/// violation at d + 1 found earlier in that level), and its trace is a shortest one. States are stored compressed
/// (<see cref="StateStore{TState}"/>): the visited set and the frontier hold 64-bit keys, and a
/// state is decoded before it is expanded. A level is expanded in rounds; in a round the threads
/// take slices of the frontier (more slices than threads, handed out as threads free up) and look
/// each successor up in the visited set without writing it; those not found (candidates) are then
/// inserted one partition of the set's shards a thread, in parent order, so the smallest parent
/// wins each new state with no atomic operation; then each slice keeps, in parallel, the
/// successors it won. One thread inserts as it expands. Between rounds the coordinator only
/// appends the kept keys and the parent links, grows the component tables and checks bounds; the
/// visited set's new shard arrays are rehashed by the threads of the next expansion, as work
/// items between its slices (the set is only read then). State ids, links and traces are the
/// same on any number of threads.
/// </summary>
public sealed partial class Checker<TModel, TState, TStep>
    where TModel : struct, IModel<TState, TStep>
    where TState : unmanaged
    where TStep : unmanaged
{
    readonly TModel _model;
    readonly CheckOptions _o;
    readonly StateStore<TState> _store;
    readonly RootSet _root = new();
    readonly ParentLinks _links = new();
    readonly List<long> _levels = [1];
    long _transitions, _reduced, _skipped, _chained;
    /// <summary>Partial-order reduction, when on and the model declares footprints.</summary>
    readonly Reducer<TState, TStep>? _reducer;
    /// <summary>Single-step chains (Chain): on with the partial-order reduction unless turned off
    /// or the model says they do not pay.</summary>
    readonly bool _chain;
    /// <summary>Symmetry reduction, when on and the model declares its agents interchangeable.</summary>
    readonly Symmetry<TState, TStep>? _symmetry;
    int _depth;
    long _baseline, _lastRoundBytes, _garbage, _resident, _accountedThen;
    readonly Stopwatch _clock = new();
    Frontier<ulong> _frontier = new(), _next = new();
    /// <summary>With chains, each frontier state's depth in steps: its chains
    /// make it deeper than its level (see Chain), and the depth bound counts steps.</summary>
    Frontier<int> _depthsNow = new(), _depthsNext = new();
    /// <summary>A state at the depth bound was left unexpanded (chains reach it before the bound's level).</summary>
    bool _boundHit;
    /// <summary>With chains, the largest depth in steps of a stored state (the report's depth).</summary>
    int _deepest;
    /// <summary>A violation at the next depth found in this level: reported once the rest of the
    /// level has been searched for deadlocks, which are one step shallower.</summary>
    (uint Parent, int Step, int Invariant)? _pending;

    public Checker(TModel model, CheckOptions? options = null)
    {
        _model = model;
        _o = options ?? new CheckOptions();
        var layout = model.Layout;
        _store = new StateStore<TState>(layout, Regroup.Order<TModel, TState, TStep>(model, layout));
        if (_o.Reduce) _reducer = Reducer<TState, TStep>.For(model);
        _chain = _reducer is not null && _o.Chain && _reducer.Chains;
        if (_o.Symmetry) _symmetry = Symmetry<TState, TStep>.For(model);
    }

    const int SlicesPerThread = 16;

    /// <summary>The partitions of the visited set's shards that threads insert a round's
    /// candidates by: one a thread.</summary>
    static int Parts(int threads) => Math.Min(threads, RootSet.Shards);

    public CheckResult<TState, TStep> Run()
    {
        using var pool = new WorkerPool(Math.Max(1, _o.Threads));
        _pool = pool;
        return Search();
    }

    /// <summary>The steps from the initial state to state <paramref name="id"/> (ids in the order
    /// the search stored them), after <see cref="Run"/>: for tests that compare every state's
    /// owner on 1 and N threads.</summary>
    internal List<int> PathTo(long id) => _links.PathTo(id);

    /// <summary>The threads of this search (the caller among them).</summary>
    WorkerPool _pool = null!;

    CheckResult<TState, TStep> Search()
    {
        _baseline = Memory.WorkingSet;
        _reserve = Memory.Reserve();
        SampleResident();
        _clock.Start();
        var initial = _model.Initial();
        var idx = new int[_store.IndexCount];
        var blocks = new IndexBlock[_store.TableCount + RootSet.Shards];
        ulong key = _store.EncodeFresh(initial, idx, blocks);
        _root.AddInOrder(key, blocks.AsSpan(_store.TableCount));
        _links.AddRoot();
        _frontier.Append([key]);
        if (_chain) _depthsNow.Append([0]);
        int bad = _model.Violated(initial);
        if (bad >= 0) return Violation(initial, bad, []);

        int threads = Math.Max(1, _o.Threads);
        int roundParents = threads > 1 && _reducer is null ? Checker.WideRoundParents : Checker.RoundParents;
        var slices = Enumerable.Range(0, threads == 1 ? 1 : threads * SlicesPerThread).Select(_ => new Slice(_store, Parts(threads))).ToArray();
        _scratch = Enumerable.Range(0, threads).Select(_ => new Scratch(_store.IndexCount)).ToArray();
        long frontierStart = 0; // id of the frontier's first state
        var lastProgress = TimeSpan.Zero;

        while (_frontier.Count > 0)
        {
            if (_depth >= _o.MaxDepth) return Finished(initial, StopReason.DepthBound, _frontier.Count);
            long pos = 0;
            while (pos < _frontier.Count)
            {
                if (_o.Cancel.IsCancellationRequested) return Finished(initial, StopReason.Cancelled, _frontier.Count - pos + _next.Count);
                SampleResident(always: false);
                if (!GrowTables(rootLater: threads > 1)) return Finished(initial, MemoryStop, _frontier.Count - pos + _next.Count);
                // State ids are 32-bit: a round of r parents adds at most r * MaxSteps states.
                int round = (int)Math.Min(Math.Min(_frontier.Count - pos, roundParents), (uint.MaxValue - _links.Count) / MaxSteps);
                if (round == 0) return Finished(initial, StopReason.StateBound, _frontier.Count - pos + _next.Count);
                if (!Affordable(RoundBytes(round))) return Finished(initial, MemoryStop, _frontier.Count - pos + _next.Count);
                long before = Accounted();
                if (!ExpandRound(slices, threads, frontierStart, pos, round)) return Finished(initial, MemoryStop, _frontier.Count - pos + _next.Count);
                pos += round;
                foreach (var s in slices)
                    if (s.Deadlock >= 0) return Deadlock(initial, _links.PathTo(frontierStart + s.Deadlock));
                if (_pending is null) _pending = FirstViolation(slices, frontierStart + pos - round);
                if (_pending is { } p && !_o.CheckDeadlock) return PendingViolation(initial, p);
                if (_pending is null && !Merge(slices)) return Finished(initial, MemoryStop, _frontier.Count - pos + _next.Count);
                _frontier.Release(pos);
                _depthsNow.Release(pos);
                _lastRoundBytes = Math.Max(0, Accounted() - before);
                if (_links.Count > _o.MaxStates && _pending is null) return Finished(initial, StopReason.StateBound, _frontier.Count - pos + _next.Count);
                if (_o.Progress is not null && _clock.Elapsed - lastProgress >= _o.ProgressInterval)
                {
                    lastProgress = _clock.Elapsed;
                    _o.Progress(Stats(_frontier.Count - pos + _next.Count, _frontier.Count + _next.Count));
                }
            }
            if (_pending is { } v) return PendingViolation(initial, v);
            frontierStart += _frontier.Count;
            (_frontier, _next) = (_next, new Frontier<ulong>());
            (_depthsNow, _depthsNext) = (_depthsNext, new Frontier<int>());
            if (_frontier.Count > 0)
            {
                _levels.Add(_frontier.Count);
                _depth++;
            }
        }
        return Finished(initial, _boundHit ? StopReason.DepthBound : StopReason.Complete, 0);
    }

    StopReason MemoryStop => _machineLow ? StopReason.MachineMemory : StopReason.MemoryBudget;

    /// <summary>What the search's own structures hold, in bytes.</summary>
    long Accounted() => _root.Bytes + _store.Bytes + _links.Bytes + _frontier.Bytes + _next.Bytes + _depthsNow.Bytes + _depthsNext.Bytes;

    /// <summary>Whether <paramref name="extra"/> more bytes stay within the budget: the larger of
    /// our accounting (plus what the process held before the search) and the resident set, so the
    /// budget stops the search before the kernel's OOM killer would.</summary>
    bool Affordable(long extra)
    {
        long grown = Accounted() - _accountedThen;
        if (Math.Max(Accounted() + _baseline, _resident + grown) + extra > _o.MemoryBudgetBytes) return false;
        if (_available == long.MaxValue || _available - (Accounted() - _availableThen) - extra >= _reserve) return true;
        _machineLow = true;
        return false;
    }

    /// <summary>MemAvailable at the last sample, the reserve to keep, and whether the search
    /// stopped for want of it (the budget is fixed at the start; other processes may grow).</summary>
    long _available = long.MaxValue, _availableThen, _reserve;
    bool _machineLow;
    int _samples;

    /// <summary>Reads the resident set (a /proc read) before a round once the accounting has grown
    /// by an eighth of the room left under the budget (at least a MiB) since the last read, or
    /// every 16th round; in between, the accounting's growth since the read is added to it. Far
    /// from the budget that is a read every 16 rounds, near it one a round. (A read per round cost
    /// more than a small model's whole level, and its code was compiled again mid-search.)</summary>
    void SampleResident(bool always = true)
    {
        long grown = Accounted() - _accountedThen;
        long room = _o.MemoryBudgetBytes - Math.Max(Accounted() + _baseline, _resident + grown);
        if (_available != long.MaxValue) room = Math.Min(room, _available - (Accounted() - _availableThen) - _reserve);
        if (!always && grown < Math.Max(1L << 20, room / 8) && (_samples & 15) != 0)
        {
            _samples++;
            return;
        }
        _resident = Memory.WorkingSet;
        _accountedThen = Accounted();
        // A /proc read: every 16th round is often enough (a round adds a few MiB at most).
        if ((_samples++ & 15) == 0)
        {
            _available = _o.AvailableMemory() ?? long.MaxValue;
            _availableThen = _accountedThen;
        }
    }

    /// <summary>A round's likely growth: twice the last round's, plus room for its keys.</summary>
    long RoundBytes(int round) => 2 * _lastRoundBytes + _next.AppendBytes(round) + (1L << 20);

    /// <summary>Grows the tables near their target load. With <paramref name="rootLater"/> the
    /// visited set's shards are only allocated: the round's threads rehash them while they
    /// expand (the set is only read then), instead of one thread while the others wait.</summary>
    bool GrowTables(bool rootLater = false)
    {
        long root = _root.GrowAsNeeded(Affordable, later: rootLater), store = root < 0 ? -1 : _store.GrowAsNeeded(Affordable, _pool);
        if (root < 0 || store < 0) return false;
        if (_root.PendingGrowth > 0) (_rootFreed, root) = (root, 0);
        // Give the old arrays back before they pile up: the resident set is what the budget
        // checks and what the report calls peak memory.
        _garbage += root + store;
        if (_garbage > Math.Max(8L << 20, Accounted() / 16))
        {
            GC.Collect(2, GCCollectionMode.Forced, blocking: true);
            _garbage = 0;
            SampleResident();
        }
        return true;
    }

    /// <summary>The bytes a pending growth of the visited set lets go once filled.</summary>
    long _rootFreed;

    /// <summary>The most successors of one state (Enabled's bound).</summary>
    int MaxSteps => Math.Max(1, _model.MaxSteps);

    /// <summary>The steps the search takes from <paramref name="state"/>: the enabled steps. A
    /// partial-order reduction narrows them to an ample subset here; expansion and trace replay
    /// both call this, so step ordinals stay consistent.</summary>
    int Successors(in TState state, Span<TStep> steps) => _model.Enabled(state, steps);

    /// <summary>Appends the kept successors of a round's slices, in slice order, to the next level
    /// and their links to the parent links.</summary>
    bool Merge(Slice[] slices)
    {
        foreach (var sl in slices)
        {
            if (sl.To == sl.From) continue;
            if (!Affordable(_next.AppendBytes(sl.Kept))) return false;
            _next.Append(sl.Keys.AsSpan(0, sl.Kept));
            _links.Add(sl.Counts.AsSpan(0, sl.To - sl.From), sl.StepBytes.AsSpan(0, sl.Kept), sl.BigCounts, sl.BigSteps);
            if (!_chain) continue;
            _depthsNext.Append(sl.Depths.AsSpan(0, sl.Kept));
            foreach (int d in sl.Depths.AsSpan(0, sl.Kept)) _deepest = Math.Max(_deepest, d);
        }
        return true;
    }

    /// <summary>The violation with the smallest (parent, step) among those the round's inserts
    /// found: each state's owner is final once the round is over.</summary>
    (uint Parent, int Step, int Invariant)? FirstViolation(Slice[] slices, long roundStart)
    {
        (uint Parent, int Step, int Invariant)? best = null;
        foreach (var sl in slices)
        {
            if (sl.ViolationKey == 0) continue;
            var (local, step) = Owner(slices, sl.ViolationKey);
            uint owner = (uint)(roundStart + local);
            if (best is not { } b || owner < b.Parent || owner == b.Parent && step < b.Step) best = (owner, step, sl.ViolationInvariant);
        }
        return best;
    }

    /// <summary>The parent (relative to the round) that kept <paramref name="key"/>, and its step:
    /// the first to keep it in slice order (a key is kept once).</summary>
    static (int Parent, int Step) Owner(Slice[] slices, ulong key)
    {
        foreach (var s in slices)
            for (int c = 0; c < s.Kept; c++)
                if (s.Keys[c] == key) return (s.Parents[c], s.Steps[c]);
        throw new InvalidOperationException("no slice kept a violating state");
    }

    CheckResult<TState, TStep> PendingViolation(in TState initial, (uint Parent, int Step, int Invariant) v)
    {
        var path = _links.PathTo(v.Parent);
        path.Add(v.Step);
        return Violation(initial, v.Invariant, path);
    }
}

/// <summary>Entry point with type inference: <c>Checker.Run&lt;M, S, T&gt;(model, options)</c>.</summary>
public static class Checker
{
    /// <summary>The parents a round expands at most. Under the partial-order reduction the same
    /// on any thread count: its cycle proviso asks whether a successor was stored by an earlier
    /// round, so the rounds decide the states stored. Without it the states, ids and traces do
    /// not depend on the rounds, and several threads take larger ones
    /// (<see cref="WideRoundParents"/>), which lose less to the barriers that end them (8 % less
    /// time on two threads, intel-wide); on one thread they only raised the peak, by a sixth
    /// (124 to 145 MiB on intel-wide, 169 to 203 MB on peterson).</summary>
    internal const int RoundParents = 1 << 14, WideRoundParents = 1 << 16;

    public static CheckResult<TState, TStep> Run<TModel, TState, TStep>(TModel model, CheckOptions? options = null)
        where TModel : struct, IModel<TState, TStep> where TState : unmanaged where TStep : unmanaged =>
        new Checker<TModel, TState, TStep>(model, options).Run();
}
