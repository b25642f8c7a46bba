namespace NestedApic.Hardware.Vmx;

/// <summary>
/// VMCS field encodings (SDM appendix B "Field Encoding in VMCS"; enum vmcs_field in KVM's
/// arch/x86/include/asm/vmx.h agrees). 64-bit fields name their full encoding; the high half is
/// encoding + 1.
/// </summary>
public enum VmcsField : uint
{
    VirtualProcessorId = 0x0000,
    PostedInterruptNotificationVector = 0x0002,
    LastPidPointerIndex = 0x0008,
    GuestInterruptStatus = 0x0810,
    MsrBitmap = 0x2004,
    VirtualApicAddress = 0x2012,
    ApicAccessAddress = 0x2014,
    PostedInterruptDescriptorAddress = 0x2016,
    EoiExitBitmap0 = 0x201C,
    EoiExitBitmap1 = 0x201E,
    EoiExitBitmap2 = 0x2020,
    EoiExitBitmap3 = 0x2022,
    TertiaryControls = 0x2034,
    PidPointerTable = 0x2042,
    PinBasedControls = 0x4000,
    PrimaryControls = 0x4002,
    ExitControls = 0x400C,
    EntryControls = 0x4012,
    EntryInterruptionInfo = 0x4016,
    TprThreshold = 0x401C,
    SecondaryControls = 0x401E,
    VmInstructionError = 0x4400,
    ExitReason = 0x4402,
    ExitInterruptionInfo = 0x4404,
    IdtVectoringInfo = 0x4408,
    GuestInterruptibility = 0x4824,
    ExitQualification = 0x6400,
    GuestRflags = 0x6820,
}
