using NestedApic.Hardware.Apic;

namespace NestedApic.Hypervisor;

/// <summary>
/// KVM's common x86 code (x86.c, lapic.c, hyperv.c) over the model state. Vendor work goes
/// through <see cref="Vendor"/>, the way kvm_x86_ops dispatches to vmx.c or svm.c.
/// </summary>
public static class X86
{
    /// <summary>mirrors kvm_make_request + kvm_vcpu_kick: a vCPU in the guest is kicked out (the
    /// kick is modelled as the exit it causes).</summary>
    public static void MakeRequest(ref KvmState s, int v, KvmRequest r)
    {
        ref var vc = ref s.Vcpus[v];
        vc.Requests |= r;
        if (vc.Phase == VcpuPhase.InGuest) vc.Phase = VcpuPhase.InKernel;
    }

    /// <summary>mirrors kvm_make_all_cpus_request(KVM_REQUEST_WAIT): only vCPUs already visible in
    /// kvm->vcpus get the request; those in the guest are kicked and waited for.</summary>
    public static void MakeAllCpusRequest(ref KvmState s, KvmConfig c, KvmRequest r)
    {
        for (int v = 0; v < c.Vcpus; v++)
            if (s.Vcpus[v].Life == VcpuLife.Visible) MakeRequest(ref s, v, r);
    }

    /// <summary>mirrors __kvm_set_or_clear_apicv_inhibit: reasons the vendor does not require are
    /// dropped; only a flip between "no reason" and "some reason" requests an update.</summary>
    public static void SetOrClearApicvInhibit(ref KvmState s, KvmConfig c, ApicvInhibit reason, bool set)
    {
        if (!c.EnableApicv) return;
        ushort bit = reason.Bit();
        if ((Vendor.RequiredInhibits(c) & bit) == 0) return;
        ushort old = s.Inhibits;
        ushort now = set ? (ushort)(old | bit) : (ushort)(old & ~bit);
        if ((old == 0) != (now == 0)) MakeAllCpusRequest(ref s, c, KvmRequest.ApicvUpdate);
        s.Inhibits = now;
    }

    /// <summary>mirrors kvm_arch_vcpu_guestdbg_update_apicv_inhibit: BLOCKIRQ is set while any
    /// vCPU has KVM_GUESTDBG_BLOCKIRQ.</summary>
    public static void UpdateBlockIrqInhibit(ref KvmState s, KvmConfig c)
    {
        bool any = false;
        for (int v = 0; v < c.Vcpus; v++) any |= s.Vcpus[v].BlockIrq;
        SetOrClearApicvInhibit(ref s, c, ApicvInhibit.BlockIrq, any);
    }

    /// <summary>mirrors synic_update_vector's inhibit: HYPERV is set while synic_auto_eoi_used != 0.</summary>
    public static void UpdateHyperVInhibit(ref KvmState s, KvmConfig c)
    {
        bool any = false;
        for (int v = 0; v < c.Vcpus; v++) any |= s.Vcpus[v].AutoEoi;
        SetOrClearApicvInhibit(ref s, c, ApicvInhibit.HyperV, any);
    }

    /// <summary>mirrors kvm_recalculate_apic_map's APIC_ID_MODIFIED handling: recomputed from the
    /// xAPIC IDs since d471bd853d38, sticky before it.</summary>
    public static void RecalculateApicMap(ref KvmState s, KvmConfig c)
    {
        bool mismatch = false;
        for (int v = 0; v < c.Vcpus; v++)
            mismatch |= s.Vcpus[v].Life != VcpuLife.Absent && s.Vcpus[v].ApicMode == ApicMode.XApic && s.Vcpus[v].ApicIdModified;
        switch (c.Policy.ApicIdInhibit)
        {
            case ApicIdInhibitMode.Clearable: SetOrClearApicvInhibit(ref s, c, ApicvInhibit.ApicIdModified, mismatch); break;
            case ApicIdInhibitMode.Sticky when mismatch: SetOrClearApicvInhibit(ref s, c, ApicvInhibit.ApicIdModified, true); break;
        }
    }

