using NestedApic.Hardware.Apic;
using NestedApic.Hardware.Vmx;

namespace NestedApic.Hypervisor.Vmx;

/// <summary>
/// vmx.c over the model state: how KVM writes vmcs01 (and, by the policy's choice, vmcs02)
/// for L1's APIC virtualization.
/// </summary>
public static partial class VmxOps
{
    /// <summary>Pin controls KVM always sets for L1 (vmcs_config): external-interrupt and NMI
    /// exiting, virtual NMIs.</summary>
    public const uint PinConfig = PinBasedControls.ExternalInterruptExiting | PinBasedControls.NmiExiting | PinBasedControls.VirtualNmis;

    const uint ApicvSecondary = SecondaryControls.ApicRegisterVirtualization | SecondaryControls.VirtualInterruptDelivery;
    const uint ModeSecondary = SecondaryControls.VirtualizeApicAccesses | SecondaryControls.VirtualizeX2ApicMode;

    /// <summary>mirrors vmx_pin_based_exec_ctrl: posted interrupts follow apicv_active.</summary>
    public static uint PinBasedExecCtrl(bool apicvActive) =>
        PinConfig | (apicvActive ? PinBasedControls.ProcessPostedInterrupts : 0);

    /// <summary>mirrors init_vmcs for the fields modelled: vmcs01 as vCPU creation builds it (PML
    /// from nr_memslots_dirty_logging as read now; TPR_THRESHOLD 0; APIC_ACCESS_ADDR left to the
    /// KVM_REQ_APIC_PAGE_RELOAD that vmx_vcpu_reset pends).</summary>
    public static Vmcs InitVmcs01(KvmConfig c, bool apicvActive, ApicMode mode, bool dirtyLogging) => new()
    {
        Tertiary = TertiaryExecControl(c, apicvActive),
        Pin = PinBasedExecCtrl(apicvActive),
        Primary = PrimaryControls.UseTprShadow | PrimaryControls.ActivateSecondaryControls | PrimaryControls.UseMsrBitmaps,
        Secondary = ModeControls(c, mode) | (apicvActive ? ApicvSecondary : 0) | (dirtyLogging ? SecondaryControls.EnablePml : 0),
        Exit = ExitControls.AcknowledgeInterruptOnExit,
        PostedIntrNv = c.Policy.PostedIntrVector,
    };

    /// <summary>vmx_can_use_ipiv: enable_ipiv on a CPU with IPI virtualization (and APICv).</summary>
    public static bool CanUseIpiv(KvmConfig c) => c.EnableApicv && c.IpiVirtualization && c.Policy.IpiVirtualization;

    /// <summary>mirrors vmx_tertiary_exec_control: IPI virtualization only while APICv is active.</summary>
    static byte TertiaryExecControl(KvmConfig c, bool apicvActive) => CanUseIpiv(c) && apicvActive ? Vmcs.TertiaryIpiVirt : (byte)0;

    /// <summary>mirrors vmx_vcpu_create for the fields modelled: vmcs01 and the descriptor's vector
    /// (with IPI virtualization the PID-pointer table gets this vCPU's entry here, valid for its
    /// life: the model's table is every created vCPU's descriptor).</summary>
    public static void VcpuCreate(ref KvmState s, KvmConfig c, int v)
    {
        ref var vc = ref s.Vcpus[v];
        vc.Vmcs01 = InitVmcs01(c, vc.ApicvActive, vc.ApicMode, s.DirtyLogging);
        vc.Pid.Nv = c.Policy.PostedIntrVector;
        vc.Requests |= KvmRequest.ApicPageReload; // vmx_vcpu_reset
        vc.L1TprThreshold = -1;
    }

    static uint ModeControls(KvmConfig c, ApicMode mode) => mode switch
    {
        ApicMode.XApic when c.Flexpriority => SecondaryControls.VirtualizeApicAccesses,
        ApicMode.X2Apic when c.X2ApicVirtualization => SecondaryControls.VirtualizeX2ApicMode,
        _ => 0,
    };

