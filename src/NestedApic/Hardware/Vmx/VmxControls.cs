using NestedApic.Hardware.Apic;

namespace NestedApic.Hardware.Vmx;

/// <summary>
/// The VMCS fields that the APIC-virtualization VM-entry checks and algorithms read, held as
/// raw hardware values. <see cref="Vtpr"/> is not a VMCS field: it is the 32-bit word at offset
/// 0x80 of the virtual-APIC page, which the TPR-threshold check reads from memory at entry.
/// </summary>
public struct VmxControls
{
    public uint Pin;
    public uint Primary;
    /// <summary>The secondary word as written; see <see cref="EffectiveSecondary"/>.</summary>
    public uint Secondary;
    public uint Exit;
    public uint TprThreshold;
    public ulong VirtualApicAddr;
    public ulong ApicAccessAddr;
    public ulong PiDescAddr;
    /// <summary>The whole 16-bit field; bits 15:8 must be 0 when posted interrupts are on.</summary>
    public ushort PiNotificationVector;
    /// <summary>VTPR as the 32-bit word in memory; only bits 7:4 enter any check.</summary>
    public uint Vtpr;
    /// <summary>EOI_EXIT_BITMAP0..3 (0x201C..0x2022); read by EOI virtualization only.</summary>
    public VectorSet EoiExitBitmap;

    /// <summary>
    /// The secondary controls in force: the written word when "activate secondary controls" is 1,
    /// else 0, because the processor then behaves as if every secondary control were 0 (SDM 24.6.2).
    /// </summary>
    public readonly uint EffectiveSecondary =>
        (Primary & PrimaryControls.ActivateSecondaryControls) != 0 ? Secondary : 0;

    public readonly bool UseTprShadow => (Primary & PrimaryControls.UseTprShadow) != 0;
    public readonly bool InterruptWindowExiting => (Primary & PrimaryControls.InterruptWindowExiting) != 0;
    public readonly bool VirtualizeApicAccesses => (EffectiveSecondary & SecondaryControls.VirtualizeApicAccesses) != 0;
    public readonly bool VirtualizeX2ApicMode => (EffectiveSecondary & SecondaryControls.VirtualizeX2ApicMode) != 0;
    public readonly bool ApicRegisterVirtualization => (EffectiveSecondary & SecondaryControls.ApicRegisterVirtualization) != 0;
    public readonly bool VirtualInterruptDelivery => (EffectiveSecondary & SecondaryControls.VirtualInterruptDelivery) != 0;
    public readonly bool ExternalInterruptExiting => (Pin & PinBasedControls.ExternalInterruptExiting) != 0;
    public readonly bool ProcessPostedInterrupts => (Pin & PinBasedControls.ProcessPostedInterrupts) != 0;
    public readonly bool AcknowledgeInterruptOnExit => (Exit & ExitControls.AcknowledgeInterruptOnExit) != 0;

    /// <summary>The defaults of the conformance set (tests/data/conformance/README.md): what
    /// kvm-unit-tests' init_vmcs() leaves under KVM, with every APIC-virtualization field 0.</summary>
    public static VmxControls KvmUnitTestsDefaults => new()
    {
        Pin = 0x3f,
        Primary = 0x04006172,
        Secondary = 0,
        Exit = 0x002b6ffb,
    };
}
