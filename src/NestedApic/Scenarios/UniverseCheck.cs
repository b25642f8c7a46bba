using NestedApic.Checking;
using NestedApic.Hypervisor;
using NestedApic.Hypervisor.Svm;
using NestedApic.Hypervisor.Vmx;

namespace NestedApic.Scenarios;

/// <summary>Checks a universe under a policy and vCPU count and reports in the CLI's terms.</summary>
public static class UniverseCheck
{
    public sealed record Settings(int Threads, int? Depth = null, long? MaxStates = null, Action<Statistics>? Progress = null,
        CancellationToken Cancel = default)
    {
        /// <summary>Store whole states: no fingerprint collision can hide a state.</summary>
        public bool Exact { get; init; }
        /// <summary>--max-memory: bytes the process may hold; null: the engine's default.</summary>
        public long? MaxMemory { get; init; }
        /// <summary>Symmetry and partial-order reduction (Checking/Reduction): the same verdicts, fewer states.</summary>
        public bool Reduce { get; init; }
        /// <summary>With <see cref="Reduce"/>: the partial-order reduction too (false: symmetry alone).</summary>
        public bool PartialOrder { get; init; } = true;
        /// <summary>With <see cref="PartialOrder"/>: single-step chains (false: store every state it reaches).</summary>
        public bool Chains { get; init; } = true;
    }

    public static (IKvmModel Model, KvmConfig Config) Build(Universe u, Policy policy, int vcpus)
    {
        var config = Config(u, policy, vcpus);
        return (KvmModels.Create(config, Setup.Build(u, config)), config);
    }

    /// <summary>As Build, but exploration starts from <paramref name="initial"/> (e.g. the state a
    /// scenario reaches) instead of the universe's setup.</summary>
    public static (IKvmModel Model, KvmConfig Config) Build(Universe u, Policy policy, int vcpus, in KvmState initial)
    {
        var config = Config(u, policy, vcpus);
        return (KvmModels.Create(config, initial), config);
    }

    static KvmConfig Config(Universe u, Policy policy, int vcpus)
    {
        if (vcpus is < 1 or > KvmState.MaxVcpus) throw new InputException($"{u.File}: {vcpus} vCPUs; the model holds 1..{KvmState.MaxVcpus}");
        CheckVendor(u, policy);
        CheckNotEmpty(u);
        return u.Config with { Policy = policy, Vcpus = vcpus };
    }

    /// <summary>A universe must give the checker something to explore: an event in [events] and a
    /// vCPU (created by its setup or by a create-vcpu event); otherwise its one state would "hold"
    /// vacuously. Scenarios replay in such a universe; only checks refuse it.</summary>
    public static void CheckNotEmpty(Universe u)
    {
        var missing = new List<string>();
        if (!u.Config.Budget.Any(b => b > 0)) missing.Add("no event in [events] above 0 (e.g. kvm-run = 1)");
        if (u.Setup.Count == 0 && u.Config.Budget[(int)EventKind.CreateVcpu] == 0)
            missing.Add("no vCPU: no setup line creates one and [events] has no create-vcpu");
        if (missing.Count > 0)
            throw new InputException($"{u.File}: nothing to explore: {string.Join("; ", missing)} (see docs/universes.md)");
    }

    /// <summary>A policy describes one vendor's module; a universe of the other vendor cannot run under it.</summary>
    public static void CheckVendor(Universe u, Policy policy)
    {
        if (policy.Vendor != u.Config.Vendor)
            throw new InputException($"{u.File}: policy '{policy.Name}' describes kvm_{policy.Vendor.Name()} but the universe is vendor = \"{u.Config.Vendor.Name()}\"; use one of: {string.Join(", ", Policies.For(u.Config.Vendor).Select(p => p.Name))}");
    }

    public static CheckReport Run(Universe u, Policy policy, int vcpus, Settings settings) =>
        Dispatch(u, policy, vcpus, settings, Build(u, policy, vcpus).Model);

    /// <summary>Checks from <paramref name="initial"/> instead of the universe's setup.</summary>
    public static CheckReport Run(Universe u, Policy policy, int vcpus, Settings settings, in KvmState initial) =>
        Dispatch(u, policy, vcpus, settings, Build(u, policy, vcpus, initial).Model);

    /// <summary>The checker stops at the depth bound while states of the last level remain to be
    /// expanded; when none of them has a new successor the search was in fact complete. One more
    /// level, bounded to no new state, tells which (the engine has no such test; it costs a second
    /// search only for runs that reach the bound).</summary>
    static bool DeepestLevelIsLast<TModel>(TModel model, CheckOptions options, long states) where TModel : struct, IKvmModel
    {
        var probe = Checker.Run<TModel, KvmState, KvmStep>(model, options with { MaxDepth = options.MaxDepth + 1, MaxStates = states, Progress = null });
        return probe.Verdict == Verdict.Holds && probe.StopReason == StopReason.Complete && probe.Stats.States == states;
    }

    /// <summary>The checker specialised on the vendor's model struct (no interface calls on its hot path).</summary>
    static CheckReport Dispatch(Universe u, Policy policy, int vcpus, Settings settings, IKvmModel model) => model switch
    {
        SvmModel svm => Run(u, policy, vcpus, settings, svm),
        VmxModel vmx => Run(u, policy, vcpus, settings, vmx),
        _ => throw new InvalidOperationException("unknown model"),
    };

