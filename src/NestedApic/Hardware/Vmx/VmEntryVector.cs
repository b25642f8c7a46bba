using System.Globalization;
using System.Text.Json;

namespace NestedApic.Hardware.Vmx;

/// <summary>A problem with one field of a vector line; <see cref="Field"/> is the JSON name.</summary>
public readonly record struct VmEntryVectorError(string Field, string Message)
{
    /// <summary>The command's diagnostic: <c>FILE:LINE: field X: what is wrong</c>.</summary>
    public string Format(string file, int line) => $"{file}:{line}: field {Field}: {Message}";
}

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

    public static bool TryParse(string line, out VmEntryVector? vector, out VmEntryVectorError error)
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
            var p = new Reader(root);
            string? id = p.RequiredString("id");
            uint pin = p.Hex32("pin"), primary = p.Hex32("primary"), secondary = p.Hex32("secondary");
            uint exit = p.Hex32("exit_controls"), threshold = p.Hex32("tpr_threshold");
            uint? vtpr = p.OptionalHex32("vtpr");
            ulong vapic = p.Hex64("virtual_apic_addr"), access = p.Hex64("apic_access_addr");
            ushort nv = (ushort)p.Hex("pi_nv", 0xFFFF, "a 16-bit field");
            ulong desc = p.Hex64("pi_desc_addr");
            int maxPhy = p.MaxPhyAddr("maxphyaddr");
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

    /// <summary>Reads fields, keeping the first problem and ignoring everything after it.</summary>
    private struct Reader(JsonElement root)
    {
        public VmEntryVectorError? Error;

        public void Fail(string field, string message) => Error ??= new(field, message);

        private bool Get(string name, bool required, out JsonElement value)
        {
            value = default;
            if (Error is not null) return false;
            if (root.TryGetProperty(name, out value)) return true;
            if (required) Fail(name, "missing");
            return false;
        }

        public string? RequiredString(string name)
        {
            if (!Get(name, true, out var v)) return null;
            if (v.ValueKind != JsonValueKind.String || v.GetString()!.Length == 0)
            {
                Fail(name, $"expected a non-empty string, found {Describe(v)}");
                return null;
            }
            return v.GetString();
        }

        public string? OptionalString(string name)
        {
            if (!Get(name, false, out var v) || v.ValueKind == JsonValueKind.Null) return null;
            if (v.ValueKind == JsonValueKind.String) return v.GetString();
            Fail(name, $"expected a string or null, found {Describe(v)}");
            return null;
        }

        public string[] OptionalStringArray(string name)
        {
            if (!Get(name, false, out var v) || v.ValueKind == JsonValueKind.Null) return [];
            if (v.ValueKind != JsonValueKind.Array) { Fail(name, $"expected an array of strings, found {Describe(v)}"); return []; }
            var list = new List<string>();
            foreach (var item in v.EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.String) { Fail(name, $"expected an array of strings, found an element {Describe(item)}"); return []; }
                list.Add(item.GetString()!);
            }
            return [.. list];
        }

        public bool? OptionalBool(string name)
        {
            if (!Get(name, false, out var v) || v.ValueKind == JsonValueKind.Null) return null;
            if (v.ValueKind is JsonValueKind.True or JsonValueKind.False) return v.GetBoolean();
            Fail(name, $"expected true, false or null, found {Describe(v)}");
            return null;
        }

        public int? OptionalInt(string name)
        {
            if (!Get(name, false, out var v) || v.ValueKind == JsonValueKind.Null) return null;
            if (v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int i)) return i;
            Fail(name, $"expected an integer or null, found {Describe(v)}");
            return null;
        }

        public int MaxPhyAddr(string name)
        {
            if (!Get(name, true, out var v)) return 0;
            if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt32(out int i))
            {
                Fail(name, $"expected an integer, found {Describe(v)}");
                return 0;
            }
            if (i < VmEntryChecks.MinMaxPhyAddr || i > VmEntryChecks.MaxMaxPhyAddr)
                Fail(name, $"{i} is out of range {VmEntryChecks.MinMaxPhyAddr}..{VmEntryChecks.MaxMaxPhyAddr}");
            return i;
        }

        public uint Hex32(string name) => (uint)Hex(name, uint.MaxValue, "a 32-bit field");
        public ulong Hex64(string name) => Hex(name, ulong.MaxValue, "a 64-bit field");

        public uint? OptionalHex32(string name)
        {
            if (!Get(name, false, out var v) || v.ValueKind == JsonValueKind.Null) return null;
            return (uint)ParseHex(name, v, uint.MaxValue, "a 32-bit field");
        }

        public ulong Hex(string name, ulong max, string what) =>
            Get(name, true, out var v) ? ParseHex(name, v, max, what) : 0;

        private ulong ParseHex(string name, JsonElement v, ulong max, string what)
        {
            if (v.ValueKind != JsonValueKind.String) { Fail(name, $"expected a hex string such as \"0x1f\", found {Describe(v)}"); return 0; }
            string s = v.GetString()!;
            if (s.Length < 3 || s[0] != '0' || (s[1] | 0x20) != 'x' ||
                !ulong.TryParse(s.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong value))
            {
                bool tooLong = s.Length > 18 && s.StartsWith("0x", StringComparison.OrdinalIgnoreCase) &&
                    s.AsSpan(2).IndexOfAnyExcept("0123456789abcdefABCDEF") < 0;
                Fail(name, tooLong ? $"\"{s}\" is out of range for {what}" : $"\"{s}\" is not a hex value (0x followed by hex digits)");
                return 0;
            }
            if (value > max) { Fail(name, $"\"{s}\" is out of range for {what} (max 0x{max:x})"); return 0; }
            return value;
        }

        private static string Describe(JsonElement v) => v.ValueKind switch
        {
            JsonValueKind.String => $"\"{v.GetString()}\"",
            JsonValueKind.Null => "null",
            _ => v.GetRawText(),
        };
    }
}