    /// <summary>kvm->arch.apicv_inhibit_reasons: the reasons set at run time, plus DISABLE, which
    /// kvm_apicv_init sets for the VM's whole life when the module has enable_apicv (kvm_intel) or
    /// avic (kvm_amd) off; while it is set, the other reasons are never recorded.</summary>
    public static ushort InhibitReasons(in KvmState s, KvmConfig c) =>
        c.EnableApicv ? s.Inhibits : ApicvInhibit.Disabled.Bit();

    /// <summary>mirrors kvm_apicv_activated: no VM-wide reason.</summary>
    public static bool ApicvActivated(in KvmState s, KvmConfig c) => InhibitReasons(s, c) == 0;

    /// <summary>mirrors kvm_vcpu_apicv_activated (VM-wide and per-vCPU reasons) plus the
    /// APIC-disabled condition of __kvm_vcpu_update_apicv (8fc9c7a3079e).</summary>
    public static bool ApicvShouldBeActive(in KvmState s, KvmConfig c, int v) =>
        ApicvActivated(s, c) && !Vendor.VcpuInhibited(s, c, v) && (!c.Policy.ApicDisabledBlocksActivation || s.Vcpus[v].ApicMode != ApicMode.Disabled);

    /// <summary>mirrors __kvm_vcpu_update_apicv: returns early when the belief already matches,
    /// the early exit that turned the deferred request of 7c69661e225c into a no-op.</summary>
    public static void VcpuUpdateApicv(ref KvmState s, KvmConfig c, int v)
    {
        ref var vc = ref s.Vcpus[v];
        bool activate = ApicvShouldBeActive(s, c, v);
        if (vc.ApicvActive == activate) return;
        vc.ApicvActive = activate;
        // kvm_apic_update_apicv; since 000d75b0b186 it also refreshes SVI (b2849bec936b did the same later in this function).
        Vendor.ApicUpdateApicv(ref s, c, v);
        Vendor.RefreshApicvExecCtrl(ref s, c, v);
        if (activate && c.Policy.SviOnActivation)
            Vendor.HwapicIsrUpdate(ref s, c, v, vc.Apic.Isr.Highest());
        if (!activate) vc.Requests |= KvmRequest.Event;
    }

    /// <summary>mirrors kvm_apic_accept_irq for a fixed interrupt: the vendor's deliver_interrupt
    /// posts it, or KVM sets IRR and kicks.</summary>
    public static void AcceptFixedIrq(ref KvmState s, KvmConfig c, int target, byte vector)
    {
        ref var t = ref s.Vcpus[target];
        if (t.Life == VcpuLife.Absent || t.ApicMode == ApicMode.Disabled) return;
        if (!Vendor.DeliverInterrupt(ref s, c, target, vector))
        {
            t.Apic.Irr.Set(vector);
            MakeRequest(ref s, target, KvmRequest.Event);
        }
    }

    /// <summary>mirrors kvm_apic_accept_irq for INIT: latched in apic->pending_events with
    /// KVM_REQ_EVENT and a kick; L1, in VMX root operation, keeps it blocked
    /// (vmx_apic_init_signal_blocked), L2 takes it as an INIT_SIGNAL exit to L1.</summary>
    public static void AcceptInit(ref KvmState s, int target)
    {
        if (s.Vcpus[target].Life == VcpuLife.Absent || s.Vcpus[target].ApicMode == ApicMode.Disabled) return;
        s.Vcpus[target].InitPending = true;
        MakeRequest(ref s, target, KvmRequest.Event);
    }

    /// <summary>mirrors kvm_lapic_reset for the registers modelled (RESET: vCPU creation; INIT:
    /// <paramref name="initEvent"/>): TPR, IRR, ISR and TMR cleared, kvm_apic_update_apicv,
    /// apic_update_ppr, and with APICv active the descriptor reset (apicv_post_state_restore) and
    /// SVI cleared (hwapic_isr_update(-1)); the APIC map rebuilt. RESET also resets the xAPIC ID;
    /// INIT leaves IA32_APIC_BASE and the ID alone.</summary>
    public static void LapicReset(ref KvmState s, KvmConfig c, int v, bool initEvent)
    {
        ref var vc = ref s.Vcpus[v];
        if (!initEvent) vc.ApicIdModified = false;
        vc.Apic.Tpr = 0;
        vc.Apic.Irr = default;
        vc.Apic.Isr = default;
        vc.Apic.Tmr = default;
        Vendor.ApicUpdateApicv(ref s, c, v);
        ApicUpdatePpr(ref s, c, v);
        if (vc.ApicvActive)
        {
            vc.Pid.TakePir();
            vc.Pid.On = false;
            vc.PirFromDisabledApic = false;
            if (c.Policy.LapicResetUpdatesSvi) Vendor.HwapicIsrUpdate(ref s, c, v, -1);
        }
        RecalculateApicMap(ref s, c);
    }

