using NestedApic.Hardware.Vmx;

namespace NestedApic.Hypervisor.Vmx;

/// <summary>
/// What the CPU does on its own while a guest runs: the hardware layer's APIC-virtualization
/// algorithms (<see cref="VirtualApic"/>, SDM ch. 29) applied to the model's state. For L1 the
/// virtual-APIC page is KVM's LAPIC page (VTPR = TPR, VIRR = IRR, VISR = ISR) with vmcs01's
/// guest interrupt status; for L2 it is the page L1 gave L2 with vmcs02's.
/// </summary>
public static class Hw
{
    /// <summary>L1's virtual-APIC page and vmcs01's RVI/SVI as the hardware sees them. VPPR is not
    /// stored: every change of VTPR or SVI runs PPR virtualization, so it is recomputed.</summary>
    static VirtualApic L1View(in VcpuState vc)
    {
        var va = new VirtualApic
        {
            Page = { Vtpr = vc.Apic.Tpr, Virr = vc.Apic.Irr, Visr = vc.Apic.Isr },
            Status = new GuestInterruptStatus(vc.Vmcs01.GuestIntrStatus),
        };
        va.PprVirtualization();
        return va;
    }

    /// <summary>The CPU writes back the virtual-APIC page (KVM's APIC page), VPPR included when
    /// it virtualizes interrupt delivery (SDM 29.1.3), and vmcs01's RVI/SVI.</summary>
    static void StoreL1(ref VcpuState vc, in VirtualApic va)
    {
        vc.Apic.Irr = va.Page.Virr;
        vc.Apic.Isr = va.Page.Visr;
        vc.Vmcs01.GuestIntrStatus = va.Status.Value;
        if (vc.Vmcs01.Vid) vc.KvmPpr = (byte)va.Page.Vppr;
    }

    static VmxControls Vmcs01Controls(in VcpuState vc) => VmcsLayout.Controls(vc.Vmcs01, vc.Apic.Tpr);

    /// <summary>SDM 29.1.3 PPR virtualization: VPPR from VTPR and SVI.</summary>
    public static byte Vppr(in VcpuState vc) => (byte)L1View(vc).Page.Vppr;

    /// <summary>SDM 29.2.1 evaluation of pending virtual interrupts, and the conditions of 29.2.2
    /// for delivering one now (RFLAGS.IF = 1).</summary>
    public static bool CanDeliverVirtualInterrupt(in VcpuState vc)
    {
        if (!vc.RunningL1 || !vc.L1If || !vc.Vmcs01.Vid) return false;
        var va = L1View(vc);
        return va.EvaluatePendingVirtualInterrupts(Vmcs01Controls(vc)) == ApicVirtualizationOutcome.VirtualInterruptRecognized;
    }

    /// <summary>SDM 29.2.2 virtual-interrupt delivery in L1.</summary>
    public static void DeliverVirtualInterrupt(ref VcpuState vc)
    {
        var va = L1View(vc);
        var c = Vmcs01Controls(vc);
        va.EvaluatePendingVirtualInterrupts(c);
        va.DeliverVirtualInterrupt(c, interruptible: true);
        StoreL1(ref vc, va);
    }

    /// <summary>Whether an EOI write by L1 is virtualized: VID on, and the access reaches the
    /// virtual-APIC page (APIC-access virtualization in xAPIC mode, x2APIC virtualization in
    /// x2APIC mode); otherwise it is an exit KVM emulates.</summary>
    public static bool EoiVirtualized(in VcpuState vc) =>
        vc.Vmcs01.Vid && vc.ApicMode switch
        {
            ApicMode.XApic => vc.Vmcs01.Has(SecondaryControls.VirtualizeApicAccesses),
            ApicMode.X2Apic => vc.Vmcs01.Has(SecondaryControls.VirtualizeX2ApicMode),
            _ => false,
        };

    /// <summary>SDM 29.1.2 TPR virtualization after L1's MOV to CR8 (vmcs01 always has TPR shadow
    /// and no CR8-load exiting): VTPR is written; without VID the CPU compares it with
    /// TPR_THRESHOLD. Returns true for a TPR-below-threshold VM exit (reason 43, trap-like).</summary>
    public static bool TprWrite(ref VcpuState vc, byte tpr)
    {
        vc.Apic.Tpr = tpr;
        var va = L1View(vc);
        var outcome = va.TprVirtualization(Vmcs01Controls(vc));
        if (vc.Vmcs01.Vid) vc.KvmPpr = (byte)va.Page.Vppr; // PPR virtualization writes VPPR
        return outcome == ApicVirtualizationOutcome.TprBelowThresholdExit;
    }

