using System.Runtime.InteropServices;
using NestedApic.Hardware.Svm;

namespace NestedApic.Hypervisor.Svm;

/// <summary>Things that happened on AMD and must never happen: each feeds one property.</summary>
[Flags]
public enum SvmFault : byte
{
    None = 0,
    /// <summary>A doorbell meant for this vCPU's L1 reached its CPU while it ran vmcb02.</summary>
    DoorbellIntoL2 = 1 << 0,
}

/// <summary>The IOMMU's interrupt-remapping entry of the one device interrupt routed to a vCPU
/// (the fields GaIrte posting reads; vector and GA root are fixed by the routing).</summary>
[Flags]
public enum IrteBits : byte
{
    None = 0,
    /// <summary>GuestMode: post into the backing page; clear: legacy remapping to a host IRQ.</summary>
    GuestMode = 1 << 0,
    /// <summary>IsRun: ring the doorbell at Destination (= the vCPU's pCPU).</summary>
    IsRun = 1 << 1,
    /// <summary>GALogIntr: with IsRun clear, log the GA tag and interrupt the host.</summary>
    GaLogIntr = 1 << 2,
}

/// <summary>
/// kvm_amd's per-vCPU state (struct vcpu_svm and the AVIC parts of kvm_lapic). vCPU v runs on
/// pCPU v, whose host APIC ID is v; its backing page is KVM's APIC page (<see cref="VcpuState.Apic"/>).
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public struct SvmVcpu
{
    /// <summary>vmcb01's int_ctl (060h): AVIC enable bit 31, x2AVIC bit 30, V_INTR_MASKING bit 24.</summary>
    public uint Vmcb01IntCtl;
    /// <summary>vmcb02's int_ctl as nested_vmcb02_prepare_control built it.</summary>
    public uint Vmcb02IntCtl;
    /// <summary>vmcb01's nested_ctl (090h), bits 15:0 (NP_ENABLE, SEV, SEV-ES, PML_ENABLE; <see cref="NestedCtl"/>).</summary>
    public ushort Vmcb01NestedCtl;
    /// <summary>vmcb02's nested_ctl as nested_vmcb02_prepare_control built it, bits 15:0.</summary>
    public ushort Vmcb02NestedCtl;
    /// <summary>This vCPU's entry in the hardware physical APIC ID table (AvicPhysicalIdEntry).</summary>
    public ulong PhysicalIdEntry;
    /// <summary>svm->vmcb == vmcb02.</summary>
    public bool Vmcb02Current;
    /// <summary>Index of the vmcb12 L1 ran L2 with (meaningful while GuestMode).</summary>
    public byte Vmcb12;
    /// <summary>apic->irr_pending == false (stored inverted so that Intel's zeroed state reads "set").</summary>
    public bool IrrNotPending;
    /// <summary>Inside kvm_vcpu_block after HLT.</summary>
    public bool Blocking;
    /// <summary>A kvm_vcpu_wake_up (from a sender or the GA-log handler) is on its way.</summary>
    public bool WakePending;
    /// <summary>AVIC evaluated the running backing page and recognized an interrupt (APM
    /// §15.29.8.2/3); meaningful while the vCPU is in the guest with AVIC on.</summary>
    public bool Recognized;
    /// <summary>__kvm_vcpu_update_apicv is deactivating: apicv_active is clear and
    /// kvm_apic_update_apicv ran, avic_refresh_apicv_exec_ctrl has not.</summary>
    public bool RefreshPending;
    public IrteBits Irte;
    /// <summary>AVIC_INCOMPLETE_IPI this vCPU's KVM has yet to handle: 0 none, else 1 + the cause
    /// (EXITINFO2[63:32]).</summary>
    public byte IncompleteIpiCause;
    /// <summary>Its ICR: destination (a physical APIC ID) and vector.</summary>
    public byte IncompleteIpiDest;
    public byte IncompleteIpiVector;
    public SvmFault Faults;

    public readonly AvicPhysicalIdEntry Entry => new(PhysicalIdEntry);
    public readonly bool IsRunning => Entry.IsRunning;
    public readonly bool Vmcb01Avic => (Vmcb01IntCtl & IntCtl.AvicEnable) != 0;
    public readonly bool Vmcb02Avic => (Vmcb02IntCtl & IntCtl.AvicEnable) != 0;
    /// <summary>int_ctl of the VMCB KVM runs now.</summary>
    public readonly uint CurrentIntCtl => Vmcb02Current ? Vmcb02IntCtl : Vmcb01IntCtl;
    public readonly bool HasIncompleteIpi => IncompleteIpiCause != 0;
    /// <summary>nested_ctl of the VMCB KVM runs now (svm->vmcb).</summary>
    public readonly ushort CurrentNestedCtl => Vmcb02Current ? Vmcb02NestedCtl : Vmcb01NestedCtl;
}
