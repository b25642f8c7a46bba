using System.CommandLine;
using System.Text.Json.Nodes;
using NestedApic.Hypervisor;
using NestedApic.Scenarios;
using NestedApic.Scenarios.Toml;

namespace NestedApic.Cli;

/// <summary>
/// `nestedapic check [UNIVERSE] [--policy P] [--vcpus N] [--threads T] [--depth D]
/// [--max-states N] [--json] [--save-trace FILE.scn] [--from FILE.scn]`. Without a universe: the built-in suite (every universe, every
/// preset, its vCPU counts) as a table. Exit 0 when every verdict meets its expectation, 1 when one
/// does not, 2 on bad input.
/// </summary>
public static class CheckCommand
{
    public const string Usage = "usage: nestedapic check [UNIVERSE.toml|NAME] [--policy P] [--vcpus N] [--threads T] [--depth D] [--max-states N] [--json] [--save-trace FILE.scn] [--from FILE.scn] [--no-reduce] [--shortest]";

    sealed record Options(string? Universe, string? Policy, int? Vcpus, int Threads, int? Depth, long? MaxStates, bool Json,
        string? SaveTrace = null, string? From = null, string? Html = null)
    {
        public CancellationToken Cancel { get; init; }
        public ProgressPrinter? Progress { get; init; }
        public bool Exact { get; init; }
        /// <summary>Partial-order reduction (on unless --no-reduce).</summary>
        public bool Reduce { get; init; } = true;
        /// <summary>--shortest: a violation found under reduction is searched again without it, up to its depth.</summary>
        public bool Shortest { get; init; }
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
        var policy = new Option<string?>("--policy") { Description = "a preset (see `nestedapic policies`); default: the universe's" };
        var vcpus = Cli.IntOption("--vcpus", "number of vCPUs; default: the universe's", 1, KvmState.MaxVcpus);
        var threads = Cli.IntOption("--threads", "worker threads; default: all cores", 1, 1024);
        var depth = Cli.IntOption("--depth", "depth bound; default: the universe's", 1, 1000);
        var maxStates = new Option<long?>("--max-states") { Description = "stop after this many states (verdict: bounded, exit 3)" };
        maxStates.Validators.Add(r => { if (r.GetValueOrDefault<long?>() is <= 0) r.AddError("--max-states must be a positive integer"); });
        var exact = new Option<bool>("--exact") { Description = "store whole states instead of 64-bit fingerprints (collision-free, more memory)" };
        var json = new Option<bool>("--json") { Description = "print the report as one JSON document (docs/check-report.schema.json)" };
        var html = new Option<string?>("--html") { Description = "also write a self-contained HTML timeline of the report" };
        var saveTrace = new Option<string?>("--save-trace") { Description = "write a violation as a scenario that `run` replays" };
        var from = new Option<string?>("--from") { Description = "explore from the state a scenario's steps reach" };
        var noReduce = new Option<bool>("--no-reduce") { Description = "explore every interleaving (no partial-order reduction)" };
        var shortest = new Option<bool>("--shortest") { Description = "a violation found under reduction: search again without it, up to its depth, for a shortest trace" };
        var cmd = new Command("check", "Explore every interleaving of a universe's events under a policy; no universe: the built-in suite.")
        {
            universe, policy, vcpus, threads, depth, maxStates, exact, json, html, saveTrace, from, noReduce, shortest,
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
            { Exact = r.GetValue(exact), Reduce = !r.GetValue(noReduce), Shortest = r.GetValue(shortest) }, io));
        return cmd;
    }

    static int Execute(Options o, Io io)
    {
        using var cancel = new CancellationTokenSource();
        // Ctrl-C stops the search cleanly: the report shows the statistics so far (exit 3).
        ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; cancel.Cancel(); };
        Console.CancelKeyPress += onCancel;
        try
        {
            var progress = ReferenceEquals(io.Err, Console.Error) ? ProgressPrinter.ForTerminal(o.MaxStates) : null;
            var run = o with { Cancel = cancel.Token, Progress = progress };
            int code = o.Universe is null ? Suite(run, io.Out) : One(run, io.Out);
            progress?.Done();
            return code;
        }
        catch (Exception e) when (e is TomlException or InputException)
        {
            io.Err.WriteLine(e.Message);
            return 2;
        }
        finally { Console.CancelKeyPress -= onCancel; }
    }

    static int One(Options o, TextWriter stdout)
    {
        var u = BuiltinUniverses.Resolve(o.Universe!);
        var policy = u.Config.Policy;
        if (o.Policy is not null)
            policy = Policies.Find(o.Policy) ?? throw new InputException(
                $"--policy: unknown policy '{o.Policy}'; known: {string.Join(", ", Policies.Presets.Select(p => p.Name))}");
        var (report, prelude, note) = o.From is null
            ? (UniverseCheck.Run(u, policy, o.Vcpus ?? u.Config.Vcpus, Settings(o)), u.Setup.Select(s => s.Step).ToList(), "the universe's setup")
            : FromScenario(o, u, policy);
        if (o.Shortest && report.Verdict == "violated" && report.Reduction is not null)
            report = Shortest(o, u, policy, report);
        o.Progress?.Done();
        if (o.Json) stdout.WriteLine(CheckOutput.JsonText(CheckOutput.Json(report)));
        else CheckOutput.Text(report, stdout);
        if (o.SaveTrace is not null) SaveTrace(o, report, policy, prelude, note, stdout);
        if (o.Html is not null) WriteHtml(o.Html, report, o.Json ? null : stdout);
        return ExitCode(report);
    }

    /// <summary>--shortest: breadth-first search without reduction, bounded by the depth the
    /// reduced search found, returns a shortest violation (possibly another property's).</summary>
    static CheckReport Shortest(Options o, Universe u, Policy policy, CheckReport reduced)
    {
        var again = o with { Reduce = false, Depth = reduced.Trace.Count };
        var full = o.From is null ? UniverseCheck.Run(u, policy, o.Vcpus ?? u.Config.Vcpus, Settings(again)) : FromScenario(again, u, policy).Item1;
        return full with { DepthBound = reduced.DepthBound };
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
    static (CheckReport, List<string>, string) FromScenario(Options o, Universe u, Policy policy)
    {
        var sc = Scenario.Load(o.From!);
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

    static int Suite(Options o, TextWriter stdout)
    {
        var reports = new List<CheckReport>();
        if (!o.Json) CheckOutput.SuiteHeader(stdout);
        var only = o.Policy is null ? null : Policies.Find(o.Policy) ?? throw new InputException(
            $"--policy: unknown policy '{o.Policy}'; known: {string.Join(", ", Policies.Presets.Select(p => p.Name))}");
        foreach (var name in BuiltinUniverses.Names)
        {
            var u = BuiltinUniverses.Load(name);
            // Each universe runs under the presets of its vendor; --policy keeps the universes of that preset's vendor.
            if (only is not null && only.Vendor != u.Config.Vendor) continue;
            var presets = only is null ? Policies.For(u.Config.Vendor) : [only];
            foreach (var policy in presets)
                foreach (int vcpus in o.Vcpus is { } n ? [n] : u.SuiteVcpus)
                {
                    var r = UniverseCheck.Run(u, policy, vcpus, Settings(o));
                    reports.Add(r);
                    if (!o.Json) CheckOutput.SuiteRow(r, stdout);
                }
        }
        o.Progress?.Done();
        int bad = reports.Count(r => !r.MeetsExpectation);
        if (o.Json) stdout.WriteLine(CheckOutput.JsonText(new JsonArray(reports.Select(r => (JsonNode)CheckOutput.Json(r)).ToArray())));
        else stdout.WriteLine($"suite: {reports.Count} runs, {reports.Count - bad} as expected, {bad} not");
        // A run that a bound stopped has no verdict: 3, unless another run already broke an expectation.
        return reports.Any(r => !r.MeetsExpectation && r.Verdict != "bounded") ? 1 : reports.Any(r => r.Verdict == "bounded") ? 3 : 0;
    }

    static UniverseCheck.Settings Settings(Options o) =>
        new(o.Threads, o.Depth, o.MaxStates, o.Progress is { } p ? p.Report : null, o.Cancel) { Exact = o.Exact, Reduce = o.Reduce };

    /// <summary>0: the verdict meets the expectation; 1: it does not; 3: a bound or budget (or
    /// Ctrl-C) stopped the search before a verdict.</summary>
    static int ExitCode(CheckReport r) => r.Verdict == "bounded" ? 3 : r.MeetsExpectation ? 0 : 1;
}
