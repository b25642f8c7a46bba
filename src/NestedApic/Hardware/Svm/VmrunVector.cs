using System.Globalization;
using System.Text.Json;
using NestedApic.Hardware;

namespace NestedApic.Hardware.Svm;

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

    public static bool TryParse(string line, out VmrunVector? vector, out ConformanceFieldError error)
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
            var p = new ConformanceLineReader(root);
            string? id = p.RequiredString("id");
            uint asid = p.UInt32("asid");
            bool vmrun = p.Bool("intercept_vmrun"), nmi = p.Bool("intercept_nmi");
            uint intCtl = (uint)p.Hex("int_ctl", uint.MaxValue, "a 32-bit field", true);
            ulong msrpm = p.Hex("msrpm_base_pa", ulong.MaxValue, "a 64-bit field", true);
            ulong iopm = p.Hex("iopm_base_pa", ulong.MaxValue, "a 64-bit field", true);
            bool msrProt = p.Bool("intercept_msr_prot"), ioProt = p.Bool("intercept_ioio_prot");
            int maxPhy = p.MaxPhyAddr("maxphyaddr", VmrunChecks.MinMaxPhyAddr, VmrunChecks.MaxMaxPhyAddr);
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
}
