using NestedApic.Hardware.Vmx;

namespace NestedApic.Hypervisor.Vmx;

public readonly partial struct VmxModel
{
    public string Label(in KvmStep step)
    {
        var c = _c;
        return KvmReport.Label(c, step, i => c.Vmcs12s[i].Name);
    }

    static string Vectors(in NestedApic.Hardware.Apic.VectorSet set) => KvmReport.Vectors(set);

    static string VmcsFields(in Vmcs v) =>
        $"{v.ApicvTuple} TPR_SHADOW={B(v.TprShadow)} VAPIC_ACCESS={B(v.Has(SecondaryControls.VirtualizeApicAccesses))} X2APIC_VIRT={B(v.Has(SecondaryControls.VirtualizeX2ApicMode))} RVI=0x{v.Rvi:x2} SVI=0x{v.Svi:x2}";

    /// <summary>The fields of the rest of the ladder, apart so that expectations on the APIC ones stay short.</summary>
    static string VmcsOtherFields(in Vmcs v) =>
        $"TPR_THRESHOLD={v.TprThreshold} PML={B(v.Pml)} APIC_ACCESS_ADDR={ApicPageName(v.ApicAccessPage)}";

    static string ApicPageName(byte field) => field switch
    {
        0 => "unset",
        VmcsLayout.Vmcs12ApicAccessPage => "vmcs12's",
        _ => $"page{field - 1}",
    };

    /// <summary>The state as named fields, for traces and diffs (off the hot path).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Fields(in KvmState s)
    {
        var c = _c;
        return KvmReport.Fields(c, s, (in VcpuState vc, Action<string, string> Add) =>
        {
            KvmReport.CommonFields(vc, Add, vc.GuestMode ? $"L2 (vmcs12 {c.Vmcs12s[vc.Vmcs12].Name})" : "L1");
            Add("loaded_vmcs", vc.Vmcs02Loaded ? "vmcs02" : "vmcs01");
            KvmReport.LapicFields(vc, Add);
            Add("tpr", $"0x{vc.Apic.Tpr:x2}");
            Add("injected", vc.Injected == 0 ? "-" : $"0x{vc.Injected:x2}");
            Add("init_pending", B(vc.InitPending).ToString());
            Add("l1_tlb_apic_stale", B(vc.L1TlbApicStale).ToString());
            Add("l1_tpr_threshold", vc.L1TprThreshold.ToString());
            Add("pid", $"PIR={Vectors(vc.Pid.Pir)} ON={B(vc.Pid.On)}");
            Add("notification_in_flight", B(vc.NotificationInFlight).ToString());
            Add("nested_notification_in_flight", B(vc.NestedNotificationInFlight).ToString());
            Add("pi_pending", B(vc.PiPending).ToString());
            if (c.TracksCpuid) Add("cpuid", vc.Cpuid.ToString().ToLowerInvariant());
            Add("pid12", $"PIR={Vectors(vc.Pid12.Pir)} ON={B(vc.Pid12.On)}");
            Add("l2.virr", Vectors(vc.L2Virr));
            Add("vmcs01", VmcsFields(vc.Vmcs01));
            Add("vmcs02", vc.GuestMode ? VmcsFields(vc.Vmcs02) : "-");
            Add("vmcs01.other", VmcsOtherFields(vc.Vmcs01));
            Add("vmcs02.other", vc.GuestMode ? VmcsOtherFields(vc.Vmcs02) : "-");
            Add("deferred", vc.Deferred == 0 ? "-" : vc.Deferred.ToString());
            Add("faults", vc.Faults == 0 ? "-" : vc.Faults.ToString());
            Add("kvm_ppr", $"0x{vc.KvmPpr:x2}");
            Add("nested.posted_intr_nv", vc.NestedPiNv == 0 ? "-1" : $"0x{vc.NestedPiNv:x2}");
            Add("nested_run_pending", B(vc.NestedRunPending).ToString());
            Add("l2_if", vc.GuestMode ? B(vc.L2If).ToString() : "-");
            Add("vmcs02.irq_window", vc.GuestMode ? B((vc.Vmcs02.Primary & PrimaryControls.InterruptWindowExiting) != 0).ToString() : "-");
        });
    }

    public IReadOnlyList<string> Diff(in KvmState before, in KvmState after) => KvmReport.Diff(Fields(before), Fields(after));
}
