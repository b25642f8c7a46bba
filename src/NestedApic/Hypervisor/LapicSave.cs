using NestedApic.Hardware.Apic;

namespace NestedApic.Hypervisor;

/// <summary>
/// A saved local APIC as a VMM restores it (QEMU's kvm_apic_put): IA32_APIC_BASE through a
/// host-initiated KVM_SET_MSRS, then the register page through KVM_SET_LAPIC: IRR, ISR, TPR and,
/// in xAPIC mode, the APIC ID.
/// </summary>
public sealed record LapicSave
{
    public required string Name { get; init; }
    public ApicMode Mode { get; init; } = ApicMode.XApic;
    public VectorSet Irr { get; init; }
    public VectorSet Isr { get; init; }
    public byte Tpr { get; init; }
    /// <summary>The saved xAPIC ID differs from vcpu_id (meaningless in x2APIC mode, where it is read-only).</summary>
    public bool ApicIdModified { get; init; }
}
