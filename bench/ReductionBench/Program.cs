using NestedApic.Checking;
using NestedApic.Hypervisor;
using NestedApic.Hypervisor.Svm;
using NestedApic.Hypervisor.Vmx;
using NestedApic.Scenarios;

// One exhaustive check of a universe with a choice of reductions, as one line:
//   ReductionBench UNIVERSE.toml POLICY VCPUS none|por|symmetry|both[-nochains] [--threads N] [--max-states N]
if (args.Length < 4)
{
    Console.Error.WriteLine("usage: ReductionBench UNIVERSE.toml POLICY VCPUS none|por|symmetry|both[-nochains] [--threads N] [--max-states N]");
    return 2;
}
var u = Universe.Load(args[0]);
var policy = Policies.Find(args[1]) ?? throw new ArgumentException($"unknown policy {args[1]}");
int vcpus = int.Parse(args[2]);
string mode = args[3];
int threads = Environment.ProcessorCount;
long maxStates = long.MaxValue;
for (int i = 4; i + 1 < args.Length; i += 2)
{
    if (args[i] == "--threads") threads = int.Parse(args[i + 1]);
    else if (args[i] == "--max-states") maxStates = long.Parse(args[i + 1]);
}
var options = new CheckOptions
{
    Threads = threads,
    MaxDepth = u.Depth,
    MaxStates = maxStates,
    Reduce = mode is "por" or "both" or "por-nochains" or "both-nochains",
    Symmetry = mode is "symmetry" or "both" or "both-nochains",
    // "-nochains": the partial-order reduction without its single-step chains.
    Chain = !mode.EndsWith("-nochains"),
};
var (model, _) = UniverseCheck.Build(u, policy, vcpus);
var line = model switch
{
    VmxModel m => Line(Checker.Run<VmxModel, KvmState, KvmStep>(m, options)),
    SvmModel m => Line(Checker.Run<SvmModel, KvmState, KvmStep>(m, options)),
    _ => throw new InvalidOperationException(),
};
Console.WriteLine($"universe={u.Name} policy={policy.Name} vcpus={vcpus} reduction={mode} threads={threads} {line}");
return 0;

static string Line<TStep>(CheckResult<KvmState, TStep> r) where TStep : unmanaged =>
    $"verdict={(r.Verdict == Verdict.Violated ? r.InvariantName : r.StopReason == StopReason.Complete ? "holds" : r.StopReason.ToString())} " +
    $"states={r.Stats.States} depth={r.Stats.Depth} seconds={r.Stats.Seconds:0.00} partial={r.Stats.ReducedStates} chained={r.Stats.ChainedStates} " +
    $"peak_mb={System.Diagnostics.Process.GetCurrentProcess().PeakWorkingSet64 >> 20}";
