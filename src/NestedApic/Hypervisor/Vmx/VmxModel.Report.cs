using NestedApic.Hardware.Vmx;

namespace NestedApic.Hypervisor.Vmx;

public readonly partial struct VmxModel
{
    public string Label(in KvmStep step)
    {
        string lane = step.Actor switch
        {
            Actor.Userspace => $"vcpu{step.Vcpu}/user",
            Actor.L1 => $"vcpu{step.Vcpu}/L1",
            Actor.L2 => $"vcpu{step.Vcpu}/L2",
            _ => $"vcpu{step.Vcpu}/L0",
        };
        string name = step.Kind.Name();
        string args = step.Kind switch
        {
            EventKind.SetNestedState or EventKind.VmLaunch => _c.Vmcs12s[step.Arg].Name,
            EventKind.GuestDebugBlockIrq or EventKind.SynicAutoEoi => step.Arg != 0 ? "on" : "off",
            EventKind.ApicIdWrite => step.Arg != 0 ? "modified" : "restored",
            EventKind.ApicModeSwitch => ModeName((ApicMode)step.Arg),
            EventKind.SendIpi or EventKind.PostToL2 => $"vcpu{step.Arg} 0x{step.Arg2:x2}",
            EventKind.SetLapic => step.Arg == 0 ? "isr=none" : $"isr=0x{step.Arg:x2}",
            EventKind.ServiceRequest => RequestName((KvmRequest)(1 << step.Arg)),
            EventKind.Cr8Write => $"0x{step.Arg:x}",
            EventKind.InitSignal => $"vcpu{step.Arg}",
            EventKind.DirtyLogging => step.Arg != 0 ? "on" : "off",
            _ => "",
        };
        return args.Length == 0 ? $"{lane}: {name}" : $"{lane}: {name} {args}";
    }

    public static string ModeName(ApicMode m) => m switch
    {
        ApicMode.XApic => "xapic",
        ApicMode.X2Apic => "x2apic",
        _ => "disabled",
    };

    public static string RequestName(KvmRequest r) => r switch
    {
        KvmRequest.GetNestedStatePages => "GET_NESTED_STATE_PAGES",
        KvmRequest.TlbFlushCurrent => "TLB_FLUSH_CURRENT",
        KvmRequest.ApicPageReload => "APIC_PAGE_RELOAD",
        KvmRequest.UpdateCpuDirtyLogging => "UPDATE_CPU_DIRTY_LOGGING",
        KvmRequest.ApicvUpdate => "APICV_UPDATE",
        KvmRequest.Event => "EVENT",
        _ => r.ToString(),
    };

    static string Requests(KvmRequest r)
    {
        if (r == 0) return "-";
        var names = new List<string>();
        for (int b = 0; b < 16; b++)
            if (((int)r & (1 << b)) != 0) names.Add(RequestName((KvmRequest)(1 << b)));
        return string.Join(",", names);
    }

    static string Vectors(in NestedApic.Hardware.Apic.VectorSet set)
    {
        if (set.IsEmpty) return "-";
        var names = new List<string>();
        for (int b = 255; b >= 0; b--)
            if (set.Test((byte)b)) names.Add($"0x{b:x2}");
        return string.Join(",", names);
    }

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
        var f = new List<KeyValuePair<string, string>>
        {
            new("inhibits", ApicvInhibits.Describe(s.Inhibits)),
            new("apic_access_page", $"page{s.ApicAccessPage}"),
            new("dirty_logging", B(s.DirtyLogging).ToString()),
        };
        for (int v = 0; v < _c.Vcpus; v++)
        {
            ref readonly var vc = ref s.Vcpus[v];
            string p = $"vcpu{v}.";
            void Add(string k, string val) => f.Add(new(p + k, val));
            Add("life", vc.Life.ToString());
            if (vc.Life == VcpuLife.Absent) continue;
            Add("phase", vc.Phase.ToString());
            Add("level", vc.GuestMode ? $"L2 (vmcs12 {_c.Vmcs12s[vc.Vmcs12].Name})" : "L1");
            Add("loaded_vmcs", vc.Vmcs02Loaded ? "vmcs02" : "vmcs01");
            Add("requests", Requests(vc.Requests));
            Add("apicv_active", B(vc.ApicvActive).ToString());
            Add("blockirq", B(vc.BlockIrq).ToString());
            Add("autoeoi", B(vc.AutoEoi).ToString());
            Add("apic_mode", ModeName(vc.ApicMode));
            Add("apic_id_modified", B(vc.ApicIdModified).ToString());
            Add("l1.if", B(vc.L1If).ToString());
            Add("tpr", $"0x{vc.Apic.Tpr:x2}");
            Add("injected", vc.Injected == 0 ? "-" : $"0x{vc.Injected:x2}");
            Add("init_pending", B(vc.InitPending).ToString());
            Add("l1_tlb_apic_stale", B(vc.L1TlbApicStale).ToString());
            Add("l1_tpr_threshold", vc.L1TprThreshold.ToString());
            Add("irr", Vectors(vc.Apic.Irr));
            Add("isr", Vectors(vc.Apic.Isr));
            Add("pid", $"PIR={Vectors(vc.Pid.Pir)} ON={B(vc.Pid.On)}");
            Add("notification_in_flight", B(vc.NotificationInFlight).ToString());
            Add("nested_notification_in_flight", B(vc.NestedNotificationInFlight).ToString());
            Add("pi_pending", B(vc.PiPending).ToString());
            Add("pid12", $"PIR={Vectors(vc.Pid12.Pir)} ON={B(vc.Pid12.On)}");
            Add("l2.virr", Vectors(vc.L2Virr));
            Add("vmcs01", VmcsFields(vc.Vmcs01));
            Add("vmcs02", vc.GuestMode ? VmcsFields(vc.Vmcs02) : "-");
            Add("vmcs01.other", VmcsOtherFields(vc.Vmcs01));
            Add("vmcs02.other", vc.GuestMode ? VmcsOtherFields(vc.Vmcs02) : "-");
            Add("deferred", vc.Deferred == 0 ? "-" : vc.Deferred.ToString());
            Add("faults", vc.Faults == 0 ? "-" : vc.Faults.ToString());
        }
        return f;
    }

    public IReadOnlyList<string> Diff(in KvmState before, in KvmState after)
    {
        var a = Fields(before).ToDictionary(kv => kv.Key, kv => kv.Value);
        var changes = new List<string>();
        foreach (var (k, val) in Fields(after))
        {
            if (!a.TryGetValue(k, out var old)) changes.Add($"{k}: {val}");
            else if (old != val) changes.Add($"{k}: {old} → {val}");
        }
        return changes;
    }
}
