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
    public const string Usage = "usage: nestedapic check [UNIVERSE.toml|NAME] [--policy P] [--vcpus N] [--threads T] [--depth D] [--max-states N] [--json] [--save-trace FILE.scn] [--from FILE.scn]";

    sealed record Options(string? Universe, string? Policy, int? Vcpus, int Threads, int? Depth, long? MaxStates, bool Json,
        string? SaveTrace = null, string? From = null);

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        Options o;
        try { o = Parse(args); }
        catch (InputException e)
        {
            stderr.WriteLine($"nestedapic check: {e.Message}");
            stderr.WriteLine(Usage);
            return 2;
        }
        try
        {
            return o.Universe is null ? Suite(o, stdout) : One(o, stdout);
        }
        catch (Exception e) when (e is TomlException or InputException)
        {
            stderr.WriteLine(e.Message);
            return 2;
        }
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
        if (o.Json) stdout.WriteLine(CheckOutput.JsonText(CheckOutput.Json(report)));
        else CheckOutput.Text(report, stdout);
        if (o.SaveTrace is not null) SaveTrace(o, report, policy, prelude, note, stdout);
        return report.MeetsExpectation ? 0 : 1;
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
        foreach (var name in BuiltinUniverses.Names)
        {
            var u = BuiltinUniverses.Load(name);
            var presets = o.Policy is null ? Policies.Presets : [Policies.Find(o.Policy) ?? throw new InputException($"--policy: unknown policy '{o.Policy}'")];
            foreach (var policy in presets)
                foreach (int vcpus in o.Vcpus is { } n ? [n] : u.SuiteVcpus)
                {
                    var r = UniverseCheck.Run(u, policy, vcpus, Settings(o));
                    reports.Add(r);
                    if (!o.Json) CheckOutput.SuiteRow(r, stdout);
                }
        }
        int bad = reports.Count(r => !r.MeetsExpectation);
        if (o.Json) stdout.WriteLine(CheckOutput.JsonText(new JsonArray(reports.Select(r => (JsonNode)CheckOutput.Json(r)).ToArray())));
        else stdout.WriteLine($"suite: {reports.Count} runs, {reports.Count - bad} as expected, {bad} not");
        return bad == 0 ? 0 : 1;
    }

    static UniverseCheck.Settings Settings(Options o) => new(o.Threads, o.Depth, o.MaxStates);

    static Options Parse(string[] args)
    {
        string? universe = null, policy = null;
        int? vcpus = null, depth = null;
        long? maxStates = null;
        int threads = Environment.ProcessorCount;
        bool json = false;
        string? saveTrace = null, from = null;
        for (int i = 0; i < args.Length; i++)
        {
            string a = args[i];
            string Value() => i + 1 < args.Length ? args[++i] : throw new InputException($"{a} needs a value");
            int Int(int min, int max) =>
                int.TryParse(Value(), out int v) && v >= min && v <= max ? v : throw new InputException($"{a} must be an integer in {min}..{max}");
            switch (a)
            {
                case "--policy": policy = Value(); break;
                case "--vcpus": vcpus = Int(1, KvmState.MaxVcpus); break;
                case "--threads": threads = Int(1, 1024); break;
                case "--depth": depth = Int(1, 1000); break;
                case "--max-states": maxStates = long.TryParse(Value(), out long m) && m > 0 ? m : throw new InputException("--max-states must be a positive integer"); break;
                case "--json": json = true; break;
                case "--save-trace": saveTrace = Value(); break;
                case "--from": from = Value(); break;
                default:
                    if (a.StartsWith('-')) throw new InputException($"unknown option '{a}'");
                    if (universe is not null) throw new InputException($"unexpected argument '{a}'");
                    universe = a;
                    break;
            }
        }
        if (universe is null && (saveTrace ?? from) is not null)
            throw new InputException($"{(saveTrace is null ? "--from" : "--save-trace")} needs a universe");
        return new(universe, policy, vcpus, threads, depth, maxStates, json, saveTrace, from);
    }
}