    /// <summary>mirrors kvm_apic_accept_events for a latched INIT that is no longer blocked (L1
    /// outside VMX operation, not in L2): kvm_vcpu_reset(vcpu, true): the event queues cleared,
    /// kvm_lapic_reset, vmx_vcpu_reset (kvm_set_cr8(0), KVM_REQ_APIC_PAGE_RELOAD), RFLAGS = 0x2.
    /// The SIPI that follows for an AP is taken as immediate.</summary>
    public static void AcceptInitEvent(ref KvmState s, KvmConfig c, int v)
    {
        ref var vc = ref s.Vcpus[v];
        vc.InitPending = false;
        vc.Injected = 0;
        LapicReset(ref s, c, v, initEvent: true);
        vc.L1If = false;
        vc.Requests |= KvmRequest.ApicPageReload | KvmRequest.Event;
    }

    /// <summary>mirrors apic_set_eoi: KVM completes the highest in-service vector in software and,
    /// with APICv active, tells the CPU the new highest (hwapic_isr_update); it always ends with
    /// KVM_REQ_EVENT, so the CR8 intercept is recomputed before the next entry.</summary>
    public static void EmulateEoi(ref KvmState s, KvmConfig c, int v)
    {
        ref var vc = ref s.Vcpus[v];
        int highest = vc.Apic.Isr.Highest();
        if (highest < 0) return;
        vc.Apic.Isr.Clear((byte)highest);
        if (vc.ApicvActive) Vendor.HwapicIsrUpdate(ref s, c, v, vc.Apic.Isr.Highest());
        ApicUpdatePpr(ref s, c, v);
        vc.Requests |= KvmRequest.Event; // unconditional, after kvm_ioapic_send_eoi
    }

    /// <summary>mirrors apic_update_ppr: KVM_REQ_EVENT when the stored PPR dropped and an
    /// interrupt is deliverable under the new one; otherwise, since bb365a506b1e, the CR8 intercept
    /// is recomputed at once.</summary>
    public static void ApicUpdatePpr(ref KvmState s, KvmConfig c, int v)
    {
        if (UpdateStoredPpr(ref s.Vcpus[v]) && HasInterruptForPpr(s, v) >= 0) s.Vcpus[v].Requests |= KvmRequest.Event;
        else if (c.Policy.Cr8InterceptOnPprUpdate) UpdateCr8Intercept(ref s, c, v);
    }

    /// <summary>mirrors __apic_update_ppr: store PPR in KVM's APIC page; true when it dropped
    /// below the value stored before (the only case in which an interrupt may have become
    /// deliverable).</summary>
    public static bool UpdateStoredPpr(ref VcpuState vc)
    {
        byte ppr = vc.Apic.Ppr, old = vc.KvmPpr;
        vc.KvmPpr = ppr;
        return ppr < old;
    }

    /// <summary>mirrors kvm_apic_has_interrupt: __apic_update_ppr, then the highest IRR vector
    /// above PPR, or -1.</summary>
    public static int ApicHasInterrupt(ref KvmState s, int v)
    {
        UpdateStoredPpr(ref s.Vcpus[v]);
        return PendingInterrupt(s, v);
    }

    /// <summary>mirrors kvm_lapic_update_cr8_intercept / update_cr8_intercept: nothing to do with
    /// APICv active (VID handles TPR); else the vendor computes the threshold from the TPR and the
    /// highest IRR, both as priority classes.</summary>
    public static void UpdateCr8Intercept(ref KvmState s, KvmConfig c, int v)
    {
        ref var vc = ref s.Vcpus[v];
        if (vc.ApicvActive) return;
        int irr = vc.Apic.Irr.Highest();
        Vendor.UpdateCr8Intercept(ref s, c, v, vc.Apic.Tpr >> 4, irr < 0 ? -1 : irr >> 4);
    }

