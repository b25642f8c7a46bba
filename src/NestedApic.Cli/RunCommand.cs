using System.Text.Json.Nodes;
using NestedApic.Hypervisor;
using NestedApic.Scenarios;
using NestedApic.Scenarios.Toml;

namespace NestedApic.Cli;

/// <summary>
/// `nestedapic run FILE.scn [--policy P] [--json]`: replays a scenario, printing each step in its
/// lane with the fields it changed, the expectations, and properties that broke unannounced.
/// Exit 0 when every expect held, 1 at the first that did not, 2 on bad input.
/// </summary>
public static class RunCommand
{
    public const string Usage = "usage: nestedapic run FILE.scn [--policy P] [--json]";

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr) =>
        Cli.Invoke(Define(new Io(TextReader.Null, stdout, stderr)), args, new Io(TextReader.Null, stdout, stderr));

    public static System.CommandLine.Command Define(Io io)
    {
        var file = new System.CommandLine.Argument<string>("file") { Description = "a scenario file (.scn); see docs/scenarios.md" };
        var policy = new System.CommandLine.Option<string?>("--policy") { Description = "PRESET[:switch=value,...]; replaces the scenario's policy line (the universe's own overrides are kept)" };
        var json = new System.CommandLine.Option<bool>("--json") { Description = "print the replay as one JSON document" };
        var html = new System.CommandLine.Option<string?>("--html") { Description = "also write the replay as a self-contained HTML timeline" };
        var cmd = new System.CommandLine.Command("run", "Replay a scenario step by step, checking its expectations.") { file, policy, json, html };
        Cli.RejectOptionLike(cmd, file);
        cmd.SetAction(r =>
        {
            using var ctrlC = CtrlC.Install(io); // no search here: Ctrl-C ends the replay at once, exit 3
            return Execute(r.GetValue(file)!, r.GetValue(policy), r.GetValue(json), io.Out, io.Err, r.GetValue(html));
        });
        return cmd;
    }

    static int Execute(string file, string? policyName, bool json, TextWriter stdout, TextWriter stderr, string? html = null)
    {
        try
        {
            if (policyName is not null) PolicySpec.Parse(policyName, "--policy"); // named errors before reading the file
            if (html is not null) OutputPath.CheckWritable(html, "--html");
            var sc = Scenario.Load(file);
            var u = ScenarioRunner.ResolveUniverse(sc, BuiltinUniverses.Load);
            Policy? policy = policyName is null ? null : u.PolicyFor(policyName);
            if (json)
            {
                var r = ScenarioRunner.Run(sc, BuiltinUniverses.Load, policy, u);
                stdout.WriteLine(CheckOutput.JsonText(Json(r)));
                if (html is not null) CheckCommand.WriteHtml(html, AsReport(r), null);
                return r.Passed ? 0 : 1;
            }
            // Text streams as the replay goes, so a step that turns out not enabled still shows the story so far.
            var result = ScenarioRunner.Run(sc, BuiltinUniverses.Load, policy, u,
                onStart: (u, p, n) => stdout.WriteLine($"scenario {file}: universe {u.Name}, policy {p.Name}, {n} vCPU{(n == 1 ? "" : "s")}"),
                onEntry: e => Text(e, stdout));
            Footer(result, stdout);
            if (html is not null) CheckCommand.WriteHtml(html, AsReport(result), stdout);
            return result.Passed ? 0 : 1;
        }
        catch (Exception e) when (e is InputException or TomlException)
        {
            stderr.WriteLine(e.Message);
            return 2;
        }
    }

    /// <summary>The replay in the shape of a check report, for the HTML timeline: every event a
    /// step; a failed expectation makes it "violated" and highlights the last step before it.</summary>
    static CheckReport AsReport(ScenarioResult r)
    {
        var events = r.Entries.OfType<StepEntry>().SelectMany(s => s.Events).ToList();
        return new CheckReport
        {
            Universe = r.Universe.Name,
            File = r.Scenario.File,
            Policy = r.Policy.Name,
            Vcpus = r.Vcpus,
            DepthBound = events.Count,
            Verdict = r.Passed ? "holds" : "violated",
            Property = r.Failed?.Item.Text,
            Vcpu = r.Failed is null ? null : events.LastOrDefault()?.Vcpu,
            Explanation = r.Failed?.Detail,
            VerdictLine = r.Failed is { } f ? $"scenario FAILED at {f.Item.Pos}: {f.Item.Text}" : "scenario passed: every expect held",
            Stats = new CheckStats(events.Count + 1, events.Count, events.Count, 0, 0, 0, 0),
            Trace = events.Select((e, i) => new TraceStep(i + 1, e.Label, e.Actor, e.Vcpu, e.Changes)).ToArray(),
        };
    }

    static string Lane(Actor a) => a switch { Actor.Userspace => "user", Actor.L1 => "L1", Actor.L2 => "L2", _ => "L0" };

    /// <summary>One line per event, its lane in a column of its own, the changed fields under it.</summary>
    static void Text(ScenarioEntry e, TextWriter w)
    {
        switch (e)
        {
            case StepEntry s:
                if (s.Events.Count == 0) w.WriteLine($"{s.Item.Pos.Line,5}  {"",-10} {s.Item.Text} (nothing to do)");
                foreach (var ev in s.Events)
                {
                    w.WriteLine($"{s.Item.Pos.Line,5}  {$"vcpu{ev.Vcpu} {Lane(ev.Actor)}",-10} {ev.Label[(ev.Label.IndexOf(": ") + 2)..]}");
                    foreach (var c in ev.Changes) w.WriteLine($"{"",18}{c}");
                }
                break;
            case ExpectEntry x:
                w.WriteLine($"{x.Item.Pos.Line,5}  {x.Item.Text}: {(x.Ok ? "ok" : "FAILED")} ({x.Detail})");
                break;
            case UnexpectedEntry u:
                w.WriteLine($"{"!",5}  {u.Property.Id()} breaks at event {u.EventIndex} with no expect violated for it: {u.Explanation}");
                break;
        }
    }

    static void Footer(ScenarioResult r, TextWriter w)
    {
        int expects = r.Entries.Count(e => e is ExpectEntry);
        int unexpected = r.Entries.Count(e => e is UnexpectedEntry);
        string where = $"universe {r.Universe.Name}, policy {r.Policy.Name}, {r.Vcpus} vCPU{(r.Vcpus == 1 ? "" : "s")}";
        w.WriteLine(r.Failed is { } f
            ? $"result: FAILED at {f.Item.Pos}: {f.Item.Text} ({where})"
            : $"result: passed, {expects} expect{(expects == 1 ? "" : "s")} held, {unexpected} unexpected violation{(unexpected == 1 ? "" : "s")} ({where})");
    }

    public static JsonObject Json(ScenarioResult r) => new()
    {
        ["scenario"] = r.Scenario.File,
        ["universe"] = r.Universe.Name,
        ["policy"] = r.Policy.Name,
        ["vcpus"] = r.Vcpus,
        ["passed"] = r.Passed,
        ["failed_at"] = r.Failed is { } f ? $"{f.Item.Pos}" : null,
        ["entries"] = new JsonArray(r.Entries.Select(e => (JsonNode)(e switch
        {
            StepEntry s => new JsonObject
            {
                ["kind"] = "step",
                ["line"] = s.Item.Pos.Line,
                ["text"] = s.Item.Text,
                ["events"] = new JsonArray(s.Events.Select(ev => (JsonNode)new JsonObject
                {
                    ["index"] = ev.Index,
                    ["event"] = ev.Label,
                    ["vcpu"] = ev.Vcpu,
                    ["lane"] = Lane(ev.Actor),
                    ["changes"] = new JsonArray(ev.Changes.Select(c => (JsonNode)JsonValue.Create(c)!).ToArray()),
                }).ToArray()),
            },
            ExpectEntry x => new JsonObject
            {
                ["kind"] = "expect",
                ["line"] = x.Item.Pos.Line,
                ["text"] = x.Item.Text,
                ["ok"] = x.Ok,
                ["detail"] = x.Detail,
            },
            UnexpectedEntry u => new JsonObject
            {
                ["kind"] = "unexpected-violation",
                ["event"] = u.EventIndex,
                ["property"] = u.Property.Id(),
                ["vcpu"] = u.Vcpu,
                ["explanation"] = u.Explanation,
            },
            _ => throw new InvalidOperationException(),
        })).ToArray()),
    };
}
