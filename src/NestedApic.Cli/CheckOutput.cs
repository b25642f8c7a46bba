using System.Text.Json;
using System.Text.Json.Nodes;
using NestedApic.Scenarios;

namespace NestedApic.Cli;

/// <summary>How `check` prints a report: text for people, one JSON document for tools, a table for the suite.</summary>
public static class CheckOutput
{
    /// <summary>Colours only on a terminal, and never when NO_COLOR is set (no-color.org).</summary>
    public static bool UseColour(TextWriter w) =>
        ReferenceEquals(w, Console.Out) && !Console.IsOutputRedirected && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NO_COLOR"));

    static string Paint(string text, string verdict, bool colour) =>
        !colour ? text : $"\u001b[{(verdict == "violated" ? "1;31" : verdict == "holds" ? "1;32" : "1;33")}m{text}\u001b[0m";

    public static void Text(CheckReport r, TextWriter w)
    {
        w.WriteLine($"universe {r.Universe} ({r.File}), policy {r.Policy}, {r.Vcpus} vCPU{(r.Vcpus == 1 ? "" : "s")}, depth bound {r.DepthBound}");
        w.WriteLine("verdict: " + Paint($"{r.Verdict}{(r.Property is null ? "" : $" {r.Property} on vcpu{r.Vcpu}")}", r.Verdict, UseColour(w)));
        w.WriteLine($"  {r.VerdictLine}");
        w.WriteLine($"  {StatsLine(r.Stats)}");
        if (r.Stats.PeakMemoryBytes > 0)
            w.WriteLine($"  peak memory {NestedApic.Checking.Memory.Format(r.Stats.PeakMemoryBytes)} (the whole process){(r.Stats.States >= 100_000 ? $", {r.Stats.BytesPerState:F1} bytes/state" : "")}; budget {NestedApic.Checking.Memory.Format(r.Stats.MemoryBudgetBytes)}");
        w.WriteLine(r.Stats.CollisionProbability == 0 ? "  states stored exactly: no fingerprint collision possible"
            : $"  probability that a fingerprint collision hid a state: {r.Stats.CollisionProbability:G2} (TLC's optimistic estimate)");
        w.WriteLine(r.Reduction is { } red
            ? $"  reduction: {red.Kind}: {red.ReducedStates:N0} states expanded partially, {red.SkippedSteps:N0} steps skipped{(red.ChainedStates > 0 ? $", {red.ChainedStates:N0} states passed in chains, not stored" : "")} (--no-reduce for the full graph)"
            : "  reduction: none (every interleaving explored)");
        if (r.Trace.Count > 0 || r.Verdict == "violated")
        {
            w.WriteLine($"trace ({r.Trace.Count} step{(r.Trace.Count == 1 ? "" : "s")}{(r.TraceKnownShortest ? "" : "; not known to be shortest: a search without reduction (--no-reduce) gives one")}):");
            foreach (var step in r.Trace)
            {
                w.WriteLine($"  {step.Index,3}. {step.Label}");
                foreach (var c in step.Changes) w.WriteLine($"         {c}");
            }
        }
        if (r.Explanation is not null) w.WriteLine($"violation: {r.Property}: {r.Explanation}");
        if (r.Expected is not null)
            w.WriteLine($"expected: {r.Expected} — {Expectation(r)}");
    }

    /// <summary>met, NOT met, or unknown when a bound or Ctrl-C stopped the search first.</summary>
    public static string Expectation(CheckReport r) =>
        r.Stopped ? $"unknown (stopped by {r.StoppedBy})" : r.MeetsExpectation ? "met" : "NOT met";

    /// <summary>Rates only where they mean something: states/s over at least half a second
    /// (bytes/state, from the peak memory, is on the next line).</summary>
    public static string StatsLine(CheckStats s)
    {
        string line = $"{s.States:N0} states, {s.Transitions:N0} transitions, depth {s.Depth}, {s.Seconds:F2} s";
        if (s.Seconds >= 0.5) line += $", {s.StatesPerSecond:N0} states/s";
        return line;
    }

    public static JsonObject Json(CheckReport r) => new()
    {
        ["universe"] = r.Universe,
        ["file"] = r.File,
        ["policy"] = r.Policy,
        ["vcpus"] = r.Vcpus,
        ["depth_bound"] = r.DepthBound,
        ["verdict"] = r.Verdict,
        ["stopped_by"] = r.StoppedBy,
        ["property"] = r.Property,
        ["vcpu"] = r.Vcpu,
        ["explanation"] = r.Explanation,
        ["verdict_line"] = r.VerdictLine,
        ["expected"] = r.Expected,
        ["meets_expectation"] = r.MeetsExpectation,
        ["stats"] = new JsonObject
        {
            ["states"] = r.Stats.States,
            ["transitions"] = r.Stats.Transitions,
            ["depth"] = r.Stats.Depth,
            ["seconds"] = Math.Round(r.Stats.Seconds, 4),
            ["states_per_second"] = Math.Round(r.Stats.StatesPerSecond),
            ["bytes_per_state"] = Math.Round(r.Stats.BytesPerState, 2),
            ["collision_probability"] = r.Stats.CollisionProbability,
            ["peak_memory_bytes"] = r.Stats.PeakMemoryBytes,
            ["memory_budget_bytes"] = r.Stats.MemoryBudgetBytes,
            ["levels"] = new JsonArray(r.Stats.Levels.Select(n => (JsonNode)JsonValue.Create(n)).ToArray()),
        },
        ["reduction"] = r.Reduction is { } red ? new JsonObject
        {
            ["kind"] = red.Kind,
            ["reduced_states"] = red.ReducedStates,
            ["skipped_steps"] = red.SkippedSteps,
            ["chained_states"] = red.ChainedStates,
        } : null,
        ["trace_known_shortest"] = r.TraceKnownShortest,
        ["trace"] = new JsonArray(r.Trace.Select(t => (JsonNode)new JsonObject
        {
            ["step"] = t.Index,
            ["event"] = t.Label,
            ["actor"] = t.Actor.ToString(),
            ["vcpu"] = t.Vcpu,
            ["changes"] = new JsonArray(t.Changes.Select(c => (JsonNode)JsonValue.Create(c)!).ToArray()),
        }).ToArray()),
    };

    public static string JsonText(JsonNode n) => n.ToJsonString(new JsonSerializerOptions { WriteIndented = true });

    /// <summary>The suite table's name columns, as wide as the longest name of the runs.</summary>
    public sealed record SuiteWidths(int Universe, int Policy);

    public static void SuiteHeader(TextWriter w, SuiteWidths n) =>
        w.WriteLine($"{Pad("universe", n.Universe)} {"vcpus",5} {Pad("policy", n.Policy)} {"verdict",-14} {"property",-28} {"trace",5} {"states",9} {"seconds",8}  expected");

    public static void SuiteRow(CheckReport r, TextWriter w, SuiteWidths n) =>
        w.WriteLine($"{Pad(r.Universe, n.Universe)} {r.Vcpus,5} {Pad(r.Policy, n.Policy)} {r.Verdict,-14} {r.Property ?? "-",-28} {(r.Verdict == "violated" ? r.Trace.Count.ToString() : "-"),5} {r.Stats.States,9} {r.Stats.Seconds,8:F2}  {(r.Expected ?? "-")} {(r.Stopped ? $"unknown (stopped by {r.StoppedBy})" : r.MeetsExpectation ? "ok" : "MISMATCH")}");

    static string Pad(string s, int width) => s.PadRight(Math.Max(width, 8));
}
