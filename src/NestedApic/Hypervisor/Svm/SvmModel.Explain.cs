using NestedApic.Hardware.Svm;

namespace NestedApic.Hypervisor.Svm;

/// <summary>The report text of a violated property (kept apart from the predicates, which mutation
/// testing scores on their own: bench/stryker-config.json).</summary>
public readonly partial struct SvmModel
{
    public string Explain(int invariant, in KvmState s)
    {
        var p = (Property)invariant;
        int v = VcpuOf(s, p);
        if (v < 0) return $"{p.Id()} holds";
        ref readonly var vc = ref s.Vcpus[v];
        string who = $"vcpu{v}";
        int irr = vc.Apic.HighestPending;
        string vector = irr < 0 ? "none" : $"0x{irr:x2}";
        return p switch
        {
            Property.AvicDoorbellIntoL2 => $"{who}: an AVIC doorbell for L1 reached pCPU {v} while it ran vmcb02 (AVIC off there: the CPU evaluated no backing page); L1's IRR highest {vector} waits for an unrelated exit",
            Property.AvicRunningInL2 => $"{who}: runs L2 on vmcb02 with its physical APIC ID entry {vc.Svm.Entry} and IRTE {vc.Svm.Irte}: peers and the IOMMU doorbell a CPU that cannot take L1's interrupts",
            Property.Vmcb01AvicStale => $"{who}: L1 runs with vmcb01 AVIC_ENABLE={B(vc.Svm.Vmcb01Avic)} but apicv_active={B(vc.ApicvActive)}",
            Property.IrrPendingHintLost => $"{who}: IRR holds {vector} but irr_pending is clear and no kick is coming: KVM's apic_find_highest_irr will not look",
            Property.KvmCausedVmentryFailure => (vc.Faults & Fault.BlamedL1) != 0
                ? $"{who}: VMRUN of vmcb02 failed (rule {((VmrunRule)vc.FailedRule).Id()}) although vmcb12 '{_c.Vmcb12s[vc.Svm.Vmcb12].Name}' passed KVM's checks; L1 got SVM_EXIT_ERR"
                : $"{who}: VMRUN of vmcb01 failed (rule {((VmrunRule)vc.FailedRule).Id()}); KVM_EXIT_FAIL_ENTRY",
            Property.ApicvBeliefIncoherent => $"{who}: entered the guest ({(vc.GuestMode ? "L2" : "L1")}) with apicv_active={B(vc.ApicvActive)} while inhibits={ApicvInhibits.Describe(X86.InhibitReasons(s, _c))}{(Avic.VcpuGetApicvInhibitReasons(s, _c, v) ? " and the per-vCPU NESTED reason" : "")}",
            Property.InterruptNotDelivered => vc.Svm.Blocking
                ? $"{who}: blocked in HLT with {vector} pending above PPR 0x{vc.Apic.Ppr:x2} and no wake-up coming"
                : $"{who}: {vector} pending above PPR 0x{vc.Apic.Ppr:x2} with IF=1 while {(vc.GuestMode ? "L2" : "L1")} runs; vmcb01 AVIC={B(vc.Svm.Vmcb01Avic)} recognized={B(vc.Svm.Recognized)}, no kick or doorbell coming",
            Property.VectorStuckInService => $"{who}: an EOI left its vector in ISR (ISR highest 0x{vc.Apic.Isrv:x2})",
            Property.DirtyPageNotLogged => $"{who}: L1 wrote a page while dirty logging was on (NPT dirty bits cleared for PML) but vmcb01 had PML_ENABLE={((vc.Svm.Vmcb01NestedCtl & (ushort)NestedCtl.PmlEnable) != 0 ? 1 : 0)}: the write is missing from the dirty log",
            _ => $"{p.Id()}: not a property of the AMD model",
        };
    }

    static int B(bool b) => KvmReport.B(b);
}
