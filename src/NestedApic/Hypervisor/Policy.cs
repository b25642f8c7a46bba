namespace NestedApic.Hypervisor;

/// <summary>How KVM writes a vmcs01 field while vmcs02 is loaded (L2 active): the ladder of
/// docs/policies.md.</summary>
public enum Vmcs01Update : byte
{
    /// <summary>Write whatever VMCS is loaded, i.e. vmcs02 (V5.17 for APICv controls, pre-04bc93cf49d1 for SVI).</summary>
    WriteCurrentVmcs = 0,
    /// <summary>Set a flag; at nested VM-exit pend the request that made the update (7c69661e225c).</summary>
    DeferPendRequest = 1,
    /// <summary>Set a flag; at nested VM-exit call the update directly with vmcs01 loaded (29763138830916f4).</summary>
    DeferDirectCall = 2,
    /// <summary>Load vmcs01, write it, load vmcs02 again: guard(vmx_vmcs01) (the 2026 series).</summary>
    OnDemandVmcs01 = 3,
}

/// <summary>
/// A design, as the set of switches KVM changed over time. Presets reproduce released kernels; a
/// universe may override any switch. Plain data: the model reads it, never the state.
/// </summary>
/// <summary>How KVM inhibits APICv when a guest changes its xAPIC ID.</summary>
public enum ApicIdInhibitMode : byte { None = 0, Sticky = 1, Clearable = 2 }

/// <summary>Which TLB context the flush of vmx_set_virtual_apic_mode reaches when L2 is active.</summary>
public enum ModeChangeFlush : byte
{
    /// <summary>KVM_REQ_TLB_FLUSH_CURRENT: the context that runs, i.e. L2's while L2 is active.</summary>
    FlushCurrent = 0,
    /// <summary>249cc1ab4b9a: flush L1's context directly (its VPID, or its EPT root).</summary>
    FlushL1Context = 1,
}

/// <summary>What handle_tpr_below_threshold does.</summary>
public enum TprBelowThresholdExit : byte
{
    /// <summary>Before eb90f3417a0c: KVM_REQ_EVENT, so the threshold is always recomputed.</summary>
    RequestEvent = 0,
    /// <summary>eb90f3417a0c: kvm_apic_update_ppr, which raises KVM_REQ_EVENT only for a newly deliverable interrupt.</summary>
    UpdatePpr = 1,
}

/// <summary>AMD: how KVM keeps L1's AVIC from being used while a vCPU runs L2.</summary>
public enum NestedAvicInhibit : byte
{
    /// <summary>5.18: APICV_INHIBIT_REASON_NESTED VM-wide once the guest may use SVM.</summary>
    VmWide = 0,
    /// <summary>f44509f849fe (5.19): a per-vCPU reason while is_guest_mode, requested at nested VMRUN.</summary>
    PerVcpu = 1,
    /// <summary>Design: no NESTED reason at all (a design: why the inhibit exists).</summary>
    None = 2,
}

/// <summary>What kvm_apic_update_apicv does with apic->irr_pending.</summary>
public enum IrrPendingUpdate : byte
{
    /// <summary>b26a695a1d78 (before 5.17): on deactivation, recomputed by scanning IRR.</summary>
    Scan = 0,
    /// <summary>755c2bf87860 (5.17): left untouched on deactivation.</summary>
    KeepOnDeactivate = 1,
    /// <summary>d3ddef46f22e (Nov 2024): always set.</summary>
    Always = 2,
}

/// <summary>AMD: Page Modification Logging in kvm_amd.</summary>
public enum SvmPml : byte
{
    /// <summary>Upstream: no PML on AMD; dirty logging write-protects (cpu_dirty_log_size = 0).</summary>
    None = 0,
    /// <summary>"KVM: SVM: Add Page Modification Logging (PML) support" v5 as posted (2026-01-05).</summary>
    V5 = 1,
}

/// <summary>Where a PML update that arrived while L2 ran is applied, in the AMD PML series' design.</summary>
public enum PendingDirtyLoggingUpdate : byte
{
    /// <summary>v4/v5 4/8: leave_guest_mode calls update_cpu_dirty_logging, before the vendor switches back to vmcb01.</summary>
    LeaveGuestModeCall = 0,
    /// <summary>v3 (2025-09-25): svm->nested.update_vmcb01_cpu_dirty_logging, consumed after svm_switch_vmcb(vmcb01).</summary>
    AfterVmcb01Switch = 1,
    /// <summary>Design: leave_guest_mode pends KVM_REQ_UPDATE_CPU_DIRTY_LOGGING, as it does KVM_REQ_LOAD_EOI_EXITMAP.</summary>
    LeaveGuestModeRequest = 2,
    /// <summary>Design, SVM only: no deferral; svm_update_cpu_dirty_logging writes svm->vmcb01.ptr
    /// (plain memory) even while L2 runs, as avic_refresh_apicv_exec_ctrl does.</summary>
    WriteVmcb01 = 3,
}

