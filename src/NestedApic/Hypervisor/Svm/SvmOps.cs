using NestedApic.Hardware.Svm;

namespace NestedApic.Hypervisor.Svm;

/// <summary>
/// svm.c (and the AVIC exit handlers of avic.c) over the model state: vCPU creation, load and put,
/// interrupt delivery by KVM (svm_deliver_interrupt and svm_complete_interrupt_delivery), the
/// AVIC_INCOMPLETE_IPI handler, HLT and wake-ups, device interrupts.
/// </summary>
public static class SvmOps
{
    /// <summary>mirrors svm_vcpu_create + avic_init_vmcb for the fields modelled: vmcb01 with
    /// V_INTR_MASKING and AVIC per apicv_active, the physical-table entry, the device's IRTE
    /// (posted iff AVIC is active, avic_pi_update_irte). With 5.18's design, the guest's CPUID
    /// with SVM sets the VM-wide NESTED inhibit (svm_vcpu_after_set_cpuid, before any KVM_RUN).</summary>
    public static void VcpuCreate(ref KvmState s, KvmConfig c, int v)
    {
        ref var vc = ref s.Vcpus[v];
        vc.Svm.Vmcb01IntCtl = IntCtl.VIntrMasking | (vc.ApicvActive ? IntCtl.AvicEnable : 0);
        vc.Svm.PhysicalIdEntry = Avic.InitialEntry(v).Value;
        vc.Svm.Irte = vc.ApicvActive ? IrteBits.GuestMode : IrteBits.None;
        SvmPmlOps.InitVmcb(ref vc);
        if (c.Policy.NestedAvicInhibit == NestedAvicInhibit.VmWide && c.NestedSvm)
            X86.SetOrClearApicvInhibit(ref s, c, ApicvInhibit.Nested, true);
    }

    /// <summary>mirrors svm_vcpu_load / svm_vcpu_put at the edges of KVM_RUN.</summary>
    public static void VcpuLoad(ref KvmState s, int v) => Avic.VcpuLoad(ref s.Vcpus[v], v);
    public static void VcpuPut(ref KvmState s, int v) => Avic.VcpuPut(ref s.Vcpus[v], v);

    /// <summary>mirrors svm_deliver_interrupt: kvm_lapic_set_irr (which sets irr_pending), a full
    /// barrier, then svm_complete_interrupt_delivery.</summary>
    public static bool DeliverInterrupt(ref KvmState s, KvmConfig c, int v, byte vector)
    {
        ref var vc = ref s.Vcpus[v];
        vc.Apic.Irr.Set(vector);
        vc.Svm.IrrNotPending = false;
        CompleteInterruptDelivery(ref s, c, v);
        return true;
    }

    /// <summary>mirrors svm_complete_interrupt_delivery: without AVIC, KVM_REQ_EVENT and a kick
    /// (a host IPI: #VMEXIT(INTR) if in the guest, a wake-up if blocked); with AVIC and the target
    /// in guest mode, the doorbell; otherwise kvm_vcpu_wake_up.</summary>
    public static void CompleteInterruptDelivery(ref KvmState s, KvmConfig c, int t)
    {
        ref var tc = ref s.Vcpus[t];
        bool inGuest = tc.Phase == VcpuPhase.InGuest; // read before apicv_active (smp_load_acquire)
        if (!tc.ApicvActive)
        {
            X86.MakeRequest(ref s, t, KvmRequest.Event);
            WakeUp(ref tc);
        }
        else if (inGuest) SvmHw.Doorbell(ref s, c, t); // avic_ring_doorbell: WRMSR C001_011Bh <- apicid(cpu)
        else WakeUp(ref tc);
    }

    /// <summary>mirrors kvm_vcpu_wake_up: only a blocked vCPU has anything to wake.</summary>
    static void WakeUp(ref VcpuState vc)
    {
        if (vc.Svm.Blocking) vc.Svm.WakePending = true;
    }

    /// <summary>L1 writes ICR. With AVIC on in the running vmcb01 the CPU runs the IPI itself and
    /// may end with AVIC_INCOMPLETE_IPI, which KVM handles as the vCPU's next step; otherwise the
    /// write is intercepted and KVM emulates it (kvm_apic_send_ipi).</summary>
    public static void WriteIcr(ref KvmState s, KvmConfig c, int v, byte destination, byte vector)
    {
        ref var vc = ref s.Vcpus[v];
        if (!vc.Svm.Vmcb01Avic || vc.Svm.Vmcb02Current)
        {
            vc.Phase = VcpuPhase.InKernel;
            X86.AcceptFixedIrq(ref s, c, destination, vector);
            return;
        }
        var outcome = SvmHw.WriteIcr(ref s, c, v, destination, vector);
        if (outcome.ExitCode is null) return; // a trap-free IPI: L1 goes on
        vc.Phase = VcpuPhase.InKernel;
        vc.Svm.IncompleteIpiCause = (byte)(1 + (uint)outcome.Cause);
        vc.Svm.IncompleteIpiDest = destination;
        vc.Svm.IncompleteIpiVector = vector;
    }

