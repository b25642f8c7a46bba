using System.Globalization;
using System.Text.Json;

namespace NestedApic.Hardware.Svm;

/// <summary>A problem with one field of a vector line; <see cref="Field"/> is the JSON name.</summary>
public readonly record struct VmrunVectorError(string Field, string Message)
{
    /// <summary>The command's diagnostic: <c>FILE:LINE: field X: what is wrong</c>.</summary>
    public string Format(string file, int line) => $"{file}:{line}: field {Field}: {Message}";
}

/// <summary>
/// One line of vmrun-vectors-svm.jsonl (tests/data/conformance/README.md): the inputs as
/// <see cref="VmcbControls"/> plus MAXPHYADDR, and the expectation fields. The AVIC pointers are
/// optional extensions (absent: 0). Parsing is off the hot path; it never throws on bad input.
/// </summary>
public sealed class VmrunVector
{
    public required string Id { get; init; }
    public string? Source { get; init; }
    public required VmcbControls Controls { get; init; }
    public required int MaxPhyAddr { get; init; }
    /// <summary>"ok", "fail", or null when the line carries no expectation.</summary>
    public string? Expect { get; init; }
    /// <summary>"VMEXIT_INVALID" or null.</summary>
    public string? ExitCode { get; init; }
    public string? Rule { get; init; }
    public bool? KvmNestedCheckAgrees { get; init; }
    public string? Note { get; init; }

    public VmrunRule Evaluate() => VmrunChecks.Check(Controls, MaxPhyAddr);

    public static bool TryParse(string line, out VmrunVector? vector, out VmrunVectorError error)
    {
        vector = null;
        JsonDocument doc;
        try { doc = JsonDocument.Parse(line); }
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
            uint asid = p.UInt32("asid");
            bool vmrun = p.Bool("intercept_vmrun"), nmi = p.Bool("intercept_nmi");
            uint intCtl = (uint)p.Hex("int_ctl", uint.MaxValue, "a 32-bit field", true);
            ulong msrpm = p.Hex("msrpm_base_pa", ulong.MaxValue, "a 64-bit field", true);
            ulong iopm = p.Hex("iopm_base_pa", ulong.MaxValue, "a 64-bit field", true);
            bool msrProt = p.Bool("intercept_msr_prot"), ioProt = p.Bool("intercept_ioio_prot");
            int maxPhy = p.MaxPhyAddr("maxphyaddr");
            ulong bar = p.Hex("avic_apic_bar", ulong.MaxValue, "a 64-bit field", false);
            ulong backing = p.Hex("avic_backing_page", ulong.MaxValue, "a 64-bit field", false);
            ulong logical = p.Hex("avic_logical_table", ulong.MaxValue, "a 64-bit field", false);
            ulong physical = p.Hex("avic_physical_table", ulong.MaxValue, "a 64-bit field", false);
            string? expect = p.OptionalString("expect");
            if (p.Error is null && expect is not null && expect != "ok" && expect != "fail")
                p.Fail("expect", $"must be \"ok\" or \"fail\", not \"{expect}\"");
            string? exitCode = p.OptionalString("exit_code");
            if (p.Error is null && exitCode is not null && exitCode != "VMEXIT_INVALID")
                p.Fail("exit_code", $"must be \"VMEXIT_INVALID\" or null, not \"{exitCode}\"");
            string? rule = p.OptionalString("rule");
            bool? agrees = p.OptionalBool("kvm_nested_check_agrees");
            string? note = p.OptionalString("note");
            string? source = p.OptionalString("source");
            if (p.Error is { } e2) { error = e2; return false; }
            error = default;
            vector = new VmrunVector
            {
                Id = id!,
                Source = source,
                Controls = new VmcbControls
                {
                    InterceptMisc1 = (nmi ? InterceptMisc1.Nmi : 0) | (msrProt ? InterceptMisc1.MsrProt : 0) |
                        (ioProt ? InterceptMisc1.IoioProt : 0),
                    InterceptMisc2 = vmrun ? InterceptMisc2.Vmrun : 0,
                    Asid = asid, IntCtl = intCtl, MsrpmBasePa = msrpm, IopmBasePa = iopm,
                    AvicApicBar = bar, AvicBackingPage = backing, AvicLogicalTable = logical, AvicPhysicalTable = physical,
                },
                MaxPhyAddr = maxPhy,
                Expect = expect, ExitCode = exitCode, Rule = rule, KvmNestedCheckAgrees = agrees, Note = note,
            };
            return true;
        }
    }

    /// <summary>Reads fields, keeping the first problem and ignoring everything after it.</summary>
    private struct Reader(JsonElement root)
    {
        public VmrunVectorError? Error;

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
            if (v.ValueKind == JsonValueKind.String && v.GetString()!.Length > 0) return v.GetString();
            Fail(name, $"expected a non-empty string, found {Describe(v)}");
            return null;
        }

        public string? OptionalString(string name)
        {
            if (!Get(name, false, out var v) || v.ValueKind == JsonValueKind.Null) return null;
            if (v.ValueKind == JsonValueKind.String) return v.GetString();
            Fail(name, $"expected a string or null, found {Describe(v)}");
            return null;
        }

        public bool Bool(string name)
        {
            if (!Get(name, true, out var v)) return false;
            if (v.ValueKind is JsonValueKind.True or JsonValueKind.False) return v.GetBoolean();
            Fail(name, $"expected true or false, found {Describe(v)}");
            return false;
        }

        public bool? OptionalBool(string name)
        {
            if (!Get(name, false, out var v) || v.ValueKind == JsonValueKind.Null) return null;
            if (v.ValueKind is JsonValueKind.True or JsonValueKind.False) return v.GetBoolean();
            Fail(name, $"expected true, false or null, found {Describe(v)}");
            return null;
        }

        public uint UInt32(string name)
        {
            if (!Get(name, true, out var v)) return 0;
            if (v.ValueKind == JsonValueKind.Number && v.TryGetUInt32(out uint u)) return u;
            Fail(name, $"expected an integer 0..4294967295, found {Describe(v)}");
            return 0;
        }

        public int MaxPhyAddr(string name)
        {
            if (!Get(name, true, out var v)) return 0;
            if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt32(out int i))
            {
                Fail(name, $"expected an integer, found {Describe(v)}");
                return 0;
            }
            if (i < VmrunChecks.MinMaxPhyAddr || i > VmrunChecks.MaxMaxPhyAddr)
                Fail(name, $"{i} is out of range {VmrunChecks.MinMaxPhyAddr}..{VmrunChecks.MaxMaxPhyAddr}");
            return i;
        }

        public ulong Hex(string name, ulong max, string what, bool required)
        {
            if (!Get(name, required, out var v)) return 0;
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