    /// <summary>The VMCS a vmcs01 update lands in while L2 is active, or null when it is
    /// deferred (the flag is then set). Encodes the ladder of docs/policies.md.</summary>
    static ref Vmcs Vmcs01Target(ref VcpuState vc, Vmcs01Update rung, DeferredUpdate flag, out bool deferred)
    {
        deferred = false;
        if (!vc.GuestMode) return ref vc.Vmcs01;
        switch (rung)
        {
            case Vmcs01Update.WriteCurrentVmcs:
                return ref vc.Vmcs02Loaded ? ref vc.Vmcs02 : ref vc.Vmcs01;
            case Vmcs01Update.OnDemandVmcs01:
                return ref vc.Vmcs01; // guard(vmx_vmcs01): VMPTRLD vmcs01, write, VMPTRLD vmcs02
            default:
                vc.Deferred |= flag;
                deferred = true;
                return ref vc.Vmcs01;
        }
    }

    /// <summary>mirrors vmx_refresh_apicv_exec_ctrl: PIN.PI, SEC.APIC_REG_VIRT and SEC.VID (and,
    /// with enable_ipiv, TERTIARY_EXEC_IPI_VIRT) follow apicv_active, written where the policy says.</summary>
    public static void RefreshApicvExecCtrl(ref KvmState s, KvmConfig c, int v)
    {
        ref var vc = ref s.Vcpus[v];
        ref var target = ref Vmcs01Target(ref vc, c.Policy.ApicvRefresh, DeferredUpdate.ApicvStatus, out bool deferred);
        if (deferred) return;
        target.Pin = PinBasedExecCtrl(vc.ApicvActive);
        target.Secondary = vc.ApicvActive ? target.Secondary | ApicvSecondary : target.Secondary & ~ApicvSecondary;
        if (CanUseIpiv(c)) target.Tertiary = TertiaryExecControl(c, vc.ApicvActive); // 6.0+: IPIv follows APICv
    }

    /// <summary>mirrors vmx_hwapic_isr_update: SVI := max_isr (0 when none). From 04bc93cf49d1
    /// until b2849bec936b it WARNs when called inside KVM_RUN (wants_to_run) with L2 active and
    /// VID in vmcs12: L2's EOIs should have gone to L1, and SVI is L2's field then.</summary>
    public static void HwapicIsrUpdate(ref KvmState s, KvmConfig c, int v, int maxIsr)
    {
        ref var vc = ref s.Vcpus[v];
        if (c.Policy.SviUpdateWarnsOnVid && vc.GuestMode && vc.Phase != VcpuPhase.Userspace && c.Vmcs12s[vc.Vmcs12].Vid)
            vc.Faults |= Fault.KvmWarned;
        ref var target = ref Vmcs01Target(ref vc, c.Policy.SviUpdate, DeferredUpdate.HwapicIsr, out bool deferred);
        if (deferred) return;
        target.SetSvi(maxIsr < 0 ? (byte)0 : (byte)maxIsr);
    }

    /// <summary>mirrors vmx_deliver_posted_interrupt: first the nested branch (L1 sent its L2's
    /// notification vector to a vCPU in L2), then L1's own descriptor. Returns false when APICv is
    /// inactive and the caller must fall back to IRR and a kick.</summary>
    public static bool DeliverPostedInterrupt(ref KvmState s, KvmConfig c, int v, byte vector)
    {
        ref var vc = ref s.Vcpus[v];
        if (DeliverNestedPostedInterrupt(ref vc, c, vector)) return true;
        if (!vc.ApicvActive) return false;
        // __vmx_deliver_posted_interrupt: nothing more when the PIR bit was already set
        if (!vc.Pid.Pir.Test(vector) && vc.Pid.Post(vector))
            TriggerPostedInterrupt(ref vc);
        return true;
    }