    /// <summary>mirrors avic_incomplete_ipi_interception: "target not running" means IRR is set
    /// already and KVM only kicks (avic_kick_target_vcpus: irr_pending, then
    /// svm_complete_interrupt_delivery); an invalid type or target is emulated; an invalid vector
    /// is ignored.</summary>
    public static void IncompleteIpiInterception(ref KvmState s, KvmConfig c, int v)
    {
        ref var vc = ref s.Vcpus[v];
        var cause = (IncompleteIpiCause)(vc.Svm.IncompleteIpiCause - 1);
        byte dest = vc.Svm.IncompleteIpiDest, vector = vc.Svm.IncompleteIpiVector;
        vc.Svm.IncompleteIpiCause = 0;
        vc.Svm.IncompleteIpiDest = 0;
        vc.Svm.IncompleteIpiVector = 0;
        switch (cause)
        {
            case IncompleteIpiCause.TargetNotRunning:
                // Physical destination: KVM's APIC ID == vcpu_id (APIC_ID_MODIFIED inhibits otherwise).
                if (dest < c.Vcpus && s.Vcpus[dest].Life == VcpuLife.Visible)
                {
                    s.Vcpus[dest].Svm.IrrNotPending = false;
                    CompleteInterruptDelivery(ref s, c, dest);
                }
                break;
            case IncompleteIpiCause.InvalidIntType:
            case IncompleteIpiCause.InvalidTarget:
                X86.AcceptFixedIrq(ref s, c, dest, vector);
                break;
        }
    }

    /// <summary>mirrors kvm_emulate_halt → kvm_vcpu_block: avic_vcpu_blocking, then
    /// kvm_vcpu_check_block re-reads IRR; with an interrupt pending the vCPU does not sleep.</summary>
    public static void Halt(ref KvmState s, int v)
    {
        ref var vc = ref s.Vcpus[v];
        vc.Phase = VcpuPhase.InKernel;
        Avic.VcpuBlocking(ref vc, v);
        if (X86.HasInjectableInterrupt(s, v)) Avic.VcpuUnblocking(ref vc, v);
    }

    /// <summary>A woken vCPU re-checks (kvm_vcpu_check_block): an interrupt or KVM_REQ_EVENT ends
    /// the block (avic_vcpu_unblocking), anything else sends it back to sleep.</summary>
    public static void Unblock(ref KvmState s, int v)
    {
        ref var vc = ref s.Vcpus[v];
        vc.Svm.WakePending = false;
        if (X86.HasInjectableInterrupt(s, v) || (vc.Requests & KvmRequest.Event) != 0) Avic.VcpuUnblocking(ref vc, v);
    }

    /// <summary>A device interrupt for vCPU <paramref name="v"/>: posted by the IOMMU in GA mode
    /// (a GA-log entry makes avic_ga_log_notifier wake the vCPU), or a host interrupt that KVM's
    /// irqfd delivers (kvm_set_msi → svm_deliver_interrupt).</summary>
    public static void DeviceInterrupt(ref KvmState s, KvmConfig c, int v, byte vector)
    {
        switch (SvmHw.PostDeviceInterrupt(ref s, c, v, vector))
        {
            case GaPostResult.Legacy: X86.AcceptFixedIrq(ref s, c, v, vector); break;
            case GaPostResult.GaLogged: WakeUp(ref s.Vcpus[v]); break;
        }
    }

    /// <summary>mirrors the tail of vcpu_enter_guest and svm_vcpu_run: requests raised late cancel
    /// the entry; KVM's WARN on apicv_active; then the hardware VMRUN with the APM's consistency
    /// checks. A failing vmcb02 is reflected to L1 as SVM_EXIT_ERR; a failing vmcb01 ends KVM_RUN.</summary>
    public static void VcpuRun(ref KvmState s, KvmConfig c, int v)
    {
        ref var vc = ref s.Vcpus[v];
        if (vc.Requests != 0) return;
        if (vc.ApicvActive != X86.ApicvShouldBeActive(s, c, v)) vc.Faults |= Fault.BeliefIncoherent;
        var rule = VmrunChecks.Check(CurrentVmcb(vc, v), MaxPhyAddr);
        if (rule != VmrunRule.None)
        {
            vc.FailedRule = (byte)rule;
            if (!vc.Svm.Vmcb02Current)
            {
                vc.Faults |= Fault.Vmcs01EntryFailed;
                vc.Phase = VcpuPhase.Userspace;
                return;
            }
            if (VmrunChecks.Check(c.Vmcb12s[vc.Svm.Vmcb12].Controls, MaxPhyAddr) == VmrunRule.None) vc.Faults |= Fault.BlamedL1;
            SvmNested.VmExit(ref s, c, v);
            return;
        }
        vc.Phase = VcpuPhase.InGuest;
        if (!vc.Svm.Vmcb02Current) vc.Injected = 0; // EVENTINJ delivered through L1's IDT
        SvmHw.Vmrun(ref s, c, v);
    }

    public const int MaxPhyAddr = 48;

    /// <summary>The control fields of the VMCB KVM runs, as the CPU checks them: KVM's intercepts
    /// and bitmaps (the test baseline's), int_ctl, and vmcb01's AVIC pointers (vmcb02 has none).</summary>
    public static VmcbControls CurrentVmcb(in VcpuState vc, int v)
    {
        var vmcb = VmcbControls.TestBaseline;
        vmcb.InterceptMisc1 |= InterceptMisc1.Intr;
        vmcb.IntCtl = vc.Svm.CurrentIntCtl;
        if (!vc.Svm.Vmcb02Current)
        {
            vmcb.AvicBackingPage = AvicMachine.PageAddress(v);
            vmcb.AvicLogicalTable = AvicMachine.PageAddress(AvicMachine.PageSlots);
            vmcb.AvicPhysicalTable = AvicMachine.PageAddress(AvicMachine.PageSlots + 1) | (ulong)(KvmState.MaxVcpus - 1);
            vmcb.AvicApicBar = 0xFEE0_0000;
        }
        return vmcb;
    }
}
