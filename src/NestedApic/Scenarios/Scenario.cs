using NestedApic.Hypervisor;

namespace NestedApic.Scenarios;

/// <summary>Where a scenario line came from, for error messages ("FILE:LINE:COL").</summary>
public sealed record ScenarioPos(string File, int Line, int Column)
{
    public override string ToString() => $"{File}:{Line}:{Column}";
}

/// <summary>One step or expectation of a scenario, in file order (includes already inlined).</summary>
public abstract record ScenarioItem(ScenarioPos Pos, string Text);

/// <summary>A step: <c>vcpuN/LANE: EVENT ARGS</c> (Lane set, exactly a trace label) or the short
/// <c>vcpu N: EVENT ARGS</c> (Lane null: the one enabled step of vCPU N with that text, in any
/// lane). Vcpu is a number, "*" (every vCPU in turn) or "$" (the last one).</summary>
public sealed record StepItem(ScenarioPos Pos, string Text, string Vcpu, string? Lane, string Body) : ScenarioItem(Pos, Text);

/// <summary><c>expect holds P</c> / <c>expect violated P</c>, over every vCPU.</summary>
public sealed record ExpectPropertyItem(ScenarioPos Pos, string Text, bool Holds, Property Property) : ScenarioItem(Pos, Text);

/// <summary><c>expect FIELD = VALUE</c> with a field name of VmxModel.Fields ("vcpu0.apicv_active", "inhibits").</summary>
public sealed record ExpectFieldItem(ScenarioPos Pos, string Text, string Field, string Value) : ScenarioItem(Pos, Text);

/// <summary>A directive's value and where it was given.</summary>
public sealed record Directive<T>(T Value, ScenarioPos Pos);

/// <summary>
/// A scenario: a replay, one step a line, of events a KVM developer writes down (or `check
/// --save-trace` writes), with expectations along the way. The grammar is in docs/scenarios.md.
/// </summary>
public sealed record Scenario
{
    public required string File { get; init; }
    public Directive<string>? Universe { get; init; }
    public Directive<string>? Policy { get; init; }
    public Directive<int>? Vcpus { get; init; }
    public IReadOnlyList<ScenarioItem> Items { get; init; } = [];

    /// <summary>The policy used when a scenario names none (overridable with --policy).</summary>
    public const string DefaultPolicy = "linux-5.17";
    /// <summary>`policy universe`: take the universe's policy, overrides included.</summary>
    public const string UniversePolicy = "universe";

    /// <summary>The universe a scenario uses when it names none: two vCPUs, vector 0xE0, and the
    /// two vmcs12s the shipped stories need (the seed's and the 2025 selftest's). No setup: a
    /// scenario creates its vCPUs itself.</summary>
    public static Universe Minimal { get; } = Scenarios.Universe.Parse("""
        name = "minimal"
        description = "the default universe of scenarios"
        vcpus = 2
        vectors = [0xE0]

        [[vmcs12]]
        name = "no-tpr-shadow"
        pin = 0x00000001
        primary = 0x00000000
        exit = 0x00008000

        [[vmcs12]]
        name = "apic-passthrough"
        pin = 0x00000001
        primary = 0x80000000
        exit = 0x00008000
        apic-passthrough = true
        """, "<built-in minimal universe>");

    public static Scenario Load(string path) => ScenarioParser.Load(path);
    public static Scenario Parse(string text, string file) => ScenarioParser.Parse(text, file);
}
