using System.CommandLine;
using System.CommandLine.Invocation;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using NestedApic.Checking;
using NestedApic.Distributed;
using NestedApic.Hypervisor;
using NestedApic.Hypervisor.Svm;
using NestedApic.Hypervisor.Vmx;
using NestedApic.Scenarios;
using NestedApic.Scenarios.Toml;

namespace NestedApic.Cli;

/// <summary>
/// `check UNIVERSE --cluster SPEC`: the same search on an Orleans cluster, as its client; the
/// report is the local one (text, --json, --html, --save-trace). Per-level progress and the
/// cluster's figures go to standard error. A lost silo: one line, exit 3.
/// </summary>
public static class ClusterCheck
{
    /// <summary>Adds --cluster to the check command; without it the command runs as before.</summary>
    public static Command Extend(Command check, Io io)
    {
        var cluster = new Option<string?>("--cluster") { Description = $"run the search on an Orleans cluster: {ClusterSpec.Forms}" };
        check.Options.Add(cluster);
        var local = (SynchronousCommandLineAction)check.Action!;
        check.SetAction(r => r.GetValue(cluster) is { } spec ? Execute(r, spec, io) : local.Invoke(r));
        return check;
    }

    static int Execute(ParseResult r, string specText, Io io)
    {
        string? universe = r.GetValue<string?>("universe");
        try
        {
            var spec = ClusterSpec.Parse(specText);
            if (universe is null) throw new InputException("--cluster needs a universe (the built-in suite runs locally)");
            if (r.GetValue<string?>("--from") is not null) throw new InputException("--from is not supported with --cluster");
            var (text, file) = UniverseText(universe);
            var u = Universe.Parse(text, file);
            var policy = u.Config.Policy;
            if (r.GetValue<string?>("--policy") is { } name)
                policy = Policies.Find(name) ?? throw new InputException(
                    $"--policy: unknown policy '{name}'; known: {string.Join(", ", Policies.Presets.Select(p => p.Name))}");
            int vcpus = r.GetValue<int?>("--vcpus") ?? u.Config.Vcpus;
            var model = UniverseCheck.Build(u, policy, vcpus).Model;
            var modelSpec = ClusterModels.ForUniverse(text, file, policy, vcpus);
            int depth = r.GetValue<int?>("--depth") ?? u.Depth;

            using var cancel = new CancellationTokenSource();
            ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; cancel.Cancel(); };
            Console.CancelKeyPress += onCancel;
            try
            {
                var options = new ClusterSearchOptions
                {
                    MaxDepth = depth,
                    MaxStates = r.GetValue<long?>("--max-states") ?? long.MaxValue,
                    Exact = r.GetValue<bool>("--exact"),
                    PartitionsPerSilo = spec.PartitionsPerSilo,
                    Silos = spec.Silos,
                    Cancel = cancel.Token,
                    Progress = line => io.Err.WriteLine($"cluster: {line}"),
                };
                var (result, stats) = Search(spec, modelSpec, model, options).GetAwaiter().GetResult();
                var report = Report(u, policy, vcpus, depth, model, result);
                io.Err.WriteLine(Figures(stats, result.Stats));
                return Print(r, report, policy, universe, io);
            }
            finally { Console.CancelKeyPress -= onCancel; }
        }
        catch (FormatException e) { io.Err.WriteLine($"nestedapic check: {e.Message}"); return 2; }
        catch (Exception e) when (e is TomlException or InputException) { io.Err.WriteLine(e.Message); return 2; }
        catch (ClusterLostException e) { io.Err.WriteLine(e.Message); return 3; }
    }

    /// <summary>The universe's text and the file name it reports: a file, or a built-in one.</summary>
    static (string Text, string File) UniverseText(string arg)
    {
        if (File.Exists(arg) || arg.EndsWith(".toml"))
        {
            try { return (File.ReadAllText(arg), arg); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            { throw new InputException($"{arg}: cannot read the universe: {e.Message}"); }
        }
        BuiltinUniverses.Load(arg); // the usual error for an unknown name
        using var stream = typeof(BuiltinUniverses).Assembly.GetManifestResourceStream($"universes/{arg}.toml")!;
        return (new StreamReader(stream).ReadToEnd(), $"universes/{arg}.toml");
    }

    static async Task<(CheckResult<KvmState, KvmStep>, ClusterStats)> Search(ClusterSpec spec, ModelSpec modelSpec, IKvmModel model, ClusterSearchOptions options)
    {
        LocalSilos? local = null;
        try
        {
            if (spec.Kind == ClusterKind.Local)
            {
                local = LocalSilos.Start(spec.Count, TimeSpan.FromSeconds(90));
                spec = local.Spec;
                options = options with { Liveness = local.Exited };
            }
            using var host = ClusterHosting.BuildClient(spec);
            try { await host.StartAsync(); }
            catch (Exception e) when (e is not ClusterLostException)
            { throw new ClusterLostException($"cluster: cannot connect to {spec.Text}: {e.GetBaseException().Message.ReplaceLineEndings(" ")}", e); }
            var grains = host.Services.GetRequiredService<IClusterClient>();
            var result = model switch
            {
                VmxModel vmx => await Run(grains, modelSpec, vmx, options),
                SvmModel svm => await Run(grains, modelSpec, svm, options),
                _ => throw new InvalidOperationException("unknown model"),
            };
            try { await host.StopAsync(TimeSpan.FromSeconds(5)); } catch (Exception) { /* the report is what matters */ }
            return result;
        }
        finally { local?.Dispose(); }
    }

    static async Task<(CheckResult<KvmState, KvmStep>, ClusterStats)> Run<TModel>(IClusterClient grains, ModelSpec spec, TModel model, ClusterSearchOptions options)
        where TModel : struct, IKvmModel
    {
        var search = new ClusterSearch<TModel, KvmState, KvmStep>(grains, spec, model, options);
        var result = await search.Run();
        return (result, search.ClusterStats);
    }

    /// <summary>The cluster's figures, one line: what bench/run-cluster-bench.sh reads.</summary>
    public static string Figures(ClusterStats c, Statistics s) =>
        $"cluster: {c.Silos} silos, {c.Partitions} partitions, {c.Levels} levels, {c.Messages:N0} messages ({(double)c.Messages / Math.Max(1, c.Levels):F1}/level), " +
        $"{c.BytesSent:N0} bytes sent ({(s.States == 0 ? 0 : (double)c.BytesSent / s.States):F1} B/state), {s.StatesPerSecond:N0} states/s, " +
        $"peak working set per silo: {string.Join(", ", c.PeakWorkingSet.OrderBy(kv => kv.Key).Select(kv => $"{kv.Value / (1 << 20)} MiB"))}";

    /// <summary>The report UniverseCheck would give for the same result (see UniverseCheck.Run).</summary>
    static CheckReport Report(Universe u, Policy policy, int vcpus, int depth, IKvmModel model, CheckResult<KvmState, KvmStep> result)
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
                Verdict.Violated => "violated",
                Verdict.Holds => "holds",
                Verdict.Deadlock => "deadlock",
                _ => "bounded",
            },
            Property = property?.Id(),
            Vcpu = property is { } p ? model.VcpuOf(last, p) : null,
            Explanation = result.Explanation,
            VerdictLine = result.VerdictLine,
            Stats = new CheckStats(result.Stats.States, result.Stats.Transitions, result.Stats.Depth, result.Stats.Seconds,
                result.Stats.StatesPerSecond, result.Stats.BytesPerState, result.Stats.CollisionProbability),
            Initial = model.Fields(result.Initial).Select(kv => $"{kv.Key}: {kv.Value}").ToArray(),
            Trace = result.Trace.Select((t, i) => new TraceStep(i + 1, t.Label, t.Step.Actor, t.Step.Vcpu, t.Changes)).ToArray(),
            Expected = u.ExpectationFor(policy.Name, vcpus),
        };
    }

    static int Print(ParseResult r, CheckReport report, Policy policy, string universe, Io io)
    {
        bool json = r.GetValue<bool>("--json");
        if (json) io.Out.WriteLine(CheckOutput.JsonText(CheckOutput.Json(report)));
        else CheckOutput.Text(report, io.Out);
        if (r.GetValue<string?>("--save-trace") is { } save)
        {
            if (report.Verdict != "violated") { if (!json) io.Out.WriteLine($"no violation: nothing saved to {save}"); }
            else
            {
                string dir = Path.GetDirectoryName(Path.GetFullPath(save))!;
                string universeRef = File.Exists(universe) ? Path.GetRelativePath(dir, Path.GetFullPath(universe)).Replace('\\', '/') : universe;
                var prelude = BuiltinUniverses.Resolve(universe).Setup.Select(s => s.Step).ToList();
                try { File.WriteAllText(save, ScenarioWriter.CounterExample(report, universeRef, policy, prelude, "the universe's setup")); }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                { throw new InputException($"--save-trace: cannot write {save}: {e.Message}"); }
                if (!json) io.Out.WriteLine($"saved: {save} (nestedapic run {save})");
            }
        }
        if (r.GetValue<string?>("--html") is { } html) CheckCommand.WriteHtml(html, report, json ? null : io.Out);
        return report.Verdict == "bounded" ? 3 : report.MeetsExpectation ? 0 : 1;
    }
}
