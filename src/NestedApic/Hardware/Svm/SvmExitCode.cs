namespace NestedApic.Hardware.Svm;

/// <summary>#VMEXIT codes this layer produces or names (APM appendix C "SVM Intercept Exit Codes").</summary>
public static class SvmExitCode
{
    /// <summary>VMEXIT_INVALID: VMRUN found illegal guest state or controls (APM §15.5.1). The field is
    /// 64-bit; -1 is all ones.</summary>
    public const long VmexitInvalid = -1;
    public const long Intr = 0x60;
    public const long Nmi = 0x61;
    public const long Vintr = 0x64;
    public const long Vmrun = 0x80;
    /// <summary>AVIC_INCOMPLETE_IPI (APM §15.29.9.1): a trap; EXITINFO1 = ICRH:ICRL, EXITINFO2 = cause:index.</summary>
    public const long AvicIncompleteIpi = 0x401;
    /// <summary>AVIC_NOACCEL (APM §15.29.9.2): an APIC register access AVIC does not accelerate.</summary>
    public const long AvicNoAccel = 0x402;

    /// <summary>The name the conformance files use for an exit code; null for "no exit".</summary>
    public static string? Name(long? code) => code switch
    {
        null => null,
        VmexitInvalid => "VMEXIT_INVALID",
        AvicIncompleteIpi => "AVIC_INCOMPLETE_IPI",
        AvicNoAccel => "AVIC_NOACCEL",
        _ => $"0x{code.Value:x}",
    };
}

/// <summary>The ID field of AVIC_INCOMPLETE_IPI's EXITINFO2[63:32] (APM §15.29.9.1).</summary>
public enum IncompleteIpiCause : uint
{
    /// <summary>Not a fixed edge-triggered interrupt, or an unsupported destination type.</summary>
    InvalidIntType = 0,
    /// <summary>IRR was set, but at least one target had IsRunning = 0; index names that entry.</summary>
    TargetNotRunning = 1,
    /// <summary>A directed target's physical- or logical-table entry is not valid.</summary>
    InvalidTarget = 2,
    /// <summary>A target's backing-page pointer is not usable.</summary>
    InvalidBackingPage = 3,
    /// <summary>Vector 0-15.</summary>
    InvalidVector = 4,
}

/// <summary>The AVIC doorbell (APM §15.29.8.2).</summary>
public static class AvicDoorbell
{
    /// <summary>MSR C001_011Bh: WRMSR of a host physical APIC ID signals that core; RDMSR is #GP.</summary>
    public const uint Msr = 0xC001_011B;
}
