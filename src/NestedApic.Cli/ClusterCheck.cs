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
            // A typo in an output path must not cost a long search its result.
            if (r.GetValue<string?>("--html") is { } html) OutputPath.CheckWritable(html, "--html");
            if (r.GetValue<string?>("--save-trace") is { } save) OutputPath.CheckWritable(save, "--save-trace");
            var u = BuiltinUniverses.Resolve(universe);
            string? policySpec = r.GetValue<string?>("--policy");
            var policy = policySpec is null ? u.Config.Policy : u.PolicyFor(policySpec);
            int vcpus = r.GetValue<int?>("--vcpus") ?? u.Config.Vcpus;
            var model = UniverseCheck.Build(u, policy, vcpus).Model;
            // The silos parse the same text and resolve the same --policy spec.
            var modelSpec = ClusterModels.ForUniverse(UniverseText(universe, u), u.File, policySpec, vcpus);
            int depth = r.GetValue<int?>("--depth") ?? u.Depth;

            using var ctrlC = CtrlC.Install(io);
            var options = new ClusterSearchOptions
            {
                MaxDepth = depth,
                MaxStates = r.GetValue<long?>("--max-states") ?? long.MaxValue,
                Exact = r.GetValue<bool>("--exact"),
                // --max-memory bounds each silo process, as it bounds the local one.
                MemoryBudgetPerSilo = r.GetValue<string?>("--max-memory") is { } m ? Memory.ParseSize(m)!.Value : CheckOptions.DefaultMemoryBudget(),
                PartitionsPerSilo = spec.PartitionsPerSilo,
                Silos = spec.Silos,
                Cancel = ctrlC.Token,
                Progress = line => io.Err.WriteLine($"cluster: {line}"),
            };
            ctrlC.Searching = true;
            var (result, stats) = Search(spec, modelSpec, model, options).GetAwaiter().GetResult();
            ctrlC.Searching = false;
            var report = UniverseCheck.Report(u, policy, vcpus, depth, model, result);
            io.Err.WriteLine(Figures(stats, result.Stats));
            return Print(r, report, policy, universe, io);
        }
        catch (FormatException e) { io.Err.WriteLine($"nestedapic check: {e.Message}"); return ExitCodes.BadInput; }
        catch (Exception e) when (e is TomlException or InputException) { io.Err.WriteLine(e.Message); return ExitCodes.BadInput; }
        catch (ClusterLostException e) { io.Err.WriteLine(e.Message); return ExitCodes.Stopped; }
    }

    /// <summary>The text of a universe <see cref="BuiltinUniverses.Resolve"/> accepted: its file's,
    /// or the embedded one's.</summary>
    static string UniverseText(string arg, Universe u)
    {
        var stream = typeof(BuiltinUniverses).Assembly.GetManifestResourceStream(u.File);
        if (stream is null || File.Exists(arg)) return File.ReadAllText(arg);
        using (stream) return new StreamReader(stream).ReadToEnd();
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
        return report.Stopped ? ExitCodes.Stopped : report.MeetsExpectation ? ExitCodes.AsExpected : ExitCodes.Violation;
    }
}
