namespace NestedApic.Hypervisor;

/// <summary>
/// The vCPU requests the model raises (KVM_REQ_*), as bits of a per-vCPU mask. The order of the
/// members is the order in which vcpu_enter_guest services them.
/// </summary>
[Flags]
public enum KvmRequest : ushort
{
    None = 0,
    GetNestedStatePages = 1 << 0,
    /// <summary>KVM_REQ_TLB_FLUSH_CURRENT: flush the context that runs (L1's or L2's).</summary>
    TlbFlushCurrent = 1 << 1,
    ApicPageReload = 1 << 2,
    ApicvUpdate = 1 << 3,
    /// <summary>KVM_REQ_UPDATE_CPU_DIRTY_LOGGING.</summary>
    UpdateCpuDirtyLogging = 1 << 4,
    Event = 1 << 5,
}

/// <summary>vcpu->mode, as posted-interrupt senders read it.</summary>
public enum VcpuMode : byte { OutsideGuestMode = 0, InGuestMode = 1 }

/// <summary>Where a vCPU thread is: in userspace, in KVM's run loop, or in the guest (hardware).</summary>
public enum VcpuPhase : byte { Userspace = 0, InKernel = 1, InGuest = 2 }

/// <summary>Life cycle of KVM_CREATE_VCPU, split at the point where the vCPU becomes visible to
/// kvm_make_all_cpus_request (the race fixed by 423ecfea77dd).</summary>
public enum VcpuLife : byte { Absent = 0, Initialised = 1, Visible = 2 }

/// <summary>The local APIC's mode, from IA32_APIC_BASE EN (bit 11) and EXTD (bit 10).</summary>
public enum ApicMode : byte { Disabled = 0, XApic = 1, X2Apic = 2 }
