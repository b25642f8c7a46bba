using NestedApic.Hardware.Vmx;

namespace NestedApic.Hypervisor.Vmx;

public readonly partial struct VmxModel
{
    public void Apply(ref KvmState s, in KvmStep step)
    {
        if (KvmCommon.Apply(ref s, _c, step)) return;
        int v = step.Vcpu;
        ref var vc = ref s.Vcpus[v];
        switch (step.Kind)
        {
            case EventKind.KvmRun: vc.Phase = VcpuPhase.InKernel; break;
            case EventKind.ExitToUserspace: vc.Phase = VcpuPhase.Userspace; break;
            case EventKind.SetNestedState: Nested.SetNestedState(ref s, _c, v, step.Arg); break;
            case EventKind.VmLaunch:
                vc.Phase = VcpuPhase.InKernel;
                Nested.Run(ref s, _c, v, step.Arg);
                break;
            case EventKind.SendIpi:
                vc.Phase = VcpuPhase.InKernel; // ICR writes always exit (no IPI virtualization modelled)
                X86.AcceptFixedIrq(ref s, _c, step.Arg, step.Arg2);
                break;
            case EventKind.PostToL2: PostToL2(ref s, v, step.Arg, step.Arg2); break;
            case EventKind.Vmcall:
                vc.Phase = VcpuPhase.InKernel;
                Nested.VmExit(ref s, _c, v, failed: false);
                break;
            case EventKind.VmEnter: VmEnter(ref s, v); break;
            case EventKind.Notification: Notification(ref s, v); break;
            case EventKind.VirtualInterrupt: Hw.DeliverVirtualInterrupt(ref vc); break;
            case EventKind.NestedNotification: NestedNotification(ref vc); break;
            case EventKind.L2VirtualInterrupt: Hw.DeliverL2VirtualInterrupt(ref vc); break;
        }
    }

    /// <summary>L1 as a hypervisor posts to its L2 on vCPU <paramref name="target"/> the way KVM
    /// does (reference E21): PIR and test-and-set ON in its descriptor for L2, then, if ON was
    /// clear, an IPI with vmcs12's notification vector through its emulated APIC (E18).</summary>
    void PostToL2(ref KvmState s, int v, int target, byte vector)
    {
        s.Vcpus[v].Phase = VcpuPhase.InKernel; // the ICR write exits
        ref var t = ref s.Vcpus[target];
        if (t.Pid12.Post(vector))
            X86.AcceptFixedIrq(ref s, _c, target, (byte)_c.Vmcs12s[t.Vmcs12].PostedIntrNv);
    }

    /// <summary>POSTED_INTR_NESTED_VECTOR reaches the pCPU: posted-interrupt processing of L1's
    /// descriptor for L2 if L2 runs with vmcs02's vector, else an external-interrupt exit.</summary>
    void NestedNotification(ref VcpuState vc)
    {
        vc.NestedNotificationInFlight = false;
        if (vc.Phase != VcpuPhase.InGuest) return;
        bool processed = vc.RunningL2 && Hw.ProcessL2PostedInterrupts(ref vc, _c.Policy.NestedPostedIntrVector);
        if (!processed) vc.Phase = VcpuPhase.InKernel; // external-interrupt exit to L0
    }

    /// <summary>mirrors the tail of vcpu_enter_guest and vmx_vcpu_run: sync PIR to IRR, cancel the
    /// entry if that raised a request, KVM's WARN on apicv_active, then the hardware VM entry with
    /// the SDM's checks; a failure of vmcs02 is reflected to L1 (nested_vmx_reflect_vmexit).</summary>
    void VmEnter(ref KvmState s, int v)
    {
        ref var vc = ref s.Vcpus[v];
        VmxOps.SyncPirToIrr(ref s, _c, v);
        if (vc.Requests != 0) return;
        if (vc.ApicvActive != X86.ApicvShouldBeActive(s, _c, v)) vc.Faults |= Fault.BeliefIncoherent;
        byte vtpr = vc.Vmcs02Loaded ? (byte)0 : vc.Apic.Tpr;
        var rule = VmEntryChecks.Check(VmcsLayout.Controls(vc.Loaded, vtpr), VmcsLayout.MaxPhyAddr);
        if (rule == VmEntryRule.None)
        {
            vc.Phase = VcpuPhase.InGuest;
            return;
        }
        vc.FailedRule = (byte)rule;
        if (vc.Vmcs02Loaded)
        {
            // nested_vmx_vmexit fail path: L1 sees VMfailValid(7). KVM's fault unless L1's own
            // vmcs12 breaks the same hardware rules (the checks KVM leaves to hardware).
            if (VmEntryChecks.Check(_c.Vmcs12s[vc.Vmcs12].Controls, VmcsLayout.MaxPhyAddr) == VmEntryRule.None)
                vc.Faults |= Fault.BlamedL1;
            // __nested_vmx_vmexit WARNs on a late VM-fail when nested_early_check was on.
            if (_c.Policy.NestedEarlyCheck) vc.Faults |= Fault.KvmWarned;
            Nested.VmExit(ref s, _c, v, failed: true);
        }
        else
        {
            vc.Faults |= Fault.Vmcs01EntryFailed; // KVM_EXIT_FAIL_ENTRY
            vc.Phase = VcpuPhase.Userspace;
        }
    }

    /// <summary>A notification IPI reaches the pCPU (SDM 29.6 and the table of reference E20a).</summary>
    void Notification(ref KvmState s, int v)
    {
        ref var vc = ref s.Vcpus[v];
        vc.NotificationInFlight = false;
        if (vc.Phase != VcpuPhase.InGuest) return; // host handler: the next entry syncs PIR
        byte vector = _c.Policy.PostedIntrVector;
        // The hardware compares the arriving vector with the running VMCS's: with distinct vectors
        // L1's notification in L2 is an external-interrupt exit; with a shared one L2 takes it.
        bool processed = vc.RunningL1 ? Hw.ProcessPostedInterrupts(ref vc, vector) : Hw.ProcessL2PostedInterrupts(ref vc, vector);
        if (!processed) vc.Phase = VcpuPhase.InKernel; // external-interrupt exit to L0
    }
}
