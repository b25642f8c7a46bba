using System.Globalization;
using System.Text.Json;
using NestedApic.Hardware;

namespace NestedApic.Hardware.Vmx;

/// <summary>
/// One line of a VM-entry conformance file (tests/data/conformance/README.md): the inputs as
/// <see cref="VmxControls"/> plus MAXPHYADDR, and the optional expectation fields. Parsing is off
/// the hot path and allocates freely; it never throws on bad input.
/// </summary>
public sealed class VmEntryVector
{
    public required string Id { get; init; }
    public string? Source { get; init; }
    public required VmxControls Controls { get; init; }
    public required int MaxPhyAddr { get; init; }
    /// <summary>False when <c>vtpr</c> was null (the test does not control VTPR; it is taken as 0).</summary>
    public bool VtprGiven { get; init; }
    /// <summary>"ok", "fail", or null when the line carries no expectation.</summary>
    public string? Expect { get; init; }
    public int? Error { get; init; }
    public string? Rule { get; init; }
    public IReadOnlyList<string> Violations { get; init; } = [];
    public bool? AssertedByTest { get; init; }
    public string? Note { get; init; }

    /// <summary>Evaluates the case with the architectural checks.</summary>
    public VmEntryRule Evaluate() => VmEntryChecks.Check(Controls, MaxPhyAddr);

    public static bool TryParse(string line, out VmEntryVector? vector, out ConformanceFieldError error)
    {
        vector = null;
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(line);
        }
        catch (JsonException e)
        {
            error = new("(line)", $"not valid JSON: {e.Message}");
            return false;
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                error = new("(line)", $"expected a JSON object, found {root.ValueKind}");
                return false;
            }
            var p = new ConformanceLineReader(root);
            string? id = p.RequiredString("id");
            uint pin = p.Hex32("pin"), primary = p.Hex32("primary"), secondary = p.Hex32("secondary");
            uint exit = p.Hex32("exit_controls"), threshold = p.Hex32("tpr_threshold");
            uint? vtpr = p.OptionalHex32("vtpr");
            ulong vapic = p.Hex64("virtual_apic_addr"), access = p.Hex64("apic_access_addr");
            ushort nv = (ushort)p.Hex("pi_nv", 0xFFFF, "a 16-bit field");
            ulong desc = p.Hex64("pi_desc_addr");
            int maxPhy = p.MaxPhyAddr("maxphyaddr", VmEntryChecks.MinMaxPhyAddr, VmEntryChecks.MaxMaxPhyAddr);
            string? expect = p.OptionalString("expect");
            if (p.Error is null && expect is not null && expect != "ok" && expect != "fail")
                p.Fail("expect", $"must be \"ok\" or \"fail\", not \"{expect}\"");
            int? err = p.OptionalInt("error");
            string? rule = p.OptionalString("rule");
            string[] violations = p.OptionalStringArray("violations");
            bool? asserted = p.OptionalBool("asserted_by_test");
            string? note = p.OptionalString("note");
            string? source = p.OptionalString("source");
            if (p.Error is { } e2) { error = e2; return false; }
            error = default;
            vector = new VmEntryVector
            {
                Id = id!,
                Source = source,
                Controls = new VmxControls
                {
                    Pin = pin, Primary = primary, Secondary = secondary, Exit = exit,
                    TprThreshold = threshold, Vtpr = vtpr ?? 0,
                    VirtualApicAddr = vapic, ApicAccessAddr = access,
                    PiNotificationVector = nv, PiDescAddr = desc,
                },
                MaxPhyAddr = maxPhy,
                VtprGiven = vtpr.HasValue,
                Expect = expect, Error = err, Rule = rule, Violations = violations,
                AssertedByTest = asserted, Note = note,
            };
            return true;
        }
    }
}
