namespace NestedApic.Hardware.Vmx;

// Bit positions from the SDM's VM-execution/exit control tables (tables 24-5, 24-6, 24-7 and
// 24-10 in the 2016 edition), cross-checked with KVM's arch/x86/include/asm/vmx.h and
// asm/vmxfeatures.h.

/// <summary>Pin-based VM-execution controls (VMCS 0x4000).</summary>
public static class PinBasedControls
{
    public const uint ExternalInterruptExiting = 1u << 0;
    public const uint NmiExiting = 1u << 3;
    public const uint VirtualNmis = 1u << 5;
    public const uint ActivatePreemptionTimer = 1u << 6;
    public const uint ProcessPostedInterrupts = 1u << 7;
}

/// <summary>Primary processor-based VM-execution controls (VMCS 0x4002).</summary>
public static class PrimaryControls
{
    public const uint InterruptWindowExiting = 1u << 2;
    public const uint ActivateTertiaryControls = 1u << 17;
    public const uint Cr8LoadExiting = 1u << 19;
    public const uint Cr8StoreExiting = 1u << 20;
    public const uint UseTprShadow = 1u << 21;
    public const uint UseMsrBitmaps = 1u << 28;
    public const uint ActivateSecondaryControls = 1u << 31;
}

/// <summary>Secondary processor-based VM-execution controls (VMCS 0x401E); in force only when
/// <see cref="PrimaryControls.ActivateSecondaryControls"/> is 1.</summary>
public static class SecondaryControls
{
    public const uint VirtualizeApicAccesses = 1u << 0;
    public const uint EnableEpt = 1u << 1;
    public const uint VirtualizeX2ApicMode = 1u << 4;
    public const uint ApicRegisterVirtualization = 1u << 8;
    public const uint VirtualInterruptDelivery = 1u << 9;
    public const uint EnablePml = 1u << 17;
}

/// <summary>Tertiary processor-based controls (VMCS 0x2034, 64 bits).</summary>
public static class TertiaryControls
{
    public const ulong IpiVirtualization = 1ul << 4;
}

/// <summary>Primary VM-exit controls (VMCS 0x400C).</summary>
public static class ExitControls
{
    public const uint SaveDebugControls = 1u << 2;
    public const uint HostAddressSpaceSize = 1u << 9;
    public const uint AcknowledgeInterruptOnExit = 1u << 15;
    public const uint LoadPat = 1u << 19;
    public const uint LoadEfer = 1u << 21;
}

/// <summary>VM-instruction error numbers (SDM "VM-Instruction Error Numbers").</summary>
public static class VmInstructionError
{
    public const uint VmlaunchNonClearVmcs = 4;
    public const uint VmresumeNonLaunchedVmcs = 5;
    /// <summary>"VM entry with invalid control field(s)": every check of this layer fails with it.</summary>
    public const uint EntryInvalidControlFields = 7;
    public const uint EntryInvalidHostStateFields = 8;
    public const uint EntryEventsBlockedByMovSs = 26;
}

/// <summary>Basic exit reasons this layer produces or names.</summary>
public static class ExitReason
{
    public const uint ExternalInterrupt = 1;
    public const uint InterruptWindow = 7;
    public const uint InvalidGuestState = 33;
    public const uint TprBelowThreshold = 43;
    public const uint ApicAccess = 44;
    public const uint EoiInduced = 45;
    public const uint ApicWrite = 56;
    /// <summary>Bit 31 of the exit-reason field: VM-entry failure.</summary>
    public const uint FailedVmEntry = 1u << 31;
}
