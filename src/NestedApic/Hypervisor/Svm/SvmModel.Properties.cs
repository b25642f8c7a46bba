using NestedApic.Hardware.Svm;

namespace NestedApic.Hypervisor.Svm;

public readonly partial struct SvmModel
{
    /// <summary>The properties that mean something on AMD, in the order a state is checked: the
    /// AVIC hazards before the symptoms they cause (a doorbell lost in L2 also leaves an interrupt
    /// undelivered; the report names the cause).</summary>
    public static readonly Property[] Checked =
    [
        Property.AvicDoorbellIntoL2, Property.AvicRunningInL2, Property.Vmcb01AvicStale, Property.IrrPendingHintLost,
        Property.KvmCausedVmentryFailure, Property.ApicvBeliefIncoherent, Property.InterruptNotDelivered,
        Property.VectorStuckInService, Property.DirtyPageNotLogged,
    ];

    public int Violated(in KvmState s)
    {
        foreach (var p in Checked)
        {
            if ((_c.CheckedProperties & (1u << (int)p)) == 0) continue;
            for (int v = 0; v < _c.Vcpus; v++)
                if (s.Vcpus[v].Life != VcpuLife.Absent && Breaks(s, v, p)) return (int)p;
        }
        return -1;
    }

    public bool Breaks(in KvmState s, int v, Property p)
    {
        ref readonly var vc = ref s.Vcpus[v];
        switch (p)
        {
            case Property.AvicDoorbellIntoL2: return (vc.Svm.Faults & SvmFault.DoorbellIntoL2) != 0;
            case Property.AvicRunningInL2:
                return vc.RunningL2 && (vc.Svm.IsRunning || (vc.Svm.Irte & (IrteBits.GuestMode | IrteBits.IsRun)) == (IrteBits.GuestMode | IrteBits.IsRun));
            case Property.Vmcb01AvicStale: return vc.RunningL1 && vc.Svm.Vmcb01Avic != vc.ApicvActive;
            case Property.IrrPendingHintLost: return vc.Svm.IrrNotPending && !vc.Apic.Irr.IsEmpty && !KickComing(s, v);
            case Property.KvmCausedVmentryFailure: return (vc.Faults & (Fault.BlamedL1 | Fault.Vmcs01EntryFailed)) != 0;
            case Property.ApicvBeliefIncoherent: return (vc.Faults & Fault.BeliefIncoherent) != 0;
            case Property.InterruptNotDelivered: return Stranded(s, v);
            case Property.VectorStuckInService: return (vc.Faults & Fault.VectorStuck) != 0;
            case Property.DirtyPageNotLogged: return (vc.Faults & Fault.DirtyNotLogged) != 0;
        }
        return false;
    }

    /// <summary>A sender's KVM has an AVIC_INCOMPLETE_IPI for this vCPU still to handle: its kick
    /// (irr_pending, KVM_REQ_EVENT or a wake-up) is on its way.</summary>
    bool KickComing(in KvmState s, int v)
    {
        for (int u = 0; u < _c.Vcpus; u++)
            if (s.Vcpus[u].Svm.HasIncompleteIpi && s.Vcpus[u].Svm.IncompleteIpiDest == v) return true;
        return false;
    }

    /// <summary>I12, the safety form: L1 has a deliverable vector in IRR and nothing will deliver
    /// it. Running L1 with IF=1, AVIC must have recognized it; running L2 that intercepts INTR, a
    /// kick must be coming; blocked with IF=1, a wake-up must be coming.</summary>
    bool Stranded(in KvmState s, int v)
    {
        ref readonly var vc = ref s.Vcpus[v];
        // A hardware-disabled APIC delivers nothing, and KVM waits for it (kvm_apic_has_interrupt).
        if (!vc.Apic.HasDeliverable || vc.ApicMode == ApicMode.Disabled || !vc.L1If || KickComing(s, v)) return false;
        if (vc.RunningL1) return !(vc.Svm.Vmcb01Avic && vc.Svm.Recognized);
        if (vc.RunningL2) return _c.Vmcb12s[vc.Svm.Vmcb12].InterceptIntr;
        return vc.Svm.Blocking && !vc.Svm.WakePending && (vc.Requests & KvmRequest.Event) == 0;
    }

    public int VcpuOf(in KvmState s, Property p) => KvmModels.VcpuOf(this, s, p);
}