    /// <summary>mirrors kvm_set_cr8 / kvm_lapic_set_tpr (L0 emulating a CR8 write on L1's APIC):
    /// apic_set_tpr, then apic_update_ppr.</summary>
    public static void SetTpr(ref KvmState s, KvmConfig c, int v, byte tpr)
    {
        s.Vcpus[v].Apic.Tpr = tpr;
        ApicUpdatePpr(ref s, c, v);
    }

    /// <summary>mirrors kvm_apic_has_interrupt without its PPR update: nothing while the APIC is
    /// hardware-disabled (kvm_apic_present; IRR keeps what it held when L1 cleared
    /// MSR_IA32_APICBASE_ENABLE, but KVM neither injects nor wakes for it), else
    /// apic_has_interrupt_for_ppr.</summary>
    public static int PendingInterrupt(in KvmState s, int v) =>
        s.Vcpus[v].ApicMode == ApicMode.Disabled ? -1 : HasInterruptForPpr(s, v);

    /// <summary>mirrors apic_has_interrupt_for_ppr: the highest IRR vector whose class is above
    /// PPR's, or -1; apic_find_highest_irr does not look at IRR while irr_pending is clear (tracked
    /// on AMD only). apic_update_ppr calls it without the presence check.</summary>
    static int HasInterruptForPpr(in KvmState s, int v)
    {
        if (s.Vcpus[v].Svm.IrrNotPending) return -1;
        ref readonly var apic = ref s.Vcpus[v].Apic;
        int irr = apic.Irr.Highest();
        if (irr < 0) return -1;
        return (irr & 0xF0) > (apic.Ppr & 0xF0) ? irr : -1;
    }

    public static bool HasInjectableInterrupt(in KvmState s, int v) => PendingInterrupt(s, v) >= 0;

    /// <summary>mirrors kvm_apic_ack_interrupt (kvm_get_apic_interrupt before 6.x): IRR to ISR,
    /// SVI when APICv is active, and __apic_update_ppr (no request: PPR only rose).</summary>
    public static void AckInterrupt(ref KvmState s, KvmConfig c, int v, byte vector)
    {
        ref var vc = ref s.Vcpus[v];
        vc.Apic.Irr.Clear(vector);
        Vendor.ClearIrr(ref s, c, v);
        vc.Apic.Isr.Set(vector);
        if (vc.ApicvActive) Vendor.HwapicIsrUpdate(ref s, c, v, vc.Apic.Isr.Highest());
        UpdateStoredPpr(ref vc);
    }

    /// <summary>mirrors kvm_lapic_set_base (kvm_apic_set_base before 6.x) for EN/EXTD changes:
    /// enabling the APIC resets the xAPIC ID to vcpu_id (kvm_apic_set_xapic_id, 5.17 and later) and
    /// x2APIC sets the x2APIC ID, so APIC_ID_MODIFIED no longer holds for the vCPU (map rebuilt);
    /// a change to or from "disabled" requests an APICv update (8fc9c7a3079e), and the VMX mode
    /// controls follow.</summary>
    public static void SetApicMode(ref KvmState s, KvmConfig c, int v, ApicMode mode, bool hostInitiated = false)
    {
        ref var vc = ref s.Vcpus[v];
        var old = vc.ApicMode;
        vc.ApicMode = mode;
        if (mode == ApicMode.X2Apic || (old == ApicMode.Disabled && mode != ApicMode.Disabled)) vc.ApicIdModified = false;
        // 6.19: a host write from x2APIC straight to xAPIC also resets the xAPIC ID (only
        // userspace may make that transition)
        if (hostInitiated && old == ApicMode.X2Apic && mode == ApicMode.XApic && c.Policy.HostX2ApicToXApicResetsId) vc.ApicIdModified = false;
        RecalculateApicMap(ref s, c);
        // 8fc9c7a3079e (6.0) updated APICv when the APIC left or entered "disabled" (modelled as the
        // request); 1459f5c6b8b8 (6.3) requests it on any EN/EXTD change.
        if (c.Policy.ApicvUpdateOnAnyModeChange ? old != mode
            : c.Policy.ApicDisabledBlocksActivation && (old == ApicMode.Disabled) != (mode == ApicMode.Disabled))
            MakeRequest(ref s, v, KvmRequest.ApicvUpdate);
        Vendor.SetVirtualApicMode(ref s, c, v);
    }

