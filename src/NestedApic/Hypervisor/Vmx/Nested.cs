using NestedApic.Hardware.Vmx;

namespace NestedApic.Hypervisor.Vmx;

/// <summary>nested.c over the model state: nested VM-entry, vmcs02 construction, nested VM-exit
/// with the deferred vmcs01 updates, and nested interrupt events.</summary>
public static class Nested
{
    const uint ApicSecondary = SecondaryControls.VirtualizeApicAccesses | SecondaryControls.VirtualizeX2ApicMode |
                               SecondaryControls.ApicRegisterVirtualization | SecondaryControls.VirtualInterruptDelivery;

    /// <summary>mirrors nested_vmx_check_controls for the APIC-related checks: the rule that makes
    /// KVM fail VMLAUNCH/VMRESUME in software, or None (rules KVM leaves to hardware pass here).</summary>
    public static VmEntryRule CheckControls(Vmcs12 v12)
    {
        var r = VmEntryChecks.CheckNested(v12.Controls, VmcsLayout.MaxPhyAddr);
        return r.Stage == NestedCheckStage.HardwareOnVmcs02 ? VmEntryRule.None : r.Rule;
    }

    /// <summary>mirrors prepare_vmcs02_early (and the constant state of
    /// prepare_vmcs02_constant_state): vmcs02's APIC virtualization comes from vmcs12 alone.</summary>
    public static Vmcs PrepareVmcs02(in Vmcs vmcs01, Vmcs12 v12, KvmConfig c)
    {
        uint pin = vmcs01.Pin | v12.Pin;
        if ((v12.Pin & PinBasedControls.ProcessPostedInterrupts) == 0) pin &= ~PinBasedControls.ProcessPostedInterrupts;
        uint pri = (vmcs01.Primary & ~(PrimaryControls.InterruptWindowExiting | PrimaryControls.UseTprShadow)) | v12.Primary;
        if ((pri & PrimaryControls.UseTprShadow) == 0) pri |= PrimaryControls.Cr8LoadExiting | PrimaryControls.Cr8StoreExiting;
        // PML is never on for L2: L0 logs L2's writes through the shadowed EPT.
        uint sec = (vmcs01.Secondary & ~(ApicSecondary | SecondaryControls.EnablePml)) | v12.EffectiveSecondary;
        var v02 = new Vmcs
        {
            Pin = pin,
            Primary = pri | PrimaryControls.ActivateSecondaryControls,
            Secondary = sec,
            Exit = vmcs01.Exit,
            TprThreshold = (pri & PrimaryControls.UseTprShadow) != 0 ? v12.TprThreshold : 0,
            PostedIntrNv = c.Policy.NestedPostedIntrVector,
            ApicAccessPage = (v12.EffectiveSecondary & SecondaryControls.VirtualizeApicAccesses) != 0 ? VmcsLayout.Vmcs12ApicAccessPage : (byte)0,
        };
        return v02;
    }

    /// <summary>mirrors nested_vmx_enter_non_root_mode: load vmcs02, build it, enter guest mode.
    /// The hardware checks vmcs02 only at the next real VM entry.</summary>
    public static void EnterNonRootMode(ref KvmState s, KvmConfig c, int v, int vmcs12)
    {
        ref var vc = ref s.Vcpus[v];
        // kvm_service_local_tlb_flush_requests: L1's pending flush lands in L1's context.
        if ((vc.Requests & KvmRequest.TlbFlushCurrent) != 0) VmxOps.FlushTlbCurrent(ref vc);
        vc.Vmcs02Loaded = true;
        vc.Vmcs02 = PrepareVmcs02(vc.Vmcs01, c.Vmcs12s[vmcs12], c);
        vc.Vmcs12 = (byte)vmcs12;
        vc.GuestMode = true;
        vc.L2If = c.Vmcs12s[vmcs12].GuestIf;
        vc.PiPending = false; // prepare_vmcs02_early
        vc.L1TprThreshold = -1; // prepare_vmcs02_early (until 51ca2746078e)
        var v12 = c.Vmcs12s[vmcs12];
        if (v12.PostedInterrupts) vc.NestedPiNv = (byte)v12.PostedIntrNv;
        else if (c.Policy.NestedPiNotification == NestedPiNotification.InCheckNestedEvents) vc.NestedPiNv = 0; // -1
        // L1, a hypervisor, moved its descriptor for L2 into L2's vIRR and vmcs12's RVI before
        // VMLAUNCH/VMRESUME (its own sync_pir_to_irr); prepare_vmcs02 copies RVI into vmcs02.
        if (v12.Vid && vc.Pid12.On) ProcessL2Descriptor(ref vc);
        if (v12.Vid) vc.Vmcs02.SetRvi(HighestOrZero(vc.L2Virr.Highest()));
        if (X86.HasInjectableInterrupt(s, v) || vc.InitPending) vc.Requests |= KvmRequest.Event;
    }

