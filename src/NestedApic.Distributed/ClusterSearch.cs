using System.Diagnostics;
using NestedApic.Checking;
using Orleans.Runtime;
using Orleans.Runtime.Placement;

namespace NestedApic.Distributed;

/// <summary>How a cluster search is bounded and paced.</summary>
public sealed record ClusterSearchOptions
{
    public int MaxDepth { get; init; } = int.MaxValue;
    public long MaxStates { get; init; } = long.MaxValue;
    /// <summary>Bytes each silo process may hold (its working set), checked while it expands.</summary>
    public long MemoryBudgetPerSilo { get; init; } = CheckOptions.DefaultMemoryBudget();
    public bool Exact { get; init; }
    public bool CheckDeadlock { get; init; }
    public int PartitionsPerSilo { get; init; } = 2;
    /// <summary>Wait for this many active silos before starting.</summary>
    public int Silos { get; init; } = 1;
    public TimeSpan SiloWait { get; init; } = TimeSpan.FromSeconds(60);
    /// <summary>A partition that hears nothing from the client this long drops its states.</summary>
    public int LeaseSeconds { get; init; } = 60;
    public CancellationToken Cancel { get; init; }
    /// <summary>One line per level ("depth 3: 1,234 states ...").</summary>
    public Action<string>? Progress { get; init; }
    /// <summary>Checked every half second while waiting on the cluster: a line naming a lost
    /// member (e.g. a silo process that exited), or null.</summary>
    public Func<string?>? Liveness { get; init; }
}

/// <summary>What the cluster did, for the bench: traffic, levels and memory per silo.</summary>
public sealed record ClusterStats
{
    public int Silos { get; init; }
    public int Partitions { get; init; }
    public int Levels { get; init; }
    public long BytesSent { get; init; }
    public long Messages { get; init; }
    /// <summary>Peak working set of each silo process seen at the ends of levels.</summary>
    public IReadOnlyDictionary<string, long> PeakWorkingSet { get; init; } = new Dictionary<string, long>();
}