    /// <summary>mirrors kvm_apic_set_state (KVM_SET_LAPIC) for the registers modelled: IRR empty,
    /// ISR holding <paramref name="isrVector"/> (0: none), TPR 0; the descriptor is reset
    /// (vmx_apicv_post_state_restore with APICv active in 5.17; always in 6.19,
    /// pi_apicv_pre_state_restore), PPR recomputed (apic_update_ppr) and, with APICv active, SVI
    /// follows the new ISR (hwapic_isr_update: through the policy's path when L2 is active).</summary>
    public static void SetLapicState(ref KvmState s, KvmConfig c, int v, byte isrVector)
    {
        var isr = new VectorSet();
        if (isrVector != 0) isr.Set(isrVector);
        SetLapicState(ref s, c, v, default, isr, 0, null);
    }

    /// <summary>A VMM restoring a saved APIC (QEMU's kvm_apic_put): kvm_set_apic_base with
    /// host_initiated (any EN/EXTD transition, disabled straight to x2APIC included), then
    /// KVM_SET_LAPIC with the saved IRR, ISR, TPR and xAPIC ID. IRR is replaced: a pending
    /// interrupt the save does not carry is gone, as is the descriptor's PIR.</summary>
    public static void RestoreLapic(ref KvmState s, KvmConfig c, int v, LapicSave save)
    {
        if (s.Vcpus[v].ApicMode != save.Mode) SetApicMode(ref s, c, v, save.Mode, hostInitiated: true);
        SetLapicState(ref s, c, v, save.Irr, save.Isr, save.Tpr, save.ApicIdModified);
    }

    /// <summary>kvm_apic_set_state with the register page's IRR, ISR, TPR and (xAPIC) ID.</summary>
    public static void SetLapicState(ref KvmState s, KvmConfig c, int v, VectorSet irr, VectorSet isr, byte tpr, bool? apicIdModified)
    {
        ref var vc = ref s.Vcpus[v];
        vc.Apic.Irr = irr;
        vc.Apic.Isr = isr;
        vc.Apic.Tpr = tpr;
        if (apicIdModified is { } idm)
        {
            // x2APIC: kvm_apic_state_fixup keeps the ID at vcpu_id
            vc.ApicIdModified = idm && vc.ApicMode == ApicMode.XApic;
            RecalculateApicMap(ref s, c);
        }
        if (vc.ApicvActive || c.Policy.SetLapicClearsPirAlways)
        {
            vc.Pid.TakePir();
            vc.Pid.On = false;
            vc.PirFromDisabledApic = false;
        }
        UpdateStoredPpr(ref vc);
        if (vc.ApicvActive) Vendor.HwapicIsrUpdate(ref s, c, v, vc.Apic.Isr.Highest());
        vc.Injected = 0; // userspace restores the vCPU's events with its APIC (KVM_SET_VCPU_EVENTS)
        vc.Requests |= KvmRequest.Event;
        // kvm_vcpu_ioctl_set_lapic's kvm_lapic_update_cr8_intercept (apic_update_ppr's since bb365a506b1e)
        UpdateCr8Intercept(ref s, c, v);
    }

    /// <summary>mirrors the interrupt part of inject_pending_event for L1: without APICv KVM
    /// acknowledges and injects through VM_ENTRY_INTR_INFO; with APICv it leaves delivery to the
    /// CPU (kvm_cpu_has_injectable_intr returns 0).</summary>
    public static void InjectPendingEvent(ref KvmState s, KvmConfig c, int v)
    {
        ref var vc = ref s.Vcpus[v];
        if (vc.ApicvActive) return;
        // kvm_cpu_has_injectable_intr runs whether or not an injection is possible, and with it
        // __apic_update_ppr.
        int irq = ApicHasInterrupt(ref s, v);
        // An interrupt whose delivery an exit interrupted is re-injected as it is, APICv or not.
        if (vc.Injected != 0 || !vc.L1If || irq < 0) return;
        AckInterrupt(ref s, c, v, (byte)irq);
        vc.Injected = (byte)irq;
    }
}