    /// <summary>mirrors vmx_deliver_nested_posted_interrupt: the target is in L2 and the vector is
    /// nested.posted_intr_nv (before 6.12 possibly a stale one from an earlier vmcs12 with posted
    /// interrupts): pi_pending, KVM_REQ_EVENT, and POSTED_INTR_NESTED_VECTOR to its pCPU if it is
    /// in the guest.</summary>
    static bool DeliverNestedPostedInterrupt(ref VcpuState vc, KvmConfig c, byte vector)
    {
        if (!vc.GuestMode || vc.NestedPiNv == 0 || vector != vc.NestedPiNv) return false;
        vc.PiPending = true;
        vc.Requests |= KvmRequest.Event;
        if (vc.Phase == VcpuPhase.InGuest) vc.NestedNotificationInFlight = true;
        return true;
    }

    /// <summary>mirrors kvm_vcpu_trigger_posted_interrupt: an IPI only to a vCPU in guest mode;
    /// otherwise the target syncs PIR to IRR before its next entry.</summary>
    static void TriggerPostedInterrupt(ref VcpuState vc)
    {
        if (vc.Phase == VcpuPhase.InGuest) vc.NotificationInFlight = true;
    }

    /// <summary>IPI virtualization (SDM 31.1.6, "IPI Virtualization"): L1's ICR write with a fixed
    /// vector and a physical destination does not exit; the CPU takes the target's descriptor from
    /// the PID-pointer table, sets its PIR bit and, if ON was clear, ON and the notification (NV
    /// to NDST). The CPU knows nothing of the target's level (L1 or L2) or APIC state: a target
    /// whose APIC is hardware-disabled, which KVM's own delivery would skip, gets it too.</summary>
    public static void VirtualizedIpi(ref KvmState s, int target, byte vector)
    {
        ref var t = ref s.Vcpus[target];
        if (t.ApicMode == ApicMode.Disabled) t.PirFromDisabledApic = true;
        if (t.Pid.Post(vector) && t.Phase == VcpuPhase.InGuest) t.NotificationInFlight = true;
    }

    /// <summary>Whether L1's ICR write is IPI-virtualized: vmcs01 has TERTIARY_EXEC_IPI_VIRT and the
    /// write reaches the virtual-APIC page (x2APIC virtualization for the ICR MSR, or APIC-access
    /// and APIC-register virtualization for the xAPIC ICR).</summary>
    public static bool IcrWriteVirtualized(in VcpuState vc) =>
        vc.Vmcs01.IpiVirt && vc.Vmcs01.Vid && vc.ApicMode switch
        {
            ApicMode.X2Apic => vc.Vmcs01.Has(SecondaryControls.VirtualizeX2ApicMode),
            ApicMode.XApic => vc.Vmcs01.VirtualizesApicAccesses && vc.Vmcs01.ApicRegVirt,
            _ => false,
        };

    /// <summary>mirrors vmx_sync_pir_to_irr: move PIR into IRR when ON is set; RVI in vmcs01 is
    /// written only when L1 is active with APICv, otherwise KVM_REQ_EVENT lets KVM inject.</summary>
    public static void SyncPirToIrr(ref KvmState s, KvmConfig c, int v)
    {
        ref var vc = ref s.Vcpus[v];
        if (vc.Pid.On && vc.PirFromDisabledApic) vc.Faults |= Fault.AcceptedWhileDisabled;
        vc.PirFromDisabledApic = false;
        bool gotPosted = false;
        if (vc.Pid.On)
        {
            vc.Pid.On = false;
            var pir = vc.Pid.TakePir();
            vc.Apic.Irr.UnionWith(pir);
            // kvm_apic_update_irr: true only when the highest IRR vector came from PIR
            gotPosted = !pir.IsEmpty && pir.Highest() == vc.Apic.Irr.Highest();
        }
        int maxIrr = vc.Apic.Irr.Highest();
        if (!vc.GuestMode && vc.ApicvActive)
            vc.Vmcs01.SetRvi(maxIrr < 0 ? (byte)0 : (byte)maxIrr);
        else if (gotPosted)
            vc.Requests |= KvmRequest.Event;
    }
}