/// <summary>
/// The coordinator of a hash-partitioned, level-synchronous breadth-first search on an Orleans
/// cluster (after Stern and Dill's parallel Murphi). Each level: every partition expands the
/// frontier it owns and sends each successor to the partition owning its fingerprint, which
/// deduplicates it and keeps it for the next level; then every partition reports what it
/// received. The search stops at the first level with a violation, so traces stay shortest, and
/// the trace is rebuilt from parent references (partition, index) and replayed here. Partitions
/// keep, for each state, the parent of its least path (see PartitionEngine), so verdicts, the
/// broken property and the trace itself are the local engine's, and so are state counts; at a
/// violation the count is the states
/// of the levels before it (at a deadlock, up to its level), which the local engine reports too
/// when it expanded that level in one round (it stops mid-level, after the rounds before).
/// </summary>
public sealed class ClusterSearch<TModel, TState, TStep>
    where TModel : struct, IModel<TState, TStep>
    where TState : unmanaged
    where TStep : unmanaged
{
    readonly IGrainFactory _grains;
    readonly ModelSpec _spec;
    readonly TModel _model;
    readonly ClusterSearchOptions _o;
    readonly Stopwatch _clock = new();
    IPartitionGrain[] _parts = [];
    PartitionPlace[] _places = [];
    SiloAddress[] _silos = [];
    long _states, _transitions, _bytesSent, _messages, _structBytes;
    int _depth;
    readonly Dictionary<string, long> _peak = [];

    public ClusterSearch(IGrainFactory grains, ModelSpec spec, TModel model, ClusterSearchOptions? options = null)
    {
        _grains = grains; _spec = spec; _model = model; _o = options ?? new ClusterSearchOptions();
    }

    public ClusterStats ClusterStats => new()
    {
        Silos = _silos.Length, Partitions = _parts.Length, Levels = _depth + 1, BytesSent = _bytesSent, Messages = _messages,
        PeakWorkingSet = new Dictionary<string, long>(_peak),
    };

    public async Task<CheckResult<TState, TStep>> Run()
    {
        _clock.Start();
        var initial = _model.Initial();
        _states = 1;
        int bad = _model.Violated(initial);
        if (bad >= 0) return Violation(initial, bad, []);

        try
        {
            await Start();
            long frontier = 1;
            while (frontier > 0)
            {
                if (_depth >= _o.MaxDepth) return Finished(initial, StopReason.DepthBound, frontier);
                if (_o.Cancel.IsCancellationRequested) return Finished(initial, StopReason.Cancelled, frontier);
                var expanded = await All("expanding", p => p.Expand());
                foreach (var e in expanded) { _transitions += e.Transitions; _bytesSent += e.BytesSent; _messages += e.Messages; }
                int dead = Least(expanded.Select(e => e.DeadlockPath).ToArray());
                if (dead >= 0) return Deadlock(initial, await PathTo(dead, expanded[dead].Deadlock));
                var levels = await All("collecting", p => p.EndLevel());
                _structBytes = levels.Sum(l => l.Bytes);
                foreach (var l in levels) _peak[l.Silo] = Math.Max(_peak.GetValueOrDefault(l.Silo), l.WorkingSet);
                if (expanded.Any(e => e.OverBudget)) return Finished(initial, StopReason.MemoryBudget, frontier);
                int broken = Least(levels.Select(l => l.ViolationPath).ToArray());
                if (broken >= 0)
                {
                    var path = await PathTo(broken, levels[broken].Violation);
                    return Violation(initial, levels[broken].Invariant, path);
                }
                frontier = levels.Sum(l => l.NewStates);
                _states += frontier;
                if (frontier > 0) _depth++;
                _o.Progress?.Invoke($"depth {_depth}: {_states:N0} states, {frontier:N0} new, {_messages:N0} messages, {_bytesSent:N0} bytes sent, {_clock.Elapsed.TotalSeconds:F1} s");
                if (_states > _o.MaxStates) return Finished(initial, StopReason.StateBound, frontier);
            }
            return Finished(initial, StopReason.Complete, 0);
        }
        finally { await StopAll(); }
    }

    /// <summary>The partition whose path is least (as the local engine meets them), or -1.</summary>
    static int Least(byte[]?[] paths)
    {
        int best = -1;
        for (int i = 0; i < paths.Length; i++)
            if (paths[i] is { } p && (best < 0 || p.AsSpan().SequenceCompareTo(paths[best]) < 0)) best = i;
        return best;
    }

    async Task Start()
    {
        var management = _grains.GetGrain<IManagementGrain>(0);
        var deadline = DateTime.UtcNow + _o.SiloWait;
        while (true)
        {
            _silos = (await management.GetHosts(onlyActive: true)).Keys.OrderBy(s => s.ToString(), StringComparer.Ordinal).ToArray();
            if (_silos.Length >= _o.Silos) break;
            if (DateTime.UtcNow > deadline)
                throw new ClusterLostException($"cluster: {_silos.Length} active silo(s) after {_o.SiloWait.TotalSeconds:0} s, {_o.Silos} wanted");
            await Task.Delay(250, _o.Cancel);
        }
        int partitions = _silos.Length * Math.Max(1, _o.PartitionsPerSilo);
        var job = new JobSpec(Guid.NewGuid().ToString("N"), _spec, partitions, _o.Exact, _o.CheckDeadlock, _o.MemoryBudgetPerSilo, _o.LeaseSeconds);
        _parts = Enumerable.Range(0, partitions).Select(i => _grains.GetGrain<IPartitionGrain>(PartitionGrain.Key(job.JobId, i))).ToArray();
        // Partition i is placed on silo i mod S: a placement hint in the request context of its first call.
        var starts = new Task<PartitionPlace>[partitions];
        for (int i = 0; i < partitions; i++)
        {
            RequestContext.Set(IPlacementDirector.PlacementHintKey, _silos[i % _silos.Length]);
            starts[i] = _parts[i].Start(job, i);
        }
        RequestContext.Remove(IPlacementDirector.PlacementHintKey);
        _places = new PartitionPlace[partitions];
        _places = await Guard("starting", starts);
    }

    Task<T[]> All<T>(string phase, Func<IPartitionGrain, Task<T>> call) => Guard(phase, _parts.Select(call).ToArray());

    /// <summary>Waits for one call per partition while watching the members: a silo that leaves,
    /// a process that exits, or a failed call ends the run with one line naming what was lost.</summary>
    async Task<T[]> Guard<T>(string phase, Task<T>[] calls)
    {
        var all = Task.WhenAll(calls);
        var lastBeat = DateTime.UtcNow;
        int unanswered = 0;
        while (true)
        {
            var done = await Task.WhenAny(all, Task.Delay(500));
            if (done == all) break;
            if (_o.Liveness?.Invoke() is { } lost) throw Lost(phase, lost, null);
            if (DateTime.UtcNow - lastBeat > TimeSpan.FromSeconds(2))
            {
                lastBeat = DateTime.UtcNow;
                // Membership may be unreachable for a moment while the client changes gateway.
                var hosts = await ActiveHosts();
                if (hosts is null && ++unanswered >= 4) throw Lost(phase, "lost contact with the cluster (membership unanswered for 8 s)", null);
                if (hosts is not null) unanswered = 0;
                if (hosts is not null && Missing(hosts) is { } gone) throw Lost(phase, gone, null);
                foreach (var p in _parts) _ = p.Heartbeat().ContinueWith(t => t.Exception, TaskScheduler.Default);
            }
        }
        if (!all.IsFaulted) return all.Result;
        int failed = Array.FindIndex(calls, c => c.IsFaulted);
        var error = calls[failed].Exception!.GetBaseException();
        // A call fails as soon as a connection drops, before membership has declared the silo
        // dead; the failed call may even be to a live silo through the dead one (the client's
        // gateway). So ask membership for up to 10 s which silo it was.
        for (int wait = 0; wait < 20; wait++)
        {
            if (await ActiveHosts() is { } hosts && Missing(hosts) is { } missing) throw Lost(phase, missing, error);
            if (!Unreachable(error)) break;
            await Task.Delay(500);
        }
        if (_places.Length <= failed || _places[failed] is not { } place) throw Lost(phase, $"partition {failed} failed: {Short(error)}", error);
        string silo = $"silo {place.Silo} (pid {place.ProcessId}, partitions {string.Join(", ", Held(place.Silo))})";
        throw Lost(phase, Unreachable(error) ? $"lost {silo}: {Short(error)}" : $"partition {failed} on {silo} failed: {Short(error)}", error);
    }

    ClusterLostException Lost(string phase, string what, Exception? inner) =>
        new($"cluster: {what}; stopped while {phase} depth {_depth} after {_states:N0} states, no verdict", inner);

    /// <summary>Errors that say the other end is gone, not that it failed.</summary>
    static bool Unreachable(Exception e) =>
        e is SiloUnavailableException or OrleansMessageRejectionException or TimeoutException || e.GetType().Name.Contains("Connection");

    /// <summary>An exception's first sentence, without Orleans' inner stack traces.</summary>
    static string Short(Exception e)
    {
        string m = e.Message.ReplaceLineEndings(" ");
        int cut = m.IndexOf("   at ", StringComparison.Ordinal);
        if (cut > 0) m = m[..cut];
        m = m.Trim();
        return m.Length > 160 ? m[..160] + "..." : m;
    }

    IEnumerable<int> Held(string silo) => Enumerable.Range(0, _places.Length).Where(i => _places[i]?.Silo == silo);

    /// <summary>The silos membership lists as active; null when it does not answer.</summary>
    async Task<Dictionary<SiloAddress, SiloStatus>?> ActiveHosts()
    {
        try { return await _grains.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true).WaitAsync(TimeSpan.FromSeconds(5)); }
        catch (Exception) { return null; }
    }

    /// <summary>A silo of this search that is not among <paramref name="hosts"/>, with its partitions.</summary>
    string? Missing(Dictionary<SiloAddress, SiloStatus> hosts)
    {
        foreach (var silo in _silos)
        {
            if (hosts.ContainsKey(silo)) continue;
            var first = Array.Find(_places, p => p?.Silo == silo.ToString());
            string pid = first is null ? "" : $"pid {first.ProcessId}, ";
            return $"lost silo {silo} ({pid}partitions {string.Join(", ", Held(silo.ToString()))}): membership declared it dead";
        }
        return null;
    }

    async Task StopAll()
    {
        try { await Task.WhenAll(_parts.Select(p => p.Stop())).WaitAsync(TimeSpan.FromSeconds(5)); }
        catch (Exception) { /* a lost or slow partition drops its states when its lease runs out */ }
    }

    /// <summary>Step ordinals from the initial state to (partition, index), walking parent references.</summary>
    async Task<List<int>> PathTo(int partition, int index)
    {
        var path = new List<int>();
        while (true)
        {
            var p = (await Guard("rebuilding the trace at", [_parts[partition].Parent(index)]))[0];
            if (p.Partition < 0) break;
            path.Add(p.Step);
            (partition, index) = (p.Partition, p.Index);
        }
        path.Reverse();
        return path;
    }

    CheckResult<TState, TStep> Violation(in TState initial, int invariant, List<int> path) =>
        CheckResult<TState, TStep>.Violation(_model, initial, invariant, Replay(initial, path), Stats(0));

    CheckResult<TState, TStep> Deadlock(in TState initial, List<int> path) =>
        CheckResult<TState, TStep>.Deadlock(initial, Replay(initial, path), Stats(0));

    CheckResult<TState, TStep> Finished(in TState initial, StopReason why, long queue) =>
        CheckResult<TState, TStep>.Finished(initial, why, Stats(queue));

    /// <summary>Replays step ordinals from the initial state, as the local engine does.</summary>
    List<TraceEntry<TState, TStep>> Replay(TState state, List<int> path)
    {
        var trace = new List<TraceEntry<TState, TStep>>(path.Count);
        var steps = new TStep[Math.Max(1, _model.MaxSteps)];
        foreach (int ordinal in path)
        {
            int n = _model.Enabled(state, steps);
            if (ordinal >= n) throw new InvalidOperationException($"replay diverged: step {ordinal} of {n}; the silos' model differs from the client's");
            var before = state;
            _model.Apply(ref state, steps[ordinal]);
            trace.Add(new(steps[ordinal], _model.Label(steps[ordinal]), state, _model.Diff(before, state)));
        }
        return trace;
    }

    /// <summary>The cluster's figures in the local engine's terms: peak memory is the silos'
    /// peaks added up, the budget a silo's.</summary>
    Statistics Stats(long queue) => new()
    {
        States = _states,
        Transitions = _transitions,
        Depth = _depth,
        Queue = queue,
        Seconds = _clock.Elapsed.TotalSeconds,
        PeakMemoryBytes = _peak.Values.Sum(),
        BytesPerState = _states == 0 ? 0 : (double)_peak.Values.Sum() / _states,
        MemoryBudgetBytes = _o.MemoryBudgetPerSilo,
        StoreBytes = _structBytes,
        CollisionProbability = _o.Exact ? 0 : (double)_states * Math.Max(0, _transitions - _states) / Math.Pow(2, 64),
    };
}

/// <summary>Entry point with type inference.</summary>
public static class ClusterSearch
{
    public static Task<CheckResult<TState, TStep>> Run<TModel, TState, TStep>(IGrainFactory grains, ModelSpec spec, TModel model, ClusterSearchOptions? options = null)
        where TModel : struct, IModel<TState, TStep> where TState : unmanaged where TStep : unmanaged =>
        new ClusterSearch<TModel, TState, TStep>(grains, spec, model, options).Run();
}
