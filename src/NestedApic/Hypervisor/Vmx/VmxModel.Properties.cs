using NestedApic.Hardware.Vmx;

namespace NestedApic.Hypervisor.Vmx;

public readonly partial struct VmxModel
{
    public int Violated(in KvmState s)
    {
        int first = int.MaxValue;
        for (int v = 0; v < _c.Vcpus; v++)
        {
            if (s.Vcpus[v].Life == VcpuLife.Absent) continue;
            int p = FirstViolation(s, v);
            if (p != int.MaxValue && (first == int.MaxValue || Properties.Rank((Property)p) < Properties.Rank((Property)first))) first = p;
        }
        return first == int.MaxValue ? -1 : first;
    }

    /// <summary>The first property broken on vCPU <paramref name="v"/>, in the order of
    /// <see cref="Properties.Diagnosis"/>, or int.MaxValue.</summary>
    int FirstViolation(in KvmState s, int v)
    {
        // Every new state is checked: a vCPU without faults (nearly all) skips the properties
        // that only read a fault flag.
        foreach (var p in s.Vcpus[v].Faults == 0 ? _checksWithoutFaults : _checks)
            if (Breaks(s, v, p)) return (int)p;
        return int.MaxValue;
    }

    /// <summary>The properties checked on Intel, in the order of <see cref="Properties.Diagnosis"/>.</summary>
    static Property[] Checks(KvmConfig c) =>
        [.. Properties.Diagnosis.Where(p => p.AppliesTo(CpuVendor.Intel) && (c.CheckedProperties & (1u << (int)p)) != 0)];

    /// <summary>The fault flags whose being set is all a property says, or none.</summary>
    static Fault FaultOf(Property p) => p switch
    {
        Property.KvmCausedVmentryFailure => Fault.BlamedL1 | Fault.Vmcs01EntryFailed,
        Property.ApicvBeliefIncoherent => Fault.BeliefIncoherent,
        Property.VectorStuckInService => Fault.VectorStuck,
        Property.TprThresholdStale => Fault.TprThresholdAboveVtpr,
        Property.DirtyPageNotLogged => Fault.DirtyNotLogged,
        Property.KvmWarned => Fault.KvmWarned,
        Property.InterruptToDisabledApic => Fault.AcceptedWhileDisabled,
        _ => 0,
    };

    public bool Breaks(in KvmState s, int v, Property p)
    {
        ref readonly var vc = ref s.Vcpus[v];
        ref readonly var v01 = ref vc.Vmcs01;
        switch (p)
        {
            case Property.Vmcs01ApicvStale:
                return vc.RunningL1 && (v01.PostedInterrupts != vc.ApicvActive || v01.ApicRegVirt != vc.ApicvActive || v01.Vid != vc.ApicvActive);
            case Property.Vmcs02NotOwnedByVmcs12:
                if (!vc.RunningL2) return false; // what the CPU runs L2 with, not KVM's scratch state
                var v12 = _c.Vmcs12s[vc.Vmcs12];
                var expected = Nested.PrepareVmcs02(v01, v12, _c);
                return Nested.OwnedBits(vc.Vmcs02) != Nested.OwnedBits(expected)
                    || (vc.Vmcs02.TprShadow && vc.Vmcs02.TprThreshold != v12.TprThreshold)
                    || vc.Vmcs02.ApicAccessPage != expected.ApicAccessPage
                    // With VID in vmcs12, SVI in vmcs02 is L2's (prepare_vmcs02 copies it in,
                    // sync_vmcs02_to_vmcs12 out; L2 completes its interrupts at once in the
                    // model, so it is 0): L1's SVI written there breaks it. Without VID the CPU
                    // ignores the field.
                    || (v12.Vid && vc.Vmcs02.Svi != 0);
            case Property.ApicModeControlsStale:
                return vc.RunningL1 && (
                    v01.Has(SecondaryControls.VirtualizeX2ApicMode) != (vc.ApicMode == ApicMode.X2Apic && _c.X2ApicVirtualization) ||
                    v01.Has(SecondaryControls.VirtualizeApicAccesses) != (vc.ApicMode == ApicMode.XApic && _c.Flexpriority));
            case Property.SviStale:
                return vc.RunningL1 && vc.ApicvActive && v01.Svi != HighestOrZero(vc.Apic.Isr.Highest());
            case Property.InterruptNotDelivered:
                // With APICv KVM leaves delivery to the CPU; without it, KVM injects before entry
                // or gets an exit when L1 unmasks one (interrupt window, TPR threshold).
                return vc.RunningL1 && vc.L1If && X86.HasInjectableInterrupt(s, v)
                    && (!vc.ApicvActive || !Hw.CanDeliverVirtualInterrupt(vc));
            case Property.PirStranded:
                return (!vc.Pid.Pir.IsEmpty && !vc.Pid.On)
                    // KVM syncs PIR only while the APIC is enabled (kvm_lapic_enabled)
                    || (vc.Pid.On && vc.Phase == VcpuPhase.InGuest && !vc.NotificationInFlight && vc.ApicMode != ApicMode.Disabled)
                    // L1's descriptor for L2: while L2 runs, an outstanding ON needs a notification coming
                    || (vc.Pid12.On && vc.RunningL2 && !vc.NestedNotificationInFlight && !vc.NotificationInFlight);
            case Property.NotificationVectorWrong:
                return v01.PostedIntrNv != vc.Pid.Nv
                    || (vc.GuestMode && vc.Vmcs02.PostedInterrupts && vc.Vmcs02.PostedIntrNv == vc.Pid.Nv);
            case Property.ApicAccessAddrStale:
                return vc.RunningL1 && v01.VirtualizesApicAccesses && v01.ApicAccessPage != s.ApicAccessPage + 1;
            case Property.StaleL1ApicTranslation:
                return vc.RunningL1 && v01.VirtualizesApicAccesses && vc.L1TlbApicStale;
            default:
                return (vc.Faults & FaultOf(p)) != 0;
        }
    }

    static byte HighestOrZero(int v) => v < 0 ? (byte)0 : (byte)v;

    /// <summary>The vCPU on which a property breaks first, or -1.</summary>
    public int VcpuOf(in KvmState s, Property p) => KvmModels.VcpuOf(this, s, p);
}
