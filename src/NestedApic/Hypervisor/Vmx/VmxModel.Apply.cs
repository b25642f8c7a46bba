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
                if (VmxOps.IcrWriteVirtualized(vc)) VmxOps.VirtualizedIpi(ref s, step.Arg, step.Arg2);
                else
                {
                    vc.Phase = VcpuPhase.InKernel; // the ICR write exits; KVM delivers
                    X86.AcceptFixedIrq(ref s, _c, step.Arg, step.Arg2);
                }
                break;
            case EventKind.PostToL2: PostToL2(ref s, v, step.Arg, step.Arg2); break;
            case EventKind.Sti: Nested.L2Sti(ref vc); break; // L2 (KvmCommon takes L1's)
            case EventKind.VmxOperation:
                // handle_vmxoff (free_nested; KVM_REQ_EVENT when an INIT waits) / handle_vmxon
                vc.Phase = VcpuPhase.InKernel;
                vc.L1VmxOff = step.Arg != 0;
                if (vc.L1VmxOff && vc.InitPending) vc.Requests |= KvmRequest.Event;
                break;
            case EventKind.Vmcall:
                vc.Phase = VcpuPhase.InKernel;
                Nested.VmExit(ref s, _c, v, failed: false);
                break;
            case EventKind.Cr8Write: Cr8Write(ref s, v, step.Actor, step.Arg); break;
            case EventKind.ApicMmioAccess: ApicMmioAccess(ref vc); break;
            case EventKind.GuestWrite:
                if (s.DirtyLogging && !vc.Vmcs01.Pml) vc.Faults |= Fault.DirtyNotLogged;
                break;
            case EventKind.InitSignal:
                vc.Phase = VcpuPhase.InKernel; // ICR write
                X86.AcceptInit(ref s, step.Arg);
                break;
            case EventKind.DirtyLogging:
                // kvm_mmu_update_cpu_dirty_logging: the count went 0 <-> 1
                s.DirtyLogging = step.Arg != 0;
                X86.MakeAllCpusRequest(ref s, _c, KvmRequest.UpdateCpuDirtyLogging);
                break;
            case EventKind.ApicPageMigrate:
                // kvm_arch_mmu_notifier_invalidate_range: the APIC-access page moved
                s.ApicAccessPage++;
                X86.MakeAllCpusRequest(ref s, _c, KvmRequest.ApicPageReload);
                break;
            case EventKind.VectoringExit: VectoringExit(ref s, v); break;
            case EventKind.VmEnter: VmEnter(ref s, v); break;
            case EventKind.Notification: Notification(ref s, v); break;
            case EventKind.VirtualInterrupt: Hw.DeliverVirtualInterrupt(ref vc); break;
            case EventKind.NestedNotification: NestedNotification(ref vc); break;
            case EventKind.L2VirtualInterrupt: Hw.DeliverL2VirtualInterrupt(ref vc); break;
        }
    }

    /// <summary>MOV to CR8 with the new priority class. L1: TPR virtualization on vmcs01, maybe a
    /// TPR-below-threshold exit. L2: reflected to L1 if vmcs12 has CR8-load exiting; otherwise
    /// vmcs02 exits on it (no TPR shadow in vmcs12) and L0 emulates it on L1's APIC.</summary>
    void Cr8Write(ref KvmState s, int v, Actor who, byte cls)
    {
        ref var vc = ref s.Vcpus[v];
        byte tpr = (byte)(cls << 4);
        if (who == Actor.L1)
        {
            if (Hw.TprWrite(ref vc, tpr)) HandleTprBelowThreshold(ref s, v);
            return;
        }
        vc.Phase = VcpuPhase.InKernel;
        if ((_c.Vmcs12s[vc.Vmcs12].Primary & PrimaryControls.Cr8LoadExiting) != 0) Nested.VmExit(ref s, _c, v, failed: false);
        else X86.SetTpr(ref s, _c, v, tpr);
    }

    /// <summary>mirrors handle_tpr_below_threshold (exit reason 43 from L1).</summary>
    void HandleTprBelowThreshold(ref KvmState s, int v)
    {
        s.Vcpus[v].Phase = VcpuPhase.InKernel;
        if (_c.Policy.TprBelowThresholdExit == TprBelowThresholdExit.RequestEvent) s.Vcpus[v].Requests |= KvmRequest.Event;
        else X86.ApicUpdatePpr(ref s, _c, v);
    }

    /// <summary>L1 reads or writes its xAPIC page through its TLB. Without APIC-access
    /// virtualization in vmcs01 it reaches ordinary memory and L1's context caches that
    /// translation; with it, a stale cached translation bypasses the virtualization (SDM 29.4.5),
    /// and otherwise the access is virtualized or emulated without changing a modelled register.</summary>
    static void ApicMmioAccess(ref VcpuState vc)
    {
        if (!vc.Vmcs01.VirtualizesApicAccesses) vc.L1TlbApicStale = true;
    }

    /// <summary>The VM entry that injects an interrupt into L1 exits during its delivery:
    /// vmx_complete_interrupts finds it in IDT-vectoring info and re-queues it (KVM_REQ_EVENT);
    /// the vector stays in ISR and is injected again, the legacy way, at the next entry.</summary>
    void VectoringExit(ref KvmState s, int v)
    {
        ref var vc = ref s.Vcpus[v];
        byte injected = vc.Injected;
        VmEnter(ref s, v);
        if (vc.Phase != VcpuPhase.InGuest) return;
        vc.Injected = injected;
        vc.Phase = VcpuPhase.InKernel;
        vc.Requests |= KvmRequest.Event;
    }

    /// <summary>L1 as a hypervisor posts to its L2 on vCPU <paramref name="target"/> the way KVM
    /// does (reference E21): PIR and test-and-set ON in its descriptor for L2, then, if ON was
    /// clear, an IPI with vmcs12's notification vector through its emulated APIC (E18).</summary>
    void PostToL2(ref KvmState s, int v, int target, byte vector)
    {
        s.Vcpus[v].Phase = VcpuPhase.InKernel; // the ICR write exits
        ref var t = ref s.Vcpus[target];
        if (!t.Pid12.Pir.Test(vector) && t.Pid12.Post(vector))
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
        // "they can post interrupts even if APICv is temporarily disabled"; not with the APIC off
        if (vc.ApicMode != ApicMode.Disabled) VmxOps.SyncPirToIrr(ref s, _c, v);
        if (vc.Requests != 0) return;
        if (vc.ApicvActive != X86.ApicvShouldBeActive(s, _c, v)) vc.Faults |= Fault.BeliefIncoherent;
        byte vtpr = vc.Vmcs02Loaded ? (byte)0 : vc.Apic.Tpr;
        if (!vc.Vmcs02Loaded && Hw.TprThresholdAboveVtpr(vc)) vc.Faults |= Fault.TprThresholdAboveVtpr;
        var rule = VmEntryChecks.Check(VmcsLayout.Controls(vc.Loaded, vtpr), VmcsLayout.MaxPhyAddr);
        if (rule == VmEntryRule.None)
        {
            vc.Phase = VcpuPhase.InGuest;
            if (vc.Vmcs02Loaded)
            {
                // vmx_vcpu_run clears nested_run_pending after the entry; a nested event it
                // blocked made KVM request an immediate exit (and KVM_REQ_EVENT again).
                vc.NestedRunPending = false;
                vc.Injected = 0; // delivered through L2's IDT
                if (vc.ImmediateExit)
                {
                    vc.ImmediateExit = false;
                    vc.Phase = VcpuPhase.InKernel;
                    vc.Requests |= KvmRequest.Event;
                }
                return;
            }
            vc.Injected = 0; // delivered through L1's IDT
            if (Hw.TprBelowThresholdAfterEntry(vc)) HandleTprBelowThreshold(ref s, v);
            return;
        }
        vc.FailedRule = (byte)rule;
        if (vc.Vmcs02Loaded)
        {
            vc.NestedRunPending = false;
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
