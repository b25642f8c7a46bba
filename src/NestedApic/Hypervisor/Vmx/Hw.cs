using NestedApic.Hardware.Vmx;

namespace NestedApic.Hypervisor.Vmx;

/// <summary>
/// What the CPU does on its own while L1 runs on vmcs01: the SDM's APIC-virtualization
/// algorithms applied to L1's virtual-APIC page, which on KVM is the LAPIC register page.
/// </summary>
public static class Hw
{
    /// <summary>SDM 29.1.3 PPR virtualization: VPPR from VTPR and SVI.</summary>
    public static byte Vppr(in VcpuState vc)
    {
        byte vtpr = vc.Apic.Tpr, svi = vc.Vmcs01.Svi;
        return (vtpr & 0xF0) >= (svi & 0xF0) ? vtpr : (byte)(svi & 0xF0);
    }

    /// <summary>SDM 29.2.1 evaluation of pending virtual interrupts, and the conditions of 29.2.2
    /// for delivering one now (RFLAGS.IF = 1).</summary>
    public static bool CanDeliverVirtualInterrupt(in VcpuState vc) =>
        vc.RunningL1 && vc.L1If && vc.Vmcs01.Vid && (vc.Vmcs01.Rvi & 0xF0) > (Vppr(vc) & 0xF0);

    /// <summary>SDM 29.2.2 virtual-interrupt delivery: V := RVI; VISR[V] := 1; SVI := V;
    /// VIRR[V] := 0; RVI := highest VIRR or 0.</summary>
    public static void DeliverVirtualInterrupt(ref VcpuState vc)
    {
        byte vector = vc.Vmcs01.Rvi;
        vc.Apic.Isr.Set(vector);
        vc.Vmcs01.SetSvi(vector);
        vc.Apic.Irr.Clear(vector);
        int next = vc.Apic.Irr.Highest();
        vc.Vmcs01.SetRvi(next < 0 ? (byte)0 : (byte)next);
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

    /// <summary>SDM 29.1.4 EOI virtualization with an all-zero EOI-exit bitmap: VISR[SVI] := 0,
    /// SVI := highest VISR or 0. It trusts SVI: a stale SVI completes the wrong vector.</summary>
    public static void EoiVirtualization(ref VcpuState vc)
    {
        vc.Apic.Isr.Clear(vc.Vmcs01.Svi);
        int next = vc.Apic.Isr.Highest();
        vc.Vmcs01.SetSvi(next < 0 ? (byte)0 : (byte)next);
    }

    /// <summary>Virtual-interrupt delivery in L2 (SDM 29.2.2 on vmcs02): RVI above L2's VPPR, which
    /// is 0 because the model lets L2 complete its interrupts at once (L2's ISR is not modelled).</summary>
    public static bool CanDeliverL2VirtualInterrupt(in VcpuState vc) =>
        vc.RunningL2 && vc.Vmcs02.Vid && (vc.Vmcs02.Rvi & 0xF0) > 0;

    public static void DeliverL2VirtualInterrupt(ref VcpuState vc)
    {
        vc.L2Virr.Clear(vc.Vmcs02.Rvi);
        int next = vc.L2Virr.Highest();
        vc.Vmcs02.SetRvi(next < 0 ? (byte)0 : (byte)next);
    }

    /// <summary>SDM 29.6 posted-interrupt processing on L1's descriptor: ON := 0, VIRR |= PIR,
    /// PIR := 0, RVI := max(RVI, highest PIR bit).</summary>
    public static void ProcessPostedInterrupts(ref VcpuState vc)
    {
        vc.Pid.On = false;
        var pir = vc.Pid.TakePir();
        vc.Apic.Irr.UnionWith(pir);
        int max = pir.Highest();
        if (max > vc.Vmcs01.Rvi) vc.Vmcs01.SetRvi((byte)max);
    }
}
