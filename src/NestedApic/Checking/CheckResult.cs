namespace NestedApic.Checking;

public enum Verdict { Holds, Violated, Deadlock, Bounded }

/// <summary>Why the search stopped.</summary>
public enum StopReason
{
    Complete, DepthBound, StateBound, MemoryBudget, Cancelled,
    /// <summary>Other processes took the machine's memory: what the kernel says is available fell
    /// below a reserve before the budget was reached (the OOM killer would have been next).</summary>
    MachineMemory,
}

public sealed record CheckOptions
{
    /// <summary>Worker threads; all cores by default.</summary>
    public int Threads { get; init; } = Environment.ProcessorCount;
    /// <summary>States at this depth are not expanded.</summary>
    public int MaxDepth { get; init; } = int.MaxValue;
    public long MaxStates { get; init; } = long.MaxValue;
    /// <summary>Bytes the process may hold (its resident set) before the search stops with
    /// <see cref="StopReason.MemoryBudget"/>; by default <see cref="Memory.DefaultBudget"/>.</summary>
    public long MemoryBudgetBytes { get; init; } = DefaultMemoryBudget();
    /// <summary>Kept for callers of the fingerprint engine: storage is always exact now (a stored
    /// state is its compressed form, no fingerprint), so this changes nothing.</summary>
    public bool Exact { get; init; }
    /// <summary>Report a state with no enabled step that the model does not call final.</summary>
    public bool CheckDeadlock { get; init; }
    /// <summary>Partial-order reduction for models that declare footprints (Reduction/AmpleSets).</summary>
    public bool Reduce { get; init; }
    /// <summary>With <see cref="Reduce"/>: single-step chains (Checker.Chain) store only the
    /// states where a chain stops.</summary>
    public bool Chain { get; init; } = true;
    /// <summary>Symmetry reduction for models whose agents are interchangeable (Reduction/ISymmetricModel).</summary>
    public bool Symmetry { get; init; }
    /// <summary>Called between rounds, at most every <see cref="ProgressInterval"/>.</summary>
    public Action<Statistics>? Progress { get; init; }
    public TimeSpan ProgressInterval { get; init; } = TimeSpan.FromMilliseconds(250);
    public CancellationToken Cancel { get; init; }
    /// <summary>What the machine has available now (MemAvailable), read every few rounds; the
    /// search stops with <see cref="StopReason.MachineMemory"/> before it would take the last
    /// <see cref="Memory.Reserve"/> bytes. Replaceable for tests.</summary>
    public Func<long?> AvailableMemory { get; init; } = Memory.MemAvailable;

    public static long DefaultMemoryBudget() => Memory.DefaultBudget();
}

public sealed record Statistics
{
    public long States { get; init; }
    public long Transitions { get; init; }
    /// <summary>The reduction that ran ("partial-order (ample sets)"), or null for a full search.</summary>
    public string? Reduction { get; init; }
    /// <summary>States expanded with a reduced (ample) set of steps, and the steps so skipped.</summary>
    public long ReducedStates { get; init; }
    public long SkippedSteps { get; init; }
    /// <summary>States a single-step chain passed without storing them (Checker.Chain), counted
    /// once per pass.</summary>
    public long ChainedStates { get; init; }
    /// <summary>The deepest level; with single-step chains, the largest depth in steps of a stored state.</summary>
    public int Depth { get; init; }
    public long Queue { get; init; }
    public double Seconds { get; init; }
    public double StatesPerSecond => Seconds > 0 ? States / Seconds : 0;
    /// <summary>The process's peak resident set (frontier, tables, runtime: all of it), since the
    /// process started: for a one-search process (`check UNIVERSE`) the search's peak.</summary>
    public long PeakMemoryBytes { get; init; }
    /// <summary>Bytes per state from the peak: <see cref="PeakMemoryBytes"/> / <see cref="States"/>.</summary>
    public double BytesPerState { get; init; }
    /// <summary>The budget the search ran under.</summary>
    public long MemoryBudgetBytes { get; init; }
    /// <summary>Bytes in the search's own structures at the end (visited set, component tables,
    /// parent links, frontier).</summary>
    public long StoreBytes { get; init; }
    public long FrontierBytes { get; init; }
    /// <summary>States stored at each depth, for every level the search generated in full (a
    /// stopped search's last, partial level is left out): the shape a full size is estimated from.</summary>
    public long[] Levels { get; init; } = [];
    /// <summary>Probability that a fingerprint collision hid a state (0 in exact mode).</summary>
    public double CollisionProbability { get; init; }
}

