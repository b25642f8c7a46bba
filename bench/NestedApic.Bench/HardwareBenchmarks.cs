using BenchmarkDotNet.Attributes;
using NestedApic.Hardware.Vmx;

namespace NestedApic.Bench;

/// <summary>The VM-entry control checks: a fully enabled valid configuration (every rule runs to
/// the end) and a failing one, plus KVM's nested entry point and the all-violations set.</summary>
[MemoryDiagnoser]
public class VmEntryCheckBenchmarks
{
    private VmxControls _valid, _invalid;

    [GlobalSetup]
    public void Setup()
    {
        _valid = new VmxControls
        {
            Pin = 0xbf, Primary = 0x84206172, Secondary = 0x310, Exit = 0x002beffb,
            VirtualApicAddr = 0x4d6000, PiNotificationVector = 0xf2, PiDescAddr = 0x4d7000,
        };
        _invalid = _valid;
        _invalid.PiDescAddr = 0x4d7020; // pi-desc-addr-valid
    }

    [Benchmark(Baseline = true)]
    public VmEntryRule CheckValid() => VmEntryChecks.Check(_valid, 46);

    [Benchmark]
    public VmEntryRule CheckInvalid() => VmEntryChecks.Check(_invalid, 46);

    [Benchmark]
    public NestedCheckResult CheckNestedValid() => VmEntryChecks.CheckNested(_valid, 46);

    [Benchmark]
    public VmEntryViolations CheckAllInvalid() => VmEntryChecks.CheckAll(_invalid, 46);
}

/// <summary>Virtual-interrupt evaluation (SDM 29.2.1) alone, and a whole self-IPI, delivery and
/// EOI round trip through the virtual APIC.</summary>
[MemoryDiagnoser]
public class VirtualInterruptBenchmarks
{
    private VmxControls _c;
    private VirtualApic _apic;

    [GlobalSetup]
    public void Setup()
    {
        _c = new VmxControls { Pin = 0xbf, Primary = 0x84206172, Secondary = 0x210, Exit = 0x002beffb };
        _apic = new VirtualApic();
        _apic.Page.Vtpr = 0x40;
        _apic.Page.Virr.Set(0x61);
        _apic.Status.Rvi = 0x61;
        _apic.PprVirtualization();
    }

    [Benchmark(Baseline = true)]
    public ApicVirtualizationOutcome Evaluate() => _apic.EvaluatePendingVirtualInterrupts(_c);

    [Benchmark]
    public int SelfIpiDeliverEoi()
    {
        _apic.SelfIpiVirtualization(_c, 0x91);
        int v = _apic.DeliverVirtualInterrupt(_c, interruptible: true);
        _apic.EoiVirtualization(_c, out _);
        return v;
    }
}
