using System.Runtime.InteropServices;
using NestedApic.Hardware.Apic;
using NestedApic.Hardware.Vmx;
using NestedApic.Hypervisor.Svm;
using NestedApic.Hypervisor.Vmx;

namespace NestedApic.Hypervisor;

/// <summary>The vmcs01 updates KVM postponed to the next nested VM-exit (struct nested_vmx flags).</summary>
[Flags]
public enum DeferredUpdate : byte
{
    None = 0,
    /// <summary>update_vmcs01_apicv_status (7c69661e225c).</summary>
    ApicvStatus = 1 << 0,
    /// <summary>update_vmcs01_hwapic_isr (04bc93cf49d1).</summary>
    HwapicIsr = 1 << 1,
    /// <summary>change_vmcs01_virtual_apic_mode.</summary>
    VirtualApicMode = 1 << 2,
    /// <summary>update_vmcs01_cpu_dirty_logging (Feb 2021).</summary>
    CpuDirtyLogging = 1 << 3,
    /// <summary>reload_vmcs01_apic_access_page (Mar 2020).</summary>
    ApicAccessPage = 1 << 4,
}

/// <summary>Things that happened and must never happen: each feeds one property.</summary>
[Flags]
public enum Fault : byte
{
    None = 0,
    /// <summary>A hardware entry of vmcs02 failed and KVM reflected it to L1 as VMfailValid.</summary>
    BlamedL1 = 1 << 0,
    /// <summary>A hardware entry of vmcs01 failed (KVM_EXIT_FAIL_ENTRY).</summary>
    Vmcs01EntryFailed = 1 << 1,
    /// <summary>KVM's WARN in vcpu_enter_guest: apicv_active differs from the VM's activation.</summary>
    BeliefIncoherent = 1 << 2,
    /// <summary>An EOI left the vector it should have completed in ISR.</summary>
    VectorStuck = 1 << 3,
    /// <summary>KVM hit a WARN_ON_ONCE of its own (nested_early_check; 04bc93cf49d1's SVI WARN).</summary>
    KvmWarned = 1 << 4,
    /// <summary>vmcs01 was entered with TPR shadow, no VID and TPR_THRESHOLD[3:0] &gt; VTPR[7:4]:
    /// a VM-entry failure (no APIC-access virtualization) or an exit storm (with it).</summary>
    TprThresholdAboveVtpr = 1 << 5,
    /// <summary>L1 wrote guest memory while dirty logging was on and vmcs01 had no PML.</summary>
    DirtyNotLogged = 1 << 6,
    /// <summary>An IPI posted while the target's APIC was hardware-disabled reached its IRR.</summary>
    AcceptedWhileDisabled = 1 << 7,
}