    /// <summary>SDM 26.2.1.1: with TPR shadow and neither VID nor APIC-access virtualization,
    /// TPR_THRESHOLD[3:0] must not exceed VTPR[7:4]; with APIC-access virtualization the same
    /// condition is an immediate TPR-below-threshold exit after entry. Either way KVM left vmcs01's
    /// threshold above the TPR it runs L1 with.</summary>
    public static bool TprThresholdAboveVtpr(in VcpuState vc) =>
        vc.Vmcs01.TprShadow && !vc.Vmcs01.Vid && (vc.Vmcs01.TprThreshold & 0xF) > (uint)(vc.Apic.Tpr >> 4);

    /// <summary>SDM "VM Exits Induced by the TPR Threshold": the exit right after a successful entry of vmcs01.</summary>
    public static bool TprBelowThresholdAfterEntry(in VcpuState vc) =>
        L1View(vc).OnVmEntry(Vmcs01Controls(vc)) == ApicVirtualizationOutcome.TprBelowThresholdExit;

    /// <summary>SDM 29.1.4 EOI virtualization (KVM's EOI-exit bitmap is 0 for the edge-triggered
    /// vectors modelled). It trusts SVI: a stale SVI completes the wrong vector.</summary>
    public static void EoiVirtualization(ref VcpuState vc)
    {
        var va = L1View(vc);
        va.EoiVirtualization(Vmcs01Controls(vc), out _);
        StoreL1(ref vc, va);
    }

    /// <summary>SDM 29.6: a notification of <paramref name="vector"/> reaches L1 running on
    /// vmcs01. Returns false when it is not vmcs01's notification (an external-interrupt exit).</summary>
    public static bool ProcessPostedInterrupts(ref VcpuState vc, byte vector)
    {
        var va = L1View(vc);
        if (va.ProcessPostedInterrupt(Vmcs01Controls(vc), vector, ref vc.Pid) == ApicVirtualizationOutcome.ExternalInterruptExit)
            return false;
        StoreL1(ref vc, va);
        return true;
    }

    /// <summary>L2's virtual-APIC page and vmcs02's RVI/SVI. L2 completes its interrupts at once in
    /// this model (its ISR and VTPR are not tracked), so its VISR is empty and VTPR 0.</summary>
    static VirtualApic L2View(in VcpuState vc)
    {
        var va = new VirtualApic { Page = { Virr = vc.L2Virr }, Status = new GuestInterruptStatus(vc.Vmcs02.GuestIntrStatus) };
        va.PprVirtualization();
        return va;
    }

    static VmxControls Vmcs02Controls(in VcpuState vc) => VmcsLayout.Controls(vc.Vmcs02, 0);

    /// <summary>SDM 29.6: a notification of <paramref name="vector"/> reaches L2 running on vmcs02,
    /// processed on L1's descriptor for L2. Returns false for an external-interrupt exit.</summary>
    public static bool ProcessL2PostedInterrupts(ref VcpuState vc, byte vector)
    {
        var va = L2View(vc);
        if (va.ProcessPostedInterrupt(Vmcs02Controls(vc), vector, ref vc.Pid12) == ApicVirtualizationOutcome.ExternalInterruptExit)
            return false;
        vc.L2Virr = va.Page.Virr;
        vc.Vmcs02.SetRvi(va.Status.Rvi);
        return true;
    }

    /// <summary>SDM 29.2.1/29.2.2 in L2 (delivered only with L2's RFLAGS.IF = 1).</summary>
    public static bool CanDeliverL2VirtualInterrupt(in VcpuState vc) =>
        vc.RunningL2 && vc.L2If && vc.Vmcs02.Vid &&
        L2View(vc).EvaluatePendingVirtualInterrupts(Vmcs02Controls(vc)) == ApicVirtualizationOutcome.VirtualInterruptRecognized;

    public static void DeliverL2VirtualInterrupt(ref VcpuState vc)
    {
        var va = L2View(vc);
        var c = Vmcs02Controls(vc);
        va.EvaluatePendingVirtualInterrupts(c);
        va.DeliverVirtualInterrupt(c, interruptible: true);
        vc.L2Virr = va.Page.Virr;
        vc.Vmcs02.SetRvi(va.Status.Rvi);
    }
}
