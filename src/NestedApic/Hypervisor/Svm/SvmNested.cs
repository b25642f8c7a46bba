using NestedApic.Hardware.Svm;

namespace NestedApic.Hypervisor.Svm;

/// <summary>svm/nested.c over the model state: nested VMRUN and #VMEXIT, vmcb02's int_ctl,
/// KVM_SET_NESTED_STATE, and L1 interrupts arriving while L2 runs.</summary>
public static class SvmNested
{
    /// <summary>int_ctl bits nested_vmcb02_prepare_control takes from vmcb12 (V_TPR and the
    /// V_IRQ injection bits) and from vmcb01 (V_INTR_MASKING, and vGIF when not nested).
    /// Bits 30/31 (x2AVIC, AVIC) come from neither: L2 never runs with AVIC.</summary>
    public const uint FromVmcb12 = IntCtl.VTprMask | IntCtl.VIrq | IntCtl.VIntrPrioMask | IntCtl.VIgnTpr;
    public const uint FromVmcb01 = IntCtl.VIntrMasking | IntCtl.VGif | IntCtl.VGifEnable;

    /// <summary>mirrors nested_vmcb_check_controls: the VMRUN checks KVM makes in software on
    /// vmcb12 (VMRUN intercept, ASID, bitmaps); vmcb12's AVIC fields are never used, so not checked.</summary>
    public static VmrunRule CheckControls(Vmcb12 v12)
    {
        var ctl = v12.Controls;
        ctl.IntCtl &= ~(IntCtl.AvicEnable | IntCtl.X2AvicEnable);
        return VmrunChecks.Check(ctl, SvmOps.MaxPhyAddr);
    }

    /// <summary>mirrors the int_ctl line of nested_vmcb02_prepare_control.</summary>
    public static uint PrepareVmcb02IntCtl(uint vmcb01IntCtl, Vmcb12 v12) =>
        (v12.IntCtl & FromVmcb12) | (vmcb01IntCtl & FromVmcb01);

    /// <summary>svm_switch_vmcb(vmcb02) + nested_vmcb02_prepare_control (which enters guest mode).</summary>
    static void SwitchToVmcb02(ref VcpuState vc, KvmConfig c, int vmcb12)
    {
        vc.Svm.Vmcb02Current = true;
        vc.Svm.Vmcb02IntCtl = PrepareVmcb02IntCtl(vc.Svm.Vmcb01IntCtl, c.Vmcb12s[vmcb12]);
        vc.Svm.Vmcb12 = (byte)vmcb12;
        SvmPmlOps.PrepareVmcb02(ref vc, c);
        vc.GuestMode = true;
    }

    /// <summary>mirrors nested_svm_vmrun → enter_svm_guest_mode: vmcb02 built, guest mode entered,
    /// svm_set_gif(true) (KVM_REQ_EVENT with an interrupt pending), and, since f44509f849fe, if
    /// AVIC is active KVM_REQ_APICV_UPDATE: the per-vCPU inhibit applies at the next entry. A
    /// vmcb12 failing the checks is a VMRUN that exits at once with SVM_EXIT_ERR.</summary>
    public static void Vmrun(ref KvmState s, KvmConfig c, int v, int vmcb12)
    {
        ref var vc = ref s.Vcpus[v];
        vc.Phase = VcpuPhase.InKernel; // VMRUN is intercepted
        if (CheckControls(c.Vmcb12s[vmcb12]) != VmrunRule.None) return;
        SwitchToVmcb02(ref vc, c, vmcb12);
        if (X86.HasInjectableInterrupt(s, v)) vc.Requests |= KvmRequest.Event;
        if (vc.ApicvActive && c.Policy.NestedAvicInhibit == NestedAvicInhibit.PerVcpu) vc.Requests |= KvmRequest.ApicvUpdate;
    }

    /// <summary>mirrors svm_set_nested_state into guest mode: svm_leave_nested if L2 was active,
    /// then vmcb02 and guest mode straight through nested_vmcb02_prepare_control, and
    /// KVM_REQ_GET_NESTED_STATE_PAGES. Before 24f7d36b824b (7.1) it requested no APICv update,
    /// unlike enter_svm_guest_mode; since then it does when AVIC is active. False for -EINVAL.</summary>
    public static bool SetNestedState(ref KvmState s, KvmConfig c, int v, int vmcb12)
    {
        if (CheckControls(c.Vmcb12s[vmcb12]) != VmrunRule.None) return false;
        ref var vc = ref s.Vcpus[v];
        if (vc.GuestMode) LeaveNested(ref s, c, v);
        SwitchToVmcb02(ref vc, c, vmcb12);
        vc.Requests |= KvmRequest.GetNestedStatePages;
        if (c.Policy.SetNestedStateRequestsApicvUpdate && vc.ApicvActive) vc.Requests |= KvmRequest.ApicvUpdate;
        return true;
    }

    /// <summary>mirrors svm_leave_nested: back to vmcb01 without a #VMEXIT to L1; since
    /// 3fdc6087df3b (6.6) it requests an APICv update if the VM has AVIC activated (5.19, with the
    /// per-vCPU inhibit of f44509f849fe already in place, did not).</summary>
    public static void LeaveNested(ref KvmState s, KvmConfig c, int v)
    {
        ref var vc = ref s.Vcpus[v];
        vc.GuestMode = false;
        KvmDirtyLogging.LeaveGuestMode(ref s, c, v); // leave_guest_mode, still on vmcb02
        vc.Svm.Vmcb02Current = false;
        vc.Requests &= ~KvmRequest.GetNestedStatePages;
        if (c.Policy.LeaveNestedRequestsApicvUpdate && X86.ApicvActivated(s, c)) vc.Requests |= KvmRequest.ApicvUpdate;
    }

    /// <summary>mirrors nested_svm_vmexit: leave guest mode, back to vmcb01, then, if the VM
    /// has AVIC activated, __kvm_vcpu_update_apicv at once (not a request: "so that other vCPUs
    /// can start to benefit from it right away").</summary>
    public static void VmExit(ref KvmState s, KvmConfig c, int v)
    {
        ref var vc = ref s.Vcpus[v];
        vc.GuestMode = false;
        KvmDirtyLogging.LeaveGuestMode(ref s, c, v); // leave_guest_mode, still on vmcb02
        vc.Svm.Vmcb02Current = false;
        KvmDirtyLogging.AfterVmcb01Switch(ref s, c, v);
        vc.Requests &= ~KvmRequest.GetNestedStatePages;
        if (X86.ApicvActivated(s, c)) X86.VcpuUpdateApicv(ref s, c, v);
        if (X86.HasInjectableInterrupt(s, v)) vc.Requests |= KvmRequest.Event;
    }

    /// <summary>mirrors the interrupt part of svm_check_nested_events: an L1 interrupt that is not
    /// blocked (svm_interrupt_blocked: with V_INTR_MASKING, L1's IF as saved in vmcb01) is a nested
    /// #VMEXIT(INTR) when L1 intercepts INTR; otherwise KVM injects it into L2 itself
    /// (inject_pending_event acknowledges it in L1's APIC).</summary>
    public static void CheckNestedEvents(ref KvmState s, KvmConfig c, int v)
    {
        ref var vc = ref s.Vcpus[v];
        var v12 = c.Vmcb12s[vc.Svm.Vmcb12];
        int irq = X86.ApicHasInterrupt(ref s, v);
        if (irq < 0 || (v12.VIntrMasking && !vc.L1If)) return;
        if (v12.InterceptIntr) VmExit(ref s, c, v);
        else X86.AckInterrupt(ref s, c, v, (byte)irq);
    }
}
