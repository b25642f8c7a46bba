using System.CommandLine;
using System.Text.Json.Nodes;
using NestedApic.Hypervisor;
using NestedApic.Scenarios;
using NestedApic.Scenarios.Toml;

namespace NestedApic.Cli;

/// <summary>
/// `nestedapic check [UNIVERSE] [--policy P] [--vcpus N] [--threads T] [--depth D]
/// [--max-states N] [--max-memory SIZE] [--json] [--save-trace FILE.scn] [--from FILE.scn]`. Without a universe: the built-in suite (every universe, every
/// preset, its vCPU counts) as a table. Exit 0 when every verdict meets its expectation, 1 when one
/// does not, 2 on bad input.
/// </summary>
public static class CheckCommand
{
    public const string Usage = "usage: nestedapic check [UNIVERSE.toml|NAME] [--policy P] [--vcpus N] [--threads T] [--depth D] [--max-states N] [--max-memory SIZE] [--json] [--save-trace FILE.scn] [--from FILE.scn] [--no-reduce] [--no-chains]";

    sealed record Options(string? Universe, string? Policy, int? Vcpus, int Threads, int? Depth, long? MaxStates, bool Json,
        string? SaveTrace = null, string? From = null, string? Html = null)
    {
        public CancellationToken Cancel { get; init; }
        public ProgressPrinter? Progress { get; init; }
        public bool Exact { get; init; }
        /// <summary>Partial-order reduction (on unless --no-reduce).</summary>
        public bool Reduce { get; init; } = true;
        /// <summary>Single-step chains within the partial-order reduction (on unless --no-chains).</summary>
        public bool Chains { get; init; } = true;
        public long? MaxMemory { get; init; }
    }

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr) =>
        Cli.Invoke(Define(new Io(TextReader.Null, stdout, stderr)), args, new Io(TextReader.Null, stdout, stderr));

    public static Command Define(Io io)
    {
        var universe = new Argument<string?>("universe")
        {
            Arity = ArgumentArity.ZeroOrOne,
            Description = "a universe file (.toml) or the name of a built-in one; none: the built-in suite",
        };
        var policy = new Option<string?>("--policy") { Description = "PRESET[:switch=value,...] (see `nestedapic policies`); default: the universe's; the universe's own overrides are kept" };
        var vcpus = Cli.IntOption("--vcpus", "number of vCPUs; default: the universe's", 1, KvmState.MaxVcpus);
        var threads = Cli.IntOption("--threads", "worker threads; default: all cores", 1, 1024);
        var depth = Cli.IntOption("--depth", "depth bound; default: the universe's", 1, 1000);
        // State ids are 32-bit (ParentLinks): the engine stops below 2^32 states in any case.
        var maxStates = Cli.LongOption("--max-states", "stop after this many states (verdict: bounded, exit 3; 1..4000000000)", 1, 4_000_000_000);
        var exact = new Option<bool>("--exact") { Description = "kept for scripts: states are always stored exactly (compressed, collision-free)" };
        var maxMemory = new Option<string?>("--max-memory") { Description = "stop cleanly (verdict: bounded, exit 3) before the process holds more than SIZE (512M, 16G); default: about 75% of the memory it may use" };
        maxMemory.Validators.Add(r => { if (r.GetValueOrDefault<string?>() is { } v && NestedApic.Checking.Memory.ParseSize(v) is null) r.AddError($"--max-memory: '{v}' is not a size (e.g. 512M, 16G)"); });
        var json = new Option<bool>("--json") { Description = "print the report as one JSON document (docs/check-report.schema.json)" };
        var html = new Option<string?>("--html") { Description = "also write a self-contained HTML timeline of the report" };
        var saveTrace = new Option<string?>("--save-trace") { Description = "write a violation as a scenario that `run` replays" };
        var from = new Option<string?>("--from") { Description = "explore from the state a scenario's steps reach" };
        var noReduce = new Option<bool>("--no-reduce") { Description = "explore every interleaving (no symmetry or partial-order reduction)" };
        var noChains = new Option<bool>("--no-chains") { Description = "store every state the partial-order reduction reaches (no single-step chains); for measuring what the chains save" };
        var cmd = new Command("check", "Explore every interleaving of a universe's events under a policy; no universe: the built-in suite.")
        {
            universe, policy, vcpus, threads, depth, maxStates, maxMemory, exact, json, html, saveTrace, from, noReduce, noChains,
        };
        cmd.Validators.Add(r =>
        {
            if (r.GetValue(universe) is null && (r.GetValue(saveTrace) ?? r.GetValue(from)) is not null)
                r.AddError($"{(r.GetValue(saveTrace) is null ? "--from" : "--save-trace")} needs a universe");
        });
        Cli.RejectOptionLike(cmd, universe);
        cmd.SetAction(r => Execute(new Options(r.GetValue(universe), r.GetValue(policy), r.GetValue(vcpus),
            r.GetValue(threads) ?? Environment.ProcessorCount, r.GetValue(depth), r.GetValue(maxStates), r.GetValue(json),
            r.GetValue(saveTrace), r.GetValue(from), r.GetValue(html))
        {
            Exact = r.GetValue(exact),
            MaxMemory = r.GetValue(maxMemory) is { } m ? NestedApic.Checking.Memory.ParseSize(m) : null,
            Reduce = !r.GetValue(noReduce),
            Chains = !r.GetValue(noChains),
        }, io));
        return cmd;
    }

    static int Execute(Options o, Io io)
    {
        using var ctrlC = CtrlC.Install(io);
        try
        {
            var progress = ReferenceEquals(io.Err, Console.Error) ? ProgressPrinter.ForTerminal(o.MaxStates) : null;
            var run = o with { Cancel = ctrlC.Token, Progress = progress };
            int code = o.Universe is null ? Suite(run, io.Out, ctrlC) : One(run, io.Out, ctrlC);
            progress?.Done();
            return code;
        }
        catch (Exception e) when (e is TomlException or InputException)
        {
            io.Err.WriteLine(e.Message);
            return 2;
        }
    }

    static int One(Options o, TextWriter stdout, CtrlC ctrlC)
    {
        // A typo in an output path must not cost a long search its result.
        if (o.Html is not null) OutputPath.CheckWritable(o.Html, "--html");
        if (o.SaveTrace is not null) OutputPath.CheckWritable(o.SaveTrace, "--save-trace");
        var u = BuiltinUniverses.Resolve(o.Universe!);
        var policy = o.Policy is null ? u.Config.Policy : u.PolicyFor(o.Policy);
        // Inputs are read before the search: until then Ctrl-C ends the process (even blocked on a FIFO).
        var from = o.From is null ? null : Scenario.Load(o.From);
        ctrlC.Searching = true;
        var (report, prelude, note) = from is null
            ? (UniverseCheck.Run(u, policy, o.Vcpus ?? u.Config.Vcpus, Settings(o)), u.Setup.Select(s => s.Step).ToList(), "the universe's setup")
            : FromScenario(o, from, u, policy);
        ctrlC.Searching = false;
        o.Progress?.Done();
        if (o.Json) stdout.WriteLine(CheckOutput.JsonText(CheckOutput.Json(report)));
        else CheckOutput.Text(report, stdout);
        if (o.SaveTrace is not null) SaveTrace(o, report, policy, prelude, note, stdout);
        if (o.Html is not null) WriteHtml(o.Html, report, o.Json ? null : stdout);
        return ExitCode(report);
    }

    /// <summary>--html: the report as a self-contained timeline page.</summary>
    internal static void WriteHtml(string path, CheckReport report, TextWriter? note)
    {
        try { File.WriteAllText(path, HtmlReport.Render(report)); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        { throw new InputException($"--html: cannot write {path}: {e.Message}"); }
        note?.WriteLine($"html: {path}");
    }

    /// <summary>--from: explore from the state the scenario's steps reach in this universe (its
    /// vmcs12s, vectors and host), under the check's policy; its expects must hold on the way.</summary>
    static (CheckReport, List<string>, string) FromScenario(Options o, Scenario sc, Universe u, Policy policy)
    {
        int vcpus = o.Vcpus ?? sc.Vcpus?.Value ?? u.Config.Vcpus;
        var r = ScenarioRunner.Run(sc, BuiltinUniverses.Load, policy, u, vcpus);
        if (r.Failed is { } f)
            throw new InputException($"{f.Item.Pos}: --from: '{f.Item.Text}' does not hold under {policy.Name} ({f.Detail})");
        var report = UniverseCheck.Run(u, policy, vcpus, Settings(o), r.Final);
        var steps = sc.Items.OfType<StepItem>().Select(s => s.Text).ToList();
        return (report, steps, $"the steps of {o.From}");
    }

    /// <summary>--save-trace: a violation becomes a scenario that `run` replays to it.</summary>
    static void SaveTrace(Options o, CheckReport report, Policy policy, List<string> prelude, string note, TextWriter stdout)
    {
        if (report.Verdict != "violated")
        {
            if (!o.Json) stdout.WriteLine($"no violation: nothing saved to {o.SaveTrace}");
            return;
        }
        string dir = Path.GetDirectoryName(Path.GetFullPath(o.SaveTrace!))!;
        // A file universe is named relative to the saved scenario, a built-in one by name.
        string universeRef = File.Exists(o.Universe) ? Path.GetRelativePath(dir, Path.GetFullPath(o.Universe!)).Replace('\\', '/') : o.Universe!;
        try { File.WriteAllText(o.SaveTrace!, ScenarioWriter.CounterExample(report, universeRef, policy, prelude, note)); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        { throw new InputException($"--save-trace: cannot write {o.SaveTrace}: {e.Message}"); }
        if (!o.Json) stdout.WriteLine($"saved: {o.SaveTrace} (nestedapic run {o.SaveTrace})");
    }

    /// <summary>The suite's runs, in order: each universe under each preset of its vendor (or
    /// only --policy's) and each of its suite vCPU counts.</summary>
    public static IReadOnlyList<(Universe Universe, Policy Policy, int Vcpus)> SuiteRuns(string? policySpec, int? vcpus)
    {
        var only = policySpec is null ? null : PolicySpec.Parse(policySpec, "--policy");
        var runs = new List<(Universe, Policy, int)>();
        foreach (var name in BuiltinUniverses.Names)
        {
            var u = BuiltinUniverses.Load(name);
            // Each universe runs under the presets of its vendor; --policy keeps the universes of that preset's vendor.
            if (only is not null && only.Vendor != u.Config.Vendor) continue;
            var presets = only is null ? Policies.For(u.Config.Vendor) : [u.PolicyFor(policySpec!)];
            foreach (var policy in presets)
                foreach (int n in vcpus is { } v ? [v] : u.SuiteVcpus)
                    runs.Add((u, policy, n));
        }
        return runs;
    }

    static int Suite(Options o, TextWriter stdout, CtrlC ctrlC)
    {
        var runs = SuiteRuns(o.Policy, o.Vcpus);
        var widths = new CheckOutput.SuiteWidths(runs.Max(r => r.Universe.Name.Length), runs.Max(r => r.Policy.Name.Length));
        var reports = new List<CheckReport>();
        if (!o.Json) CheckOutput.SuiteHeader(stdout, widths);
        ctrlC.Searching = true;
        foreach (var (u, policy, vcpus) in runs)
        {
            // Ctrl-C ends the suite: the run it stopped is reported, the rest are not started.
            if (o.Cancel.IsCancellationRequested) break;
            var r = UniverseCheck.Run(u, policy, vcpus, Settings(o));
            reports.Add(r);
            if (!o.Json) { o.Progress?.Done(); CheckOutput.SuiteRow(r, stdout, widths); }
        }
        ctrlC.Searching = false;
        o.Progress?.Done();
        int stopped = reports.Count(r => r.Stopped);
        int bad = reports.Count(r => !r.MeetsExpectation && !r.Stopped);
        if (o.Json) stdout.WriteLine(CheckOutput.JsonText(new JsonArray(reports.Select(r => (JsonNode)CheckOutput.Json(r)).ToArray())));
        else
        {
            string ran = reports.Count == runs.Count ? $"{reports.Count} runs" : $"stopped by Ctrl-C after {reports.Count} of {runs.Count} runs";
            stdout.WriteLine($"suite: {ran}, {reports.Count - bad - stopped} as expected, {bad} not{(stopped > 0 ? $", {stopped} without a verdict (stopped by a bound or Ctrl-C)" : "")}");
        }
        // A run that a bound stopped has no verdict: 3, unless another run already broke an expectation.
        return bad > 0 ? 1 : stopped > 0 || reports.Count < runs.Count ? 3 : 0;
    }

    static UniverseCheck.Settings Settings(Options o) =>
        new(o.Threads, o.Depth, o.MaxStates, o.Progress is { } p ? p.Report : null, o.Cancel) { Exact = o.Exact, MaxMemory = o.MaxMemory, Reduce = o.Reduce, Chains = o.Chains };

    /// <summary>0: the verdict meets the expectation; 1: it does not; 3: a bound or budget (or
    /// Ctrl-C) stopped the search before a verdict.</summary>
    static int ExitCode(CheckReport r) => r.Stopped ? 3 : r.MeetsExpectation ? 0 : 1;
}