/// <summary>One vCPU: KVM's software state, L1's local APIC and descriptor, and both VMCSs.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public struct VcpuState
{
    public VcpuLife Life;
    public VcpuPhase Phase;
    /// <summary>is_guest_mode: L2 is active.</summary>
    public bool GuestMode;
    /// <summary>loaded_vmcs == &amp;nested.vmcs02.</summary>
    public bool Vmcs02Loaded;
    public KvmRequest Requests;
    /// <summary>KVM's belief that L1's APICv is on (vcpu->arch.apic->apicv_active).</summary>
    public bool ApicvActive;
    /// <summary>guest_debug &amp; KVM_GUESTDBG_BLOCKIRQ.</summary>
    public bool BlockIrq;
    /// <summary>SynIC has an unmasked AutoEOI SINT (counts in synic_auto_eoi_used).</summary>
    public bool AutoEoi;
    /// <summary>L1 wrote an xAPIC ID different from vcpu_id.</summary>
    public bool ApicIdModified;
    public ApicMode ApicMode;
    /// <summary>RFLAGS.IF of L1.</summary>
    public bool L1If;
    /// <summary>Index of the vmcs12 L1 entered L2 with (meaningful while GuestMode).</summary>
    public byte Vmcs12;
    public DeferredUpdate Deferred;
    public Fault Faults;
    /// <summary>The VM-entry rule a failed hardware entry broke (VmEntryRule), for the report.</summary>
    public byte FailedRule;
    /// <summary>A posted-interrupt notification IPI on its way to this vCPU's pCPU.</summary>
    public bool NotificationInFlight;
    /// <summary>nested.pi_pending: process L1's descriptor for L2 before the next L2 entry.</summary>
    public bool PiPending;
    /// <summary>A POSTED_INTR_NESTED_VECTOR notification on its way to this vCPU's pCPU.</summary>
    public bool NestedNotificationInFlight;
    /// <summary>L1's local APIC; on VMX its register page is vmcs01's virtual-APIC page.</summary>
    public LocalApic Apic;
    /// <summary>vmx->pi_desc: L1's posted-interrupt descriptor.</summary>
    public PostedInterruptDescriptor Pid;
    public Vmcs Vmcs01;
    public Vmcs Vmcs02;
    /// <summary>L1's posted-interrupt descriptor for L2 (L1 memory at vmcs12.posted_intr_desc_addr).</summary>
    public PostedInterruptDescriptor Pid12;
    /// <summary>L2's vIRR: the virtual-APIC page L1 gave L2 (vmcs12.virtual_apic_page_addr).</summary>
    public VectorSet L2Virr;
    /// <summary>nested.l1_tpr_threshold: vmcs01's TPR_THRESHOLD deferred while L2 runs (-1: none).</summary>
    public sbyte L1TprThreshold;
    /// <summary>L1's TLB context (its VPID / EPT root) holds a translation of the APIC page to
    /// ordinary memory, cached while vmcs01 did not virtualize APIC accesses.</summary>
    public bool L1TlbApicStale;
    /// <summary>An interrupt KVM acknowledged and injects through VM_ENTRY_INTR_INFO
    /// (vcpu->arch.interrupt): delivered at the next entry, re-queued if an exit interrupts it.</summary>
    public byte Injected;
    /// <summary>KVM_APIC_INIT in apic->pending_events: latched while L1 is in VMX root operation.</summary>
    public bool InitPending;
    /// <summary>APIC_PROCPRI as KVM stores it in its APIC page: written by __apic_update_ppr (and,
    /// with VID, by the CPU's PPR virtualization), not by TPR-shadow CR8 writes.</summary>
    public byte KvmPpr;
    /// <summary>nested.posted_intr_nv: the notification vector of the last vmcs12 with posted
    /// interrupts (0 for -1: none; before 6.12 it is never reset to -1 at VM-enter).</summary>
    public byte NestedPiNv;
    /// <summary>nested.nested_run_pending: VMLAUNCH/VMRESUME emulated, vmcs02 not yet entered.</summary>
    public bool NestedRunPending;
    /// <summary>req_immediate_exit: a nested event was blocked by nested_run_pending; the vmcs02
    /// entry exits at once and KVM_REQ_EVENT is raised again.</summary>
    public bool ImmediateExit;
    /// <summary>IPI virtualization posted to this vCPU's descriptor while its APIC was hardware-disabled.</summary>
    public bool PirFromDisabledApic;
    /// <summary>L1 executed VMXOFF: outside VMX operation, so an INIT is not blocked but resets it.</summary>
    public bool L1VmxOff;
    /// <summary>RFLAGS.IF of L2 (loaded from vmcs12 at nested VM-entry).</summary>
    public bool L2If;
    /// <summary>KVM_SET_CPUID2 and the first KVM_RUN, where a universe tracks them (Cpuid.cs).</summary>
    public VcpuCpuid Cpuid;
    /// <summary>kvm_amd's per-vCPU state (zero on Intel).</summary>
    public SvmVcpu Svm;

    public readonly bool RunningL1 => Phase == VcpuPhase.InGuest && !GuestMode;
    public readonly bool RunningL2 => Phase == VcpuPhase.InGuest && GuestMode;
    public readonly Vmcs Loaded => Vmcs02Loaded ? Vmcs02 : Vmcs01;
}

[System.Runtime.CompilerServices.InlineArray(KvmState.MaxVcpus)]
public struct VcpuArray { VcpuState _first; }

[System.Runtime.CompilerServices.InlineArray(KvmState.EventKinds)]
public struct EventCounts { byte _first; }

/// <summary>The whole explored state: the VM and its vCPUs. Fixed size, hashed as bytes.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public struct KvmState
{
    public const int MaxVcpus = 4;
    public const int EventKinds = 32;

    /// <summary>kvm->arch.apicv_inhibit_reasons.</summary>
    public ushort Inhibits;
    /// <summary>Which host page backs the APIC-access page now (each MMU-notifier migration moves it).</summary>
    public byte ApicAccessPage;
    /// <summary>kvm->nr_memslots_dirty_logging != 0.</summary>
    public bool DirtyLogging;
    /// <summary>How often each bounded event has happened (indexed by EventKind).</summary>
    public EventCounts Used;
    public VcpuArray Vcpus;
}
