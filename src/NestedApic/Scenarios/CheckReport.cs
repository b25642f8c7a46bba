using NestedApic.Hypervisor;

namespace NestedApic.Scenarios;

/// <summary>One step of a counterexample: the event, who did it, and the fields it changed.</summary>
public sealed record TraceStep(int Index, string Label, Actor Actor, int Vcpu, IReadOnlyList<string> Changes);

public sealed record CheckStats(long States, long Transitions, int Depth, double Seconds, double StatesPerSecond,
    double BytesPerState, double CollisionProbability)
{
    /// <summary>The process's peak resident set during the search; BytesPerState is this over States.</summary>
    public long PeakMemoryBytes { get; init; }
    /// <summary>States at each depth the search generated in full.</summary>
    public long[] Levels { get; init; } = [];
    /// <summary>The memory budget the search ran under (--max-memory or the default).</summary>
    public long MemoryBudgetBytes { get; init; }
}

/// <summary>Which reduction ran, how many states it expanded partially, how many steps it skipped
/// there, and how many states its single-step chains passed without storing them. The states
/// saved are known only by a run without it (`--no-reduce`, or `--no-chains` for the chains).</summary>
public sealed record ReductionStats(string Kind, long ReducedStates, long SkippedSteps, long ChainedStates);

/// <summary>The result of checking one universe under one policy and vCPU count, in the terms the
/// CLI prints (text, JSON, suite table).</summary>
public sealed record CheckReport
{
    public required string Universe { get; init; }
    public required string File { get; init; }
    public required string Policy { get; init; }
    public required int Vcpus { get; init; }
    public required int DepthBound { get; init; }
    /// <summary>holds | violated | deadlock | holds-to-depth (no violation, but the depth bound
    /// cut the search) | bounded (a state bound, memory budget or Ctrl-C stopped it).</summary>
    public required string Verdict { get; init; }
    /// <summary>What cut the search short: "the depth bound", "the state bound", "the memory
    /// budget", "Ctrl-C"; null when every reachable state was explored or a violation was found
    /// (but see <see cref="FirstPropertyUnknown"/>: then what cut the search again in full).</summary>
    public string? StoppedBy { get; init; }
    public string? Property { get; init; }
    public int? Vcpu { get; init; }
    public string? Explanation { get; init; }
    /// <summary>The engine's one-line verdict ("no violation up to depth 14, 3.2 M states; ...").</summary>
    public required string VerdictLine { get; init; }
    public required CheckStats Stats { get; init; }
    public IReadOnlyList<string> Initial { get; init; } = [];
    public IReadOnlyList<TraceStep> Trace { get; init; } = [];
    public string? Expected { get; init; }
    /// <summary>The reduction that ran, or null for a full search.</summary>
    public ReductionStats? Reduction { get; init; }

    /// <summary>Breadth-first search over the full graph gives a shortest trace, and so does a
    /// violation found under reduction: it is searched again in full up to its depth. Without a
    /// violation there is no trace to doubt.</summary>
    public bool TraceKnownShortest => Verdict != "violated" || Reduction is null || Reduction.ReducedStates == 0 && Reduction.ChainedStates == 0 || Reduction.Kind.Contains("searched again in full");

    /// <summary>What the run shows, in the vocabulary of expectations: "holds" or a property id.</summary>
    public string Outcome => Verdict == "violated" ? Property! : Verdict;

    public bool MeetsExpectation => Expected is null ? Verdict != "violated" : Expected == Outcome;

    /// <summary>A violation found under reduction whose search again in full was cut by a bound
    /// (<see cref="StoppedBy"/> says which): the full search might find another property broken
    /// first, so an expectation naming another property is neither met nor missed.</summary>
    public bool FirstPropertyUnknown => Verdict == "violated" && !TraceKnownShortest && Expected is not null && Expected != Verdicts.Holds && Expected != Outcome;

    /// <summary>A bound or Ctrl-C cut the search before a verdict, or before the first property
    /// broken was known: whether the expectation is met is unknown.</summary>
    public bool Stopped => Verdict is Verdicts.HoldsToDepth or Verdicts.Bounded || FirstPropertyUnknown;
}

/// <summary>The verdict words of reports, text and JSON alike.</summary>
public static class Verdicts
{
    public const string Holds = "holds";
    public const string Violated = "violated";
    public const string Deadlock = "deadlock";
    public const string HoldsToDepth = "holds-to-depth";
    public const string Bounded = "bounded";
    public static readonly string[] All = [Holds, Violated, Deadlock, HoldsToDepth, Bounded];
}