    /// <summary>mirrors nested_vmx_run (VMLAUNCH/VMRESUME exit from L1): KVM's consistency checks
    /// fail the instruction with VMfailValid(7), a blame L1 deserves; otherwise L2 is entered with
    /// nested_run_pending set. Before 6.12 an L1 interrupt that is vmcs12's notification vector is
    /// turned into posted-interrupt processing here ("Emulate processing of posted interrupts on
    /// VM-Enter").</summary>
    public static void Run(ref KvmState s, KvmConfig c, int v, int vmcs12)
    {
        if (CheckControls(c.Vmcs12s[vmcs12]) != VmEntryRule.None) return;
        EnterNonRootMode(ref s, c, v, vmcs12);
        if (c.Policy.NestedEarlyCheck) EarlyCheckVmentryHw(ref s, c, v);
        ref var vc = ref s.Vcpus[v];
        if (!vc.GuestMode) return;
        vc.NestedRunPending = true;
        if (c.Policy.NestedPiNotification == NestedPiNotification.AtVmEnter && c.Vmcs12s[vmcs12].PostedInterrupts
            && vc.NestedPiNv != 0 && X86.ApicHasInterrupt(ref s, v) == vc.NestedPiNv)
        {
            vc.PiPending = true;
            vc.Requests |= KvmRequest.Event;
            vc.Apic.Irr.Clear(vc.NestedPiNv); // kvm_apic_clear_irr
        }
    }

    /// <summary>mirrors nested_vmx_check_vmentry_hw (nested_early_check, until a175da6d430e): a
    /// real VM entry of the fresh vmcs02 with a bad guest RFLAGS, so a control-field failure is
    /// reported to L1 at VMLAUNCH (VMfailValid) instead of after L1 thinks L2 runs.</summary>
    static void EarlyCheckVmentryHw(ref KvmState s, KvmConfig c, int v)
    {
        ref var vc = ref s.Vcpus[v];
        var rule = VmEntryChecks.Check(VmcsLayout.Controls(vc.Vmcs02, 0), VmcsLayout.MaxPhyAddr);
        if (rule == VmEntryRule.None) return;
        vc.FailedRule = (byte)rule;
        // leave guest mode without a nested VM-exit: L1's VMLAUNCH simply fails
        vc.GuestMode = false;
        vc.Vmcs02Loaded = false;
        if (VmEntryChecks.Check(c.Vmcs12s[vc.Vmcs12].Controls, VmcsLayout.MaxPhyAddr) == VmEntryRule.None)
            vc.Faults |= Fault.BlamedL1;
    }

    /// <summary>mirrors vmx_set_nested_state into guest mode: leave L2 if in it, check vmcs12, enter
    /// L2 and pend KVM_REQ_GET_NESTED_STATE_PAGES. Returns false for -EINVAL.</summary>
    public static bool SetNestedState(ref KvmState s, KvmConfig c, int v, int vmcs12)
    {
        if (s.Vcpus[v].GuestMode) VmExit(ref s, c, v, failed: false);
        if (CheckControls(c.Vmcs12s[vmcs12]) != VmEntryRule.None) return false;
        s.Vcpus[v].Injected = 0; // userspace restores the vCPU's events with its nested state
        s.Vcpus[v].L1VmxOff = false; // the restored state has VMXON
        EnterNonRootMode(ref s, c, v, vmcs12);
        s.Vcpus[v].Requests |= KvmRequest.GetNestedStatePages;
        return true;
    }