public sealed record Policy
{
    public string Name { get; init; } = "custom";
    /// <summary>The vendor module the preset describes: its switches, and the universes it may run.</summary>
    public CpuVendor Vendor { get; init; } = CpuVendor.Intel;
    /// <summary>AMD: the nested AVIC inhibit.</summary>
    public NestedAvicInhibit NestedAvicInhibit { get; init; } = NestedAvicInhibit.PerVcpu;
    /// <summary>AMD: irr_pending in kvm_apic_update_apicv.</summary>
    public IrrPendingUpdate IrrPendingUpdate { get; init; } = IrrPendingUpdate.Always;
    /// <summary>AMD: svm_set_nested_state into L2 requests KVM_REQ_APICV_UPDATE the way
    /// enter_svm_guest_mode does (24f7d36b824b, 7.1-rc1; stable 7.0.4, 6.12.86).</summary>
    public bool SetNestedStateRequestsApicvUpdate { get; init; }
    /// <summary>AMD: svm_leave_nested requests KVM_REQ_APICV_UPDATE when the VM has AVIC activated
    /// (3fdc6087df3b, 6.6).</summary>
    public bool LeaveNestedRequestsApicvUpdate { get; init; }
    /// <summary>AMD design: AVIC deactivation returns before touching vmcb01, as
    /// svm_refresh_apicv_exec_ctrl did until "svm: Fix improper check when deactivate AVIC"
    /// (Suthikulpanit, Jan 2019; Fixes: 67034bb9dd5e). Only to show vmcb01-avic-stale can fail.</summary>
    public bool AvicDeactivateSkipsVmcb01 { get; init; }
    /// <summary>vmx_refresh_apicv_exec_ctrl while L2 is active.</summary>
    public Vmcs01Update ApicvRefresh { get; init; }
    /// <summary>vmx_hwapic_isr_update (SVI) while L2 is active.</summary>
    public Vmcs01Update SviUpdate { get; init; }
    /// <summary>vmx_set_virtual_apic_mode while L2 is active.</summary>
    public Vmcs01Update VirtualApicMode { get; init; } = Vmcs01Update.DeferDirectCall;
    /// <summary>423ecfea77dd: KVM_CREATE_VCPU sets apicv_active and pends KVM_REQ_APICV_UPDATE.</summary>
    public bool CreateVcpuPendsRequest { get; init; }
    /// <summary>b2849bec936b: runtime APICv activation sets SVI from the vISR.</summary>
    public bool SviOnActivation { get; init; }
    /// <summary>8fc9c7a3079e: APICv is not activated on a vCPU whose APIC is disabled.</summary>
    public bool ApicDisabledBlocksActivation { get; init; }
    /// <summary>APIC_ID_MODIFIED: absent before 3743c2f02517 (5.19), sticky until d471bd853d38
    /// made it recomputed on each map rebuild.</summary>
    public ApicIdInhibitMode ApicIdInhibit { get; init; }
    /// <summary>nested_early_check (removed by a175da6d430e): a late VM-fail WARNs.</summary>
    public bool NestedEarlyCheck { get; init; }
    /// <summary>POSTED_INTR_VECTOR, the notification vector of vmcs01 and L1's descriptor.</summary>
    public byte PostedIntrVector { get; init; } = 0xF2;
    /// <summary>POSTED_INTR_NESTED_VECTOR, the notification vector of vmcs02.</summary>
    public byte NestedPostedIntrVector { get; init; } = 0xF0;
    /// <summary>vmx_update_cr8_intercept (TPR_THRESHOLD) while L2 is active: l1_tpr_threshold
    /// since 2019, vmcs01 on demand since 51ca2746078e.</summary>
    public Vmcs01Update TprThreshold { get; init; } = Vmcs01Update.DeferDirectCall;
    /// <summary>handle_tpr_below_threshold: KVM_REQ_EVENT, or kvm_apic_update_ppr (eb90f3417a0c).</summary>
    public TprBelowThresholdExit TprBelowThresholdExit { get; init; } = TprBelowThresholdExit.UpdatePpr;
    /// <summary>bb365a506b1e: apic_update_ppr recomputes the CR8 intercept when it raises no KVM_REQ_EVENT.</summary>
    public bool Cr8InterceptOnPprUpdate { get; init; }
    /// <summary>vmx_set_apic_access_page_addr while L2 is active: reload_vmcs01_apic_access_page
    /// (re-raise KVM_REQ_APIC_PAGE_RELOAD at nested VM-exit), vmcs01 on demand since 51c821d6d0ba.</summary>
    public Vmcs01Update ApicAccessPage { get; init; } = Vmcs01Update.DeferPendRequest;
    /// <summary>vmx_update_cpu_dirty_logging (PML) while L2 is active: a flag since Feb 2021, vmcs01
    /// on demand since 3e013d0a7099.</summary>
    public Vmcs01Update CpuDirtyLogging { get; init; } = Vmcs01Update.DeferDirectCall;
    /// <summary>The TLB flush of a switch to xAPIC while L2 is active.</summary>
    public ModeChangeFlush ModeChangeFlush { get; init; } = ModeChangeFlush.FlushCurrent;
    /// <summary>AMD: PML in kvm_amd (none upstream; the v5 series as posted).</summary>
    public SvmPml SvmPml { get; init; }
    /// <summary>AMD PML series: how a PML update deferred while L2 ran reaches vmcb01.</summary>
    public PendingDirtyLoggingUpdate PendingDirtyLoggingUpdate { get; init; }
    /// <summary>Design: KVM_CREATE_VCPU pends KVM_REQ_UPDATE_CPU_DIRTY_LOGGING, as 423ecfea77dd
    /// does KVM_REQ_APICV_UPDATE, so the first KVM_RUN reads the live dirty-logging count.</summary>
    public bool CreateVcpuPendsDirtyLogging { get; init; }
    /// <summary>Intel with the AMD PML series' 4/8 applied: the guest-mode deferral of PML updates
    /// lives in common code (kvm_vcpu_update_cpu_dirty_logging, leave_guest_mode) and
    /// vmx_update_cpu_dirty_logging(vcpu, enable) writes the loaded VMCS. On AMD svm-pml implies it.</summary>
    public bool CommonDirtyLoggingDeferral { get; init; }
    /// <summary>982caaa11504 (6.14, Cc stable): nested VM-exit raises KVM_REQ_EVENT when L1 has an
    /// injectable interrupt (kvm_cpu_has_injectable_intr: none from the LAPIC with APICv active).</summary>
    public bool NestedVmexitRequestsEvent { get; init; }
    /// <summary>04bc93cf49d1 until b2849bec936b: vmx_hwapic_isr_update WARNs when called in KVM_RUN
    /// while L2 is active and vmcs12 has virtual-interrupt delivery.</summary>
    public bool SviUpdateWarnsOnVid { get; init; }
    /// <summary>1459f5c6b8b8 (6.3): kvm_lapic_set_base requests KVM_REQ_APICV_UPDATE on any EN/EXTD
    /// change, not only to and from "disabled".</summary>
    public bool ApicvUpdateOnAnyModeChange { get; init; }
    /// <summary>Where an L1 interrupt equal to nested.posted_intr_nv becomes nested posted-interrupt
    /// processing: at VMLAUNCH/VMRESUME with a stale posted_intr_nv (5.17 .. 5.19), or in
    /// vmx_check_nested_events with posted_intr_nv reset to -1 for a vmcs12 without PI (6.12+).</summary>
    public NestedPiNotification NestedPiNotification { get; init; }
    /// <summary>5.17's vmx_set_apic_access_page_addr ends with vmx_flush_tlb_current.</summary>
    public bool ApicAccessPageFlushesTlb { get; init; }
    /// <summary>kvm_apic_set_state resets the posted-interrupt descriptor even with APICv inactive
    /// (6.19's pi_apicv_pre_state_restore, taken for 6.18 too); 5.17 does it
    /// only with APICv active.</summary>
    public bool SetLapicClearsPirAlways { get; init; }
    /// <summary>kvm_lapic_reset (RESET and INIT) tells the CPU the ISR is empty with APICv active
    /// (hwapic_isr_update(-1); inside kvm_apic_update_apicv since 000d75b0b186). Every release
    /// does; false is a design that drops it.</summary>
    public bool LapicResetUpdatesSvi { get; init; } = true;
    /// <summary>6.19: a host-initiated IA32_APIC_BASE write from x2APIC straight to xAPIC resets
    /// the xAPIC ID (kvm_apic_set_xapic_id), as enabling the APIC does.</summary>
    public bool HostX2ApicToXApicResetsId { get; init; }
    /// <summary>kvm_intel.enable_ipiv (6.0+, "KVM: VMX: enable IPI virtualization"): on a CPU with
    /// IPI virtualization, vmcs01 sets TERTIARY_EXEC_IPI_VIRT while APICv is active and L1's ICR
    /// writes post through the PID-pointer table without an exit.</summary>
    public bool IpiVirtualization { get; init; }
}

/// <summary>How KVM handles an L1 interrupt that is vmcs12's posted-interrupt notification vector.</summary>
public enum NestedPiNotification : byte
{
    /// <summary>5.17: checked once at nested VM-enter ("Emulate processing of posted interrupts on
    /// VM-Enter"); posted_intr_nv keeps the last PI vmcs12's vector.</summary>
    AtVmEnter = 0,
    /// <summary>6.12+: vmx_check_nested_events sets pi_pending instead of an EXTERNAL_INTERRUPT
    /// exit; posted_intr_nv is -1 for a vmcs12 without PI.</summary>
    InCheckNestedEvents = 1,
}