    static CheckReport Run<TModel>(Universe u, Policy policy, int vcpus, Settings settings, TModel model) where TModel : struct, IKvmModel
    {
        int depth = settings.Depth ?? u.Depth;
        var options = new CheckOptions
        {
            Threads = settings.Threads,
            MaxDepth = depth,
            MaxStates = settings.MaxStates ?? long.MaxValue,
            Progress = settings.Progress,
            Cancel = settings.Cancel,
            Exact = settings.Exact,
            MemoryBudgetBytes = settings.MaxMemory ?? CheckOptions.DefaultMemoryBudget(),
            Reduce = settings.Reduce && settings.PartialOrder,
            Chain = settings.Chains,
            Symmetry = settings.Reduce,
        };
        var result = Checker.Run<TModel, KvmState, KvmStep>(model, options);
        // A partial-order reduction covers every reachable state, not every path of at most the
        // bound's length: a verdict up to the depth bound needs the paths, so search again
        // without it (symmetry keeps depths and stays).
        if (result.StopReason == StopReason.DepthBound && (result.Stats.ReducedStates > 0 || result.Stats.ChainedStates > 0))
        {
            options = options with { Reduce = false };
            result = Checker.Run<TModel, KvmState, KvmStep>(model, options);
        }
        if (result.StopReason == StopReason.DepthBound && result.Verdict == Verdict.Holds && DeepestLevelIsLast(model, options, result.Stats.States))
            result = result with { StopReason = StopReason.Complete };
        // A reduced search finds a violation whenever the full one does, but maybe deeper, or at
        // the same depth another property first: the full search, bounded by the depth found,
        // gives the full search's verdict and a shortest trace.
        StopReason? shortestCut = null;
        if (result.Verdict is Verdict.Violated or Verdict.Deadlock && result.Stats.Reduction is { } kind)
        {
            var reduced = result.Stats;
            var full = Checker.Run<TModel, KvmState, KvmStep>(model,
                options with { Reduce = false, Symmetry = false, MaxDepth = result.Trace.Count + (result.Verdict == Verdict.Deadlock ? 1 : 0) });
            // A bound or budget may stop the full search: then the reduced search's real, maybe
            // longer, trace stands. Ctrl-C stops the run.
            if (full.StopReason == StopReason.Cancelled) result = full;
            else if (full.Verdict is Verdict.Violated or Verdict.Deadlock)
                result = full with { Stats = full.Stats with { Reduction = kind + "; the violation searched again in full up to its depth", ReducedStates = reduced.ReducedStates, SkippedSteps = reduced.SkippedSteps, ChainedStates = reduced.ChainedStates } };
            else shortestCut = full.StopReason;
        }
        var report = Report(u, policy, vcpus, depth, model, result);
        return shortestCut is { } cut && report.FirstPropertyUnknown ? report with { StoppedBy = StopText(cut) } : report;
    }

    static string? StopText(StopReason why) => why switch
    {
        StopReason.DepthBound => "the depth bound",
        StopReason.StateBound => "the state bound",
        StopReason.MemoryBudget => "the memory budget",
        StopReason.MachineMemory => "the machine's available memory",
        StopReason.Cancelled => "Ctrl-C",
        _ => null,
    };

    /// <summary>A search's result in the CLI's terms; also for results found elsewhere (a cluster).</summary>
    public static CheckReport Report(Universe u, Policy policy, int vcpus, int depth, IKvmModel model, CheckResult<KvmState, KvmStep> result)
    {
        Property? property = result.Verdict == Verdict.Violated ? (Property)result.Invariant : null;
        var last = result.Trace.Count > 0 ? result.Trace[^1].After : result.Initial;
        return new CheckReport
        {
            Universe = u.Name,
            File = u.File,
            Policy = policy.Name,
            Vcpus = vcpus,
            DepthBound = depth,
            Verdict = result.Verdict switch
            {
                Verdict.Violated => Verdicts.Violated,
                Verdict.Deadlock => Verdicts.Deadlock,
                _ => result.StopReason switch
                {
                    StopReason.Complete => Verdicts.Holds,
                    StopReason.DepthBound => Verdicts.HoldsToDepth,
                    _ => Verdicts.Bounded,
                },
            },
            StoppedBy = result.Verdict is Verdict.Violated or Verdict.Deadlock ? null : StopText(result.StopReason),
            Property = property?.Id(),
            Vcpu = property is { } p ? model.VcpuOf(last, p) : null,
            Explanation = result.Explanation,
            VerdictLine = result.VerdictLine,
            Stats = new CheckStats(result.Stats.States, result.Stats.Transitions, result.Stats.Depth, result.Stats.Seconds,
                result.Stats.StatesPerSecond, result.Stats.BytesPerState, result.Stats.CollisionProbability)
            {
                PeakMemoryBytes = result.Stats.PeakMemoryBytes,
                MemoryBudgetBytes = result.Stats.MemoryBudgetBytes,
                Levels = result.Stats.Levels,
            },
            Initial = model.Fields(result.Initial).Select(kv => $"{kv.Key}: {kv.Value}").ToArray(),
            Trace = result.Trace.Select((t, i) => new TraceStep(i + 1, t.Label, t.Step.Actor, t.Step.Vcpu, StepOutcome.WithOutcome(model.Config, t.Step, t.Changes))).ToArray(),
            Expected = u.ExpectationFor(policy.Name, vcpus),
            Reduction = result.Stats.Reduction is null ? null
                : new ReductionStats(result.Stats.Reduction, result.Stats.ReducedStates, result.Stats.SkippedSteps, result.Stats.ChainedStates),
        };
    }
}
