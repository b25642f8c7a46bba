using NestedApic.Hardware.Svm;

namespace NestedApic.Hypervisor.Svm;

/// <summary>
/// What the AMD CPU and IOMMU do on their own, by the hardware layer's algorithms
/// (<see cref="AvicMachine"/>, APM §15.29) run on a machine built from the model's state: the
/// physical APIC ID table holds each vCPU's entry, backing page v is vCPU v's APIC page, and core
/// v runs vCPU v's current VMCB while it is in the guest.
/// </summary>
public static class SvmHw
{
    /// <summary>The AVIC world as the hardware sees it now.</summary>
    static AvicMachine Machine(in KvmState s, KvmConfig c)
    {
        var m = AvicMachine.Create(c.Vcpus);
        for (int v = 0; v < c.Vcpus; v++)
        {
            ref readonly var vc = ref s.Vcpus[v];
            m.Physical(v) = vc.Life == VcpuLife.Absent ? default : vc.Svm.Entry;
            m.Page(v).Apic = vc.Apic;
            ref var core = ref m.Core(v);
            core.InGuest = vc.Phase == VcpuPhase.InGuest;
            core.AvicEnabled = core.InGuest && (vc.Svm.CurrentIntCtl & IntCtl.AvicEnable) != 0;
            // vmcb02's AVIC fields are never written (nested_vmcb02_prepare_control): 0E0h is 0.
            core.BackingPage = vc.Svm.Vmcb02Current ? 0 : AvicMachine.PageAddress(v);
            core.InterruptRecognized = vc.Svm.Recognized;
        }
        return m;
    }

    /// <summary>Copies what the hardware wrote back: IRR/ISR of every backing page, what each
    /// core recognized, and a doorbell that reached a core running vmcb02 (APM §15.29.8.2: it
    /// evaluates the page of the VMCB running at that moment, never L1's).</summary>
    static void Store(ref KvmState s, KvmConfig c, in AvicMachine m, byte doorbells)
    {
        for (int v = 0; v < c.Vcpus; v++)
        {
            ref var vc = ref s.Vcpus[v];
            if (vc.Life == VcpuLife.Absent) continue;
            vc.Apic = m.Page(v).Apic;
            vc.Svm.Recognized = m.Core(v).InterruptRecognized;
            if ((doorbells >> v & 1) != 0 && vc.Phase == VcpuPhase.InGuest && vc.Svm.Vmcb02Current)
                vc.Svm.Faults |= SvmFault.DoorbellIntoL2;
        }
    }

    /// <summary>VMRUN of the current VMCB on core v (APM §15.29.8.3): with AVIC on, IRR is evaluated.</summary>
    public static void Vmrun(ref KvmState s, KvmConfig c, int v)
    {
        var m = Machine(s, c);
        var vmcb = new VmcbControls { IntCtl = s.Vcpus[v].Svm.CurrentIntCtl, AvicBackingPage = m.Core(v).BackingPage };
        m.Vmrun(v, vmcb);
        Store(ref s, c, m, 0);
    }

    /// <summary>A doorbell to host APIC ID <paramref name="hostApicId"/> (WRMSR C001_011Bh by KVM).</summary>
    public static void Doorbell(ref KvmState s, KvmConfig c, int hostApicId)
    {
        var m = Machine(s, c);
        m.Doorbell(hostApicId);
        Store(ref s, c, m, (byte)(1 << hostApicId));
    }

    /// <summary>L1 on core <paramref name="sender"/> writes a fixed, edge, physical-destination IPI
    /// to ICR with AVIC on: the APM §15.29.6.1 algorithm. Returns the #VMEXIT it ends with, if any.</summary>
    public static AvicIpiOutcome WriteIcr(ref KvmState s, KvmConfig c, int sender, byte destination, byte vector)
    {
        var m = Machine(s, c);
        var outcome = m.WriteIcr(sender, Icr.Low(vector), Icr.High(destination));
        Store(ref s, c, m, outcome.Doorbells);
        return outcome;
    }

    /// <summary>The IOMMU posts <paramref name="vector"/> for vCPU <paramref name="v"/> through its
    /// IRTE (APM §15.29.6.2): IRR, then a doorbell if IsRun, else a GA-log entry if GALogIntr.</summary>
    public static GaPostResult PostDeviceInterrupt(ref KvmState s, KvmConfig c, int v, byte vector)
    {
        var m = Machine(s, c);
        var bits = s.Vcpus[v].Svm.Irte;
        var irte = new GaIrte
        {
            GuestMode = (bits & IrteBits.GuestMode) != 0,
            IsRun = (bits & IrteBits.IsRun) != 0,
            GaLogIntr = (bits & IrteBits.GaLogIntr) != 0,
            Vector = vector,
            Destination = (ushort)v,
            GaRootPointer = AvicMachine.PageAddress(v),
            GaTag = (uint)v,
        };
        var r = m.PostGa(irte);
        Store(ref s, c, m, r == GaPostResult.Doorbell ? (byte)(1 << v) : (byte)0);
        return r;
    }

    /// <summary>Whether AVIC delivers an interrupt to L1 now: L1 runs on vmcb01 with AVIC on, the
    /// evaluation recognized one, RFLAGS.IF is set and it is still above PPR.</summary>
    public static bool CanDeliver(in VcpuState vc) =>
        vc.RunningL1 && vc.Svm.Vmcb01Avic && vc.Svm.Recognized && vc.L1If && vc.Apic.HasDeliverable;

    /// <summary>AVIC delivers the recognized interrupt: IRR to ISR (the LocalApic algorithm).</summary>
    public static void Deliver(ref VcpuState vc)
    {
        vc.Apic.Deliver();
        vc.Svm.Recognized = false;
    }

    /// <summary>Table 15-22: an EOI write by L1 on vmcb01 with AVIC on is accelerated unless the
    /// vector is level-triggered (then AVIC_NOACCEL, a trap KVM emulates).</summary>
    public static bool EoiAccelerated(in VcpuState vc)
    {
        if (!vc.RunningL1 || !vc.Svm.Vmcb01Avic) return false;
        int v = vc.Apic.Isr.Highest();
        bool level = v >= 0 && vc.Apic.Tmr.Test((byte)v);
        return AvicRegisterAccess.Classify(AvicBackingPage.EoiOffset, write: true, levelEoi: level) == AvicAccessKind.Accelerated;
    }

    /// <summary>The accelerated EOI: ISR's highest bit cleared, then IRR re-evaluated.</summary>
    public static void AcceleratedEoi(ref VcpuState vc)
    {
        vc.Apic.Eoi();
        vc.Svm.Recognized = vc.Apic.HasDeliverable;
    }
}
