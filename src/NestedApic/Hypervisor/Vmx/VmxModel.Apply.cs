using NestedApic.Hardware.Vmx;

namespace NestedApic.Hypervisor.Vmx;

public readonly partial struct VmxModel
{
    public void Apply(ref KvmState s, in KvmStep step)
    {
        int v = step.Vcpu;
        if (step.Kind.IsBounded()) s.Used[(int)step.Kind]++;
        ref var vc = ref s.Vcpus[v];
        switch (step.Kind)
        {
            case EventKind.CreateVcpu: CreateVcpu(ref s, v); break;
            case EventKind.PublishVcpu: vc.Life = VcpuLife.Visible; break;
            case EventKind.KvmRun: vc.Phase = VcpuPhase.InKernel; break;
            case EventKind.ExitToUserspace: vc.Phase = VcpuPhase.Userspace; break;
            case EventKind.SetNestedState: Nested.SetNestedState(ref s, _c, v, step.Arg); break;
            case EventKind.GuestDebugBlockIrq:
                vc.BlockIrq = step.Arg != 0;
                X86.UpdateBlockIrqInhibit(ref s, _c);
                break;
            case EventKind.SynicAutoEoi:
                vc.AutoEoi = step.Arg != 0;
                X86.UpdateHyperVInhibit(ref s, _c);
                break;
            case EventKind.SetLapic: X86.SetLapicState(ref s, _c, v, step.Arg); break;
            case EventKind.VmLaunch:
                vc.Phase = VcpuPhase.InKernel;
                Nested.Run(ref s, _c, v, step.Arg);
                break;
            case EventKind.ApicIdWrite:
                vc.Phase = VcpuPhase.InKernel;
                vc.ApicIdModified = step.Arg != 0;
                X86.RecalculateApicMap(ref s, _c);
                break;
            case EventKind.ApicModeSwitch:
                vc.Phase = VcpuPhase.InKernel;
                X86.SetApicMode(ref s, _c, v, (ApicMode)step.Arg);
                break;
            case EventKind.SendIpi:
                vc.Phase = VcpuPhase.InKernel; // ICR writes always exit (no IPI virtualization modelled)
                X86.AcceptFixedIrq(ref s, _c, step.Arg, step.Arg2);
                break;
            case EventKind.PostToL2: PostToL2(ref s, v, step.Arg, step.Arg2); break;
            case EventKind.Eoi: Eoi(ref s, v, step.Actor); break;
            case EventKind.Sti:
                vc.L1If = true;
                // KVM armed interrupt-window exiting if it holds an interrupt it must inject.
                if (!vc.ApicvActive && X86.HasInjectableInterrupt(s, v))
                {
                    vc.Phase = VcpuPhase.InKernel;
                    vc.Requests |= KvmRequest.Event;
                }
                break;
            case EventKind.Vmcall:
                vc.Phase = VcpuPhase.InKernel;
                Nested.VmExit(ref s, _c, v, failed: false);
                break;
            case EventKind.ServiceRequest: ServiceRequest(ref s, v, (KvmRequest)(1 << step.Arg)); break;
            case EventKind.VmEnter: VmEnter(ref s, v); break;
            case EventKind.Notification: Notification(ref s, v); break;
            case EventKind.VirtualInterrupt: Hw.DeliverVirtualInterrupt(ref vc); break;
            case EventKind.NestedNotification: NestedNotification(ref vc); break;
            case EventKind.L2VirtualInterrupt: Hw.DeliverL2VirtualInterrupt(ref vc); break;
        }
    }

    /// <summary>mirrors kvm_arch_vcpu_create + vmx_vcpu_create: before 423ecfea77dd apicv_active
    /// is read from the VM once; after it, it starts true with KVM_REQ_APICV_UPDATE pending.</summary>
    void CreateVcpu(ref KvmState s, int v)
    {
        ref var vc = ref s.Vcpus[v];
        vc.Life = VcpuLife.Initialised;
        vc.Phase = VcpuPhase.Userspace;
        vc.ApicMode = ApicMode.XApic;
        if (_c.EnableApicv)
        {
            if (_c.Policy.CreateVcpuPendsRequest)
            {
                vc.ApicvActive = true;
                vc.Requests |= KvmRequest.ApicvUpdate;
            }
            else vc.ApicvActive = s.Inhibits == 0;
        }
        vc.Vmcs01 = VmxOps.InitVmcs01(_c, vc.ApicvActive, vc.ApicMode);
        vc.Pid.Nv = _c.Policy.PostedIntrVector;
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

    void Eoi(ref KvmState s, int v, Actor who)
    {
        ref var vc = ref s.Vcpus[v];
        int completing = vc.Apic.Isr.Highest();
        if (who == Actor.L1 && Hw.EoiVirtualized(vc)) Hw.EoiVirtualization(ref vc);
        else
        {
            vc.Phase = VcpuPhase.InKernel;
            X86.EmulateEoi(ref s, _c, v);
        }
        if (completing >= 0 && vc.Apic.Isr.Test((byte)completing)) vc.Faults |= Fault.VectorStuck;
    }

    /// <summary>mirrors the request loop of vcpu_enter_guest, one request per step, in KVM's order.</summary>
    void ServiceRequest(ref KvmState s, int v, KvmRequest r)
    {
        ref var vc = ref s.Vcpus[v];
        vc.Requests &= ~r;
        switch (r)
        {
            case KvmRequest.GetNestedStatePages: break; // vmcs12 pages mapped: nothing else to model
            case KvmRequest.ApicvUpdate: X86.VcpuUpdateApicv(ref s, _c, v); break;
            case KvmRequest.Event:
                if (vc.GuestMode) Nested.CheckNestedEvents(ref s, _c, v);
                else X86.InjectPendingEvent(ref s, _c, v);
                break;
        }
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
