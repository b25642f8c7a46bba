using NestedApic.Hardware.Vmx;

namespace NestedApic.Hypervisor.Vmx;

/// <summary>The report text of a violated property (kept apart from the predicates, which mutation
/// testing scores on their own: bench/stryker-config.json).</summary>
public readonly partial struct VmxModel
{
    public string Explain(int invariant, in KvmState s)
    {
        var p = (Property)invariant;
        int v = VcpuOf(s, p);
        if (v < 0) return $"{p.Id()} holds";
        ref readonly var vc = ref s.Vcpus[v];
        string who = $"vcpu{v}";
        return p switch
        {
            Property.KvmCausedVmentryFailure => (vc.Faults & Fault.BlamedL1) != 0
                ? $"{who}: hardware VM entry of vmcs02 failed with VM-instruction error 7 (rule {((VmEntryRule)vc.FailedRule).Id()}) although vmcs12 '{_c.Vmcs12s[vc.Vmcs12].Name}' passed KVM's checks; L1 was handed VMfailValid(7){((vc.Faults & Fault.KvmWarned) != 0 ? "; KVM WARNed (nested_early_check)" : "")}"
                : $"{who}: hardware VM entry of vmcs01 failed with VM-instruction error 7 (rule {((VmEntryRule)vc.FailedRule).Id()}); KVM_EXIT_FAIL_ENTRY",
            Property.ApicvBeliefIncoherent => $"{who}: entered the guest with apicv_active={B(vc.ApicvActive)} while inhibits={ApicvInhibits.Describe(X86.InhibitReasons(s, _c))}",
            Property.Vmcs01ApicvStale => $"{who}: L1 runs with vmcs01 {vc.Vmcs01.ApicvTuple} but apicv_active={B(vc.ApicvActive)}",
            Property.Vmcs02NotOwnedByVmcs12 => $"{who}: vmcs02 pin=0x{vc.Vmcs02.Pin:x8} secondary=0x{vc.Vmcs02.Secondary:x8} intr_status=0x{vc.Vmcs02.GuestIntrStatus:x4}, vmcs12 '{_c.Vmcs12s[vc.Vmcs12].Name}' asks pin=0x{_c.Vmcs12s[vc.Vmcs12].Pin:x8} secondary=0x{_c.Vmcs12s[vc.Vmcs12].EffectiveSecondary:x8}",
            Property.ApicModeControlsStale => $"{who}: L1's APIC is {vc.ApicMode} but vmcs01 has VIRTUALIZE_APIC_ACCESSES={B(vc.Vmcs01.Has(SecondaryControls.VirtualizeApicAccesses))} VIRTUALIZE_X2APIC_MODE={B(vc.Vmcs01.Has(SecondaryControls.VirtualizeX2ApicMode))}",
            Property.SviStale => $"{who}: vmcs01.SVI=0x{vc.Vmcs01.Svi:x2} but the highest ISR vector is 0x{HighestOrZero(vc.Apic.Isr.Highest()):x2}",
            Property.InterruptNotDelivered => vc.ApicvActive
                ? $"{who}: vector 0x{X86.PendingInterrupt(s, v):x2} pending above PPR 0x{vc.Apic.Ppr:x2} with IF=1; KVM leaves it to APICv (apicv_active=1) but vmcs01 has VID={B(vc.Vmcs01.Vid)} RVI=0x{vc.Vmcs01.Rvi:x2} VPPR=0x{Hw.Vppr(vc):x2}"
                : $"{who}: L1 runs with IF=1 and vector 0x{X86.PendingInterrupt(s, v):x2} deliverable above PPR 0x{vc.Apic.Ppr:x2}, but KVM (apicv_active=0) injected nothing and no exit is coming (vmcs01 TPR_THRESHOLD={vc.Vmcs01.TprThreshold})",
            Property.TprThresholdStale => $"{who}: vmcs01 entered with TPR_SHADOW=1 VID=0 VAPIC_ACCESS={B(vc.Vmcs01.VirtualizesApicAccesses)} and TPR_THRESHOLD={vc.Vmcs01.TprThreshold} above VTPR[7:4]={vc.Apic.Tpr >> 4} ({(vc.Vmcs01.VirtualizesApicAccesses ? "an endless TPR-below-threshold exit" : "VM-entry failure, error 7")})",
            Property.ApicAccessAddrStale => $"{who}: L1 runs with APIC-access virtualization at {ApicPageName(vc.Vmcs01.ApicAccessPage)} but the APIC-access page is now page{s.ApicAccessPage}",
            Property.StaleL1ApicTranslation => $"{who}: L1 runs with APIC-access virtualization while its TLB context keeps the translation of 0xFEE00000 to ordinary memory it cached while the virtualization was off; its APIC writes bypass KVM",
            Property.DirtyPageNotLogged => $"{who}: L1 wrote a page while dirty logging was on but vmcs01 had PML={B(vc.Vmcs01.Pml)}: the write is missing from the dirty log",
            Property.PirStranded => vc.Pid12.On && vc.RunningL2 && !vc.NestedNotificationInFlight
                ? $"{who}: L2 runs while L1's descriptor for L2 has ON=1 PIR highest 0x{HighestOrZero(vc.Pid12.Pir.Highest()):x2} and no notification is coming"
                : $"{who}: PIR={(vc.Pid.Pir.IsEmpty ? "empty" : $"highest 0x{vc.Pid.Pir.Highest():x2}")} ON={B(vc.Pid.On)} with the vCPU {vc.Phase} and no notification in flight",
            Property.NotificationVectorWrong => $"{who}: descriptor NV=0x{vc.Pid.Nv:x2}, vmcs01 NV=0x{vc.Vmcs01.PostedIntrNv:x2}, vmcs02 NV=0x{vc.Vmcs02.PostedIntrNv:x2}",
            Property.InterruptToDisabledApic => $"{who}: an IPI posted through the PID-pointer table while the APIC was disabled reached IRR (now {KvmReport.Vectors(vc.Apic.Irr)}) after the APIC was enabled again",
            Property.KvmWarned => $"{who}: KVM hit a WARN_ON_ONCE of its own ({((vc.Faults & Fault.BlamedL1) != 0 ? "nested_early_check: a late VM-fail" : "vmx_hwapic_isr_update in KVM_RUN with L2 active and VID in vmcs12")})",
            Property.VectorStuckInService => $"{who}: an EOI left its vector in ISR (ISR highest 0x{HighestOrZero(vc.Apic.Isr.Highest()):x2}, SVI 0x{vc.Vmcs01.Svi:x2})",
            _ => p.Id(),
        };
    }

    static int B(bool b) => b ? 1 : 0;
}