    /// <summary>mirrors __nested_vmx_vmexit: service L2's pending TLB flush, leave guest mode,
    /// load vmcs01, then apply the updates deferred while L2 ran, in KVM's order (TPR threshold,
    /// virtual APIC mode, PML, APIC-access page, APICv status, SVI); since 982caaa11504 (6.14)
    /// KVM_REQ_EVENT when L1 has an injectable interrupt.</summary>
    public static void VmExit(ref KvmState s, KvmConfig c, int v, bool failed)
    {
        ref var vc = ref s.Vcpus[v];
        if ((vc.Requests & KvmRequest.TlbFlushCurrent) != 0) VmxOps.FlushTlbCurrent(ref vc); // L2's context
        vc.GuestMode = false;
        KvmDirtyLogging.LeaveGuestMode(ref s, c, v); // the AMD PML series' leave_guest_mode, before vmx_switch_vmcs(vmcs01)
        vc.Vmcs02Loaded = false;
        KvmDirtyLogging.AfterVmcb01Switch(ref s, c, v);
        vc.NestedRunPending = false;
        vc.ImmediateExit = false;
        // An interrupt KVM was injecting into L2 goes to vmcs12's IDT-vectoring info
        // (vmcs12_save_pending_event): L1 re-injects it; it is already in L1's ISR.
        vc.Injected = 0;
        if (vc.L1TprThreshold >= 0)
        {
            vc.Vmcs01.TprThreshold = (uint)vc.L1TprThreshold;
            vc.L1TprThreshold = -1; // KVM resets it at the next nested entry; earlier is equivalent
        }
        if ((vc.Deferred & DeferredUpdate.VirtualApicMode) != 0)
        {
            vc.Deferred &= ~DeferredUpdate.VirtualApicMode;
            VmxOps.SetVirtualApicMode(ref s, c, v);
        }
        if ((vc.Deferred & DeferredUpdate.CpuDirtyLogging) != 0)
        {
            vc.Deferred &= ~DeferredUpdate.CpuDirtyLogging;
            VmxOps.UpdateCpuDirtyLogging(ref s, c, v);
        }
        if ((vc.Deferred & DeferredUpdate.ApicAccessPage) != 0)
        {
            vc.Deferred &= ~DeferredUpdate.ApicAccessPage;
            if (c.Policy.ApicAccessPage == Vmcs01Update.DeferPendRequest) vc.Requests |= KvmRequest.ApicPageReload;
            else VmxOps.SetApicAccessPageAddr(ref s, c, v);
        }
        if ((vc.Deferred & DeferredUpdate.ApicvStatus) != 0)
        {
            vc.Deferred &= ~DeferredUpdate.ApicvStatus;
            if (c.Policy.ApicvRefresh == Vmcs01Update.DeferPendRequest) vc.Requests |= KvmRequest.ApicvUpdate;
            else VmxOps.RefreshApicvExecCtrl(ref s, c, v);
        }
        if ((vc.Deferred & DeferredUpdate.HwapicIsr) != 0)
        {
            vc.Deferred &= ~DeferredUpdate.HwapicIsr;
            // kvm_apic_update_hwapic_isr: skipped while APICv is inactive.
            if (vc.ApicvActive) VmxOps.HwapicIsrUpdate(ref s, c, v, vc.Apic.Isr.Highest());
        }
        if (!failed && c.Policy.NestedVmexitRequestsEvent && CpuHasInjectableIntr(s, v)) vc.Requests |= KvmRequest.Event;
    }

    /// <summary>mirrors kvm_cpu_has_injectable_intr for L1 (no ExtINT modelled): with APICv
    /// active the CPU delivers LAPIC interrupts, so there is none for KVM to inject.</summary>
    static bool CpuHasInjectableIntr(in KvmState s, int v) =>
        !s.Vcpus[v].ApicvActive && X86.HasInjectableInterrupt(s, v);

    /// <summary>mirrors the INIT and interrupt parts of vmx_check_nested_events: an interrupt for L1 while
    /// L2 runs with external-interrupt exiting is a synthesized EXTERNAL_INTERRUPT exit to L1,
    /// acknowledged on the way (vmcs12 has "acknowledge interrupt on exit"); since 6.12 one that is
    /// L2's notification vector becomes nested posted-interrupt processing instead. While
    /// nested_run_pending the exit is blocked (-EBUSY): KVM forces an immediate exit after the
    /// vmcs02 entry and looks again.</summary>
    public static void CheckNestedEvents(ref KvmState s, KvmConfig c, int v)
    {
        ref var vc = ref s.Vcpus[v];
        var v12 = c.Vmcs12s[vc.Vmcs12];
        if (vc.InitPending)
        {
            if (vc.NestedRunPending) { vc.ImmediateExit = true; return; }
            // INIT is never blocked in L2: an INIT_SIGNAL exit (reason 3) to L1, which consumes it.
            vc.InitPending = false;
            VmExit(ref s, c, v, failed: false);
            return;
        }
        int irq = X86.ApicHasInterrupt(ref s, v);
        if (irq < 0 || !v12.ExtIntrExiting)
        {
            CompleteNestedPostedInterrupt(ref vc);
            if (irq >= 0) InjectIntoL2(ref s, c, v, (byte)irq);
            return;
        }
        if (c.Policy.NestedPiNotification == NestedPiNotification.InCheckNestedEvents && irq == vc.NestedPiNv)
        {
            vc.PiPending = true;
            vc.Apic.Irr.Clear((byte)irq); // kvm_apic_clear_irr
            CompleteNestedPostedInterrupt(ref vc);
            return;
        }
        if (vc.NestedRunPending) { vc.ImmediateExit = true; return; }
        VmExit(ref s, c, v, failed: false);
        if ((v12.Exit & ExitControls.AcknowledgeInterruptOnExit) != 0)
            X86.AckInterrupt(ref s, c, v, (byte)irq);
    }

