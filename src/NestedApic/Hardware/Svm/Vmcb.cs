namespace NestedApic.Hardware.Svm;

// Offsets and bits from AMD APM vol. 2 appendix B table B-1 "VMCB Layout, Control Area" and
// §15.29 (AVIC), cross-checked with struct vmcb_control_area in arch/x86/include/asm/svm.h.

/// <summary>Byte offsets of the VMCB control-area fields this layer reads (APM table B-1).</summary>
public static class VmcbOffset
{
    public const int InterceptCr = 0x000;
    public const int InterceptDr = 0x004;
    public const int InterceptExceptions = 0x008;
    /// <summary>Intercept word 3 (INTR, NMI, ..., IOIO_PROT, MSR_PROT, SHUTDOWN).</summary>
    public const int InterceptMisc1 = 0x00C;
    /// <summary>Intercept word 4 (VMRUN, VMMCALL, ...).</summary>
    public const int InterceptMisc2 = 0x010;
    public const int IopmBasePa = 0x040;
    public const int MsrpmBasePa = 0x048;
    public const int TscOffset = 0x050;
    /// <summary>Guest ASID (32 bits).</summary>
    public const int GuestAsid = 0x058;
    public const int TlbControl = 0x05C;
    /// <summary>Virtual-interrupt control, bits 31:0 (<see cref="IntCtl"/>).</summary>
    public const int IntCtl = 0x060;
    /// <summary>V_INTR_VECTOR, bits 39:32 of the 64-bit field at 060h.</summary>
    public const int IntVector = 0x064;
    public const int InterruptShadow = 0x068;
    public const int ExitCode = 0x070;
    public const int ExitInfo1 = 0x078;
    public const int ExitInfo2 = 0x080;
    public const int ExitIntInfo = 0x088;
    public const int NestedControl = 0x090;
    /// <summary>AVIC APIC_BAR: the guest physical address of the APIC page (unused by x2AVIC).</summary>
    public const int AvicApicBar = 0x098;
    public const int EventInjection = 0x0A8;
    public const int NestedCr3 = 0x0B0;
    public const int CleanBits = 0x0C0;
    public const int NextRip = 0x0C8;
    /// <summary>AVIC_BACKING_PAGE pointer: host physical address of this vCPU's backing page.</summary>
    public const int AvicBackingPage = 0x0E0;
    /// <summary>AVIC_LOGICAL_TABLE pointer (bits 51:12; unused by x2AVIC).</summary>
    public const int AvicLogicalTable = 0x0F0;
    /// <summary>AVIC_PHYSICAL_TABLE pointer (bits 51:12) and AVIC_PHYSICAL_MAX_INDEX (bits 11:0).</summary>
    public const int AvicPhysicalTable = 0x0F8;
}

/// <summary>Intercept word at 00Ch (APM table B-1).</summary>
public static class InterceptMisc1
{
    public const uint Intr = 1u << 0;
    public const uint Nmi = 1u << 1;
    public const uint Smi = 1u << 2;
    public const uint Init = 1u << 3;
    public const uint Vintr = 1u << 4;
    public const uint IoioProt = 1u << 27;
    public const uint MsrProt = 1u << 28;
    public const uint Shutdown = 1u << 31;
}

/// <summary>Intercept word at 010h (APM table B-1).</summary>
public static class InterceptMisc2
{
    public const uint Vmrun = 1u << 0;
    public const uint Vmmcall = 1u << 1;
}

/// <summary>Bits of the virtual-interrupt control word at 060h (APM table B-1, §15.21.8-10, §15.29).</summary>
public static class IntCtl
{
    public const int VTprShift = 0;
    /// <summary>V_TPR, bits 7:0 (only 3:0 are used: the guest's CR8).</summary>
    public const uint VTprMask = 0xFFu;
    public const uint VIrq = 1u << 8;
    public const uint VGif = 1u << 9;
    public const uint VNmi = 1u << 11;
    public const uint VNmiMask = 1u << 12;
    public const int VIntrPrioShift = 16;
    /// <summary>V_INTR_PRIO, bits 19:16.</summary>
    public const uint VIntrPrioMask = 0xFu << VIntrPrioShift;
    public const uint VIgnTpr = 1u << 20;
    public const uint VIntrMasking = 1u << 24;
    public const uint VGifEnable = 1u << 25;
    public const uint VNmiEnable = 1u << 26;
    /// <summary>x2AVIC enable; VMRUN fails if set without <see cref="AvicEnable"/> (APM §15.29.1).</summary>
    public const uint X2AvicEnable = 1u << 30;
    public const uint AvicEnable = 1u << 31;
}

/// <summary>Masks of the AVIC pointer fields (APM §15.29.3, figures 15-17 to 15-19).</summary>
public static class AvicPointer
{
    /// <summary>Bits 51:12: a 4-KiB-aligned host physical address.</summary>
    public const ulong AddressMask = 0x000F_FFFF_FFFF_F000UL;
    /// <summary>AVIC_PHYSICAL_MAX_INDEX in the low bits of 0F8h (12 bits since APM 3.43).</summary>
    public const ulong MaxIndexMask = 0xFFFUL;
    /// <summary>Highest legal MAX_INDEX in xAVIC mode: 8-bit APIC IDs (APM §15.29.3.1).</summary>
    public const int XAvicMaxIndexLimit = 0xFF;
    /// <summary>Highest legal MAX_INDEX in x2AVIC mode without the x2AVIC_EXT extension.</summary>
    public const int X2AvicMaxIndexLimit = 0x1FF;
    /// <summary>Highest legal MAX_INDEX with x2AVIC_EXT (CPUID Fn8000_000A_ECX[6]).</summary>
    public const int X2AvicExtMaxIndexLimit = 0xFFF;
}