/// <summary>One step of a counterexample, with the state it produced and what changed.</summary>
public sealed record TraceEntry<TState, TStep>(TStep Step, string Label, TState After, IReadOnlyList<string> Changes)
    where TState : unmanaged where TStep : unmanaged;

public sealed record CheckResult<TState, TStep> where TState : unmanaged where TStep : unmanaged
{
    public required Verdict Verdict { get; init; }
    public required StopReason StopReason { get; init; }
    /// <summary>Index of the broken invariant (Violated), else -1.</summary>
    public int Invariant { get; init; } = -1;
    public string? InvariantName { get; init; }
    public string? Explanation { get; init; }
    public required TState Initial { get; init; }
    /// <summary>The shortest path to the violation or deadlock; empty otherwise.</summary>
    public IReadOnlyList<TraceEntry<TState, TStep>> Trace { get; init; } = [];
    public required Statistics Stats { get; init; }

    /// <summary>The result for a replayed trace that ends in a state breaking <paramref name="invariant"/>
    /// (the local engine and the distributed one build it the same way).</summary>
    public static CheckResult<TState, TStep> Violation<TModel>(in TModel model, in TState initial, int invariant,
        List<TraceEntry<TState, TStep>> trace, Statistics stats) where TModel : IModel<TState, TStep> => new()
    {
        Verdict = Verdict.Violated,
        StopReason = StopReason.Complete,
        Invariant = invariant,
        InvariantName = model.Invariants[invariant],
        Explanation = model.Explain(invariant, trace.Count > 0 ? trace[^1].After : initial),
        Initial = initial,
        Trace = trace,
        Stats = stats with { Depth = trace.Count },
    };

    /// <summary>The result for a replayed trace that ends in a deadlocked state.</summary>
    public static CheckResult<TState, TStep> Deadlock(in TState initial, List<TraceEntry<TState, TStep>> trace, Statistics stats) => new()
    {
        Verdict = Verdict.Deadlock, StopReason = StopReason.Complete, Initial = initial, Trace = trace,
        Stats = stats with { Depth = trace.Count },
    };

    /// <summary>The result of a search that found nothing: holds when complete or cut by the depth
    /// bound (the report words the latter), bounded otherwise.</summary>
    public static CheckResult<TState, TStep> Finished(in TState initial, StopReason why, Statistics stats) => new()
    {
        Verdict = why is StopReason.Complete or StopReason.DepthBound ? Verdict.Holds : Verdict.Bounded,
        StopReason = why, Initial = initial, Stats = stats,
    };

    /// <summary>"invariant x violated at depth 4" / "no violation up to depth 14, 3.2 M states; memory budget reached".</summary>
    public string VerdictLine => Verdict switch
    {
        Verdict.Violated => $"invariant {InvariantName} violated at depth {Trace.Count}, after {States(Stats.States)}",
        Verdict.Deadlock => $"deadlock at depth {Trace.Count}, after {States(Stats.States)}",
        _ => StopReason switch
        {
            StopReason.Complete => $"no violation: {(Stats.States == 1 ? "the one reachable state" : $"all {Count(Stats.States)} reachable states")} explored (depth {Stats.Depth})",
            StopReason.DepthBound => $"no violation up to depth {Stats.Depth}, {States(Stats.States)}; depth bound reached",
            StopReason.StateBound => $"no violation up to depth {Stats.Depth}, {States(Stats.States)}; state bound reached",
            StopReason.MemoryBudget => $"no violation up to depth {Stats.Depth}, {States(Stats.States)}; memory budget of {Memory.Format(Stats.MemoryBudgetBytes)} reached",
            StopReason.MachineMemory => $"no violation up to depth {Stats.Depth}, {States(Stats.States)}; the machine's available memory ran low (other processes), before the budget of {Memory.Format(Stats.MemoryBudgetBytes)}",
            _ => $"no violation up to depth {Stats.Depth}, {States(Stats.States)}; cancelled",
        },
    };

    static string States(long n) => n == 1 ? "1 state" : $"{Count(n)} states";

    static string Count(long n) => n switch
    {
        >= 1_000_000 => $"{n / 1e6:0.#} M",
        >= 10_000 => $"{n / 1e3:0.#} k",
        _ => n.ToString(),
    };
}