    /// <summary>mirrors the interrupt part of inject_pending_event in guest mode when vmcs12 does not
    /// exit on external interrupts: the interrupt is L2's (kvm_cpu_has_injectable_intr holds in guest
    /// mode even with APICv). With L2's RFLAGS.IF set KVM acknowledges it in L1's APIC and injects
    /// it through vmcs02's VM_ENTRY_INTR_INFO; otherwise it arms vmcs02's interrupt-window exiting
    /// (enable_irq_window), which the nested VM-exit discards with vmcs02. While
    /// nested_run_pending, vmx_interrupt_allowed says -EBUSY: an immediate exit, then again.</summary>
    static void InjectIntoL2(ref KvmState s, KvmConfig c, int v, byte irq)
    {
        ref var vc = ref s.Vcpus[v];
        if (vc.Injected != 0) return;
        if (vc.NestedRunPending) { vc.ImmediateExit = true; return; }
        if (!vc.L2If)
        {
            vc.Vmcs02.Primary |= PrimaryControls.InterruptWindowExiting;
            return;
        }
        X86.AckInterrupt(ref s, c, v, irq);
        vc.Injected = irq;
    }

    /// <summary>L2 executes STI. With vmcs02's interrupt-window exiting armed by KVM (vmcs12 does
    /// not ask for it), the window exit goes to L0: handle_interrupt_window clears the control and
    /// raises KVM_REQ_EVENT.</summary>
    public static void L2Sti(ref VcpuState vc)
    {
        vc.L2If = true;
        if ((vc.Vmcs02.Primary & PrimaryControls.InterruptWindowExiting) == 0) return;
        vc.Vmcs02.Primary &= ~PrimaryControls.InterruptWindowExiting;
        vc.Phase = VcpuPhase.InKernel;
        vc.Requests |= KvmRequest.Event;
    }

    /// <summary>mirrors vmx_complete_nested_posted_interrupt: with pi_pending, software does the
    /// posted-interrupt processing of L1's descriptor for L2 into L2's vIRR and vmcs02's RVI.</summary>
    public static void CompleteNestedPostedInterrupt(ref VcpuState vc)
    {
        if (!vc.PiPending) return;
        vc.PiPending = false;
        if (vc.Pid12.On) ProcessL2Descriptor(ref vc);
    }

    /// <summary>SDM 29.6 steps 3-6 on L1's descriptor for L2: ON := 0, vIRR |= PIR, PIR := 0,
    /// RVI02 := max(RVI02, highest PIR bit). Done by hardware on a 0xF0 notification in L2, or by
    /// KVM in software.</summary>
    public static void ProcessL2Descriptor(ref VcpuState vc)
    {
        vc.Pid12.On = false;
        var pir = vc.Pid12.TakePir();
        vc.L2Virr.UnionWith(pir);
        if (pir.Highest() > vc.Vmcs02.Rvi) vc.Vmcs02.SetRvi((byte)pir.Highest());
    }

    static byte HighestOrZero(int v) => v < 0 ? (byte)0 : (byte)v;

    /// <summary>The APIC-virtualization part of vmcs02 that must equal what vmcs12 asked for
    /// (invariant I3): PIN.PI, PRI.TPR_SHADOW and the four secondary APIC bits.</summary>
    public static (uint Pin, uint Primary, uint Secondary) OwnedBits(in Vmcs v) =>
        (v.Pin & PinBasedControls.ProcessPostedInterrupts, v.Primary & PrimaryControls.UseTprShadow, v.EffectiveSecondary & ApicSecondary);
}
