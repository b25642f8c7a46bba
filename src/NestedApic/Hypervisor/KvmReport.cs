using NestedApic.Hardware.Apic;

namespace NestedApic.Hypervisor;

/// <summary>Trace labels, state fields and diffs both vendors' models share.</summary>
public static class KvmReport
{
    /// <summary>A step as its trace label: "vcpuN/LANE: event args".</summary>
    public static string Label(KvmConfig c, in KvmStep step, Func<int, string> nestedName)
    {
        string lane = step.Actor switch
        {
            Actor.Userspace => $"vcpu{step.Vcpu}/user",
            Actor.L1 => $"vcpu{step.Vcpu}/L1",
            Actor.L2 => $"vcpu{step.Vcpu}/L2",
            _ => $"vcpu{step.Vcpu}/L0",
        };
        string name = step.Kind.Name(c.Vendor);
        string args = step.Kind switch
        {
            EventKind.SetNestedState or EventKind.VmLaunch => nestedName(step.Arg),
            EventKind.GuestDebugBlockIrq or EventKind.SynicAutoEoi => step.Arg != 0 ? "on" : "off",
            EventKind.ApicIdWrite => step.Arg != 0 ? "modified" : "restored",
            EventKind.ApicModeSwitch => ModeName((ApicMode)step.Arg),
            EventKind.SendIpi or EventKind.PostToL2 => $"vcpu{step.Arg} 0x{step.Arg2:x2}",
            EventKind.DeviceIrq => $"0x{step.Arg2:x2}",
            EventKind.SetLapic => step.Arg2 != 0 ? c.LapicStates[step.Arg2 - 1].Name : step.Arg == 0 ? "isr=none" : $"isr=0x{step.Arg:x2}",
            EventKind.ServiceRequest => RequestName((KvmRequest)(1 << step.Arg)),
            EventKind.Cr8Write => $"0x{step.Arg:x}",
            EventKind.InitSignal => $"vcpu{step.Arg}",
            EventKind.DirtyLogging => step.Arg != 0 ? "on" : "off",
            EventKind.VmxOperation => step.Arg != 0 ? "off" : "on",
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

    public static string Requests(KvmRequest r)
    {
        if (r == 0) return "-";
        var names = new List<string>();
        for (int b = 0; b < 16; b++)
            if (((int)r & (1 << b)) != 0) names.Add(RequestName((KvmRequest)(1 << b)));
        return string.Join(",", names);
    }

    public static string Vectors(in VectorSet set)
    {
        if (set.IsEmpty) return "-";
        var names = new List<string>();
        for (int b = 255; b >= 0; b--)
            if (set.Test((byte)b)) names.Add($"0x{b:x2}");
        return string.Join(",", names);
    }

    public static int B(bool b) => b ? 1 : 0;

    /// <summary>The state as named fields ("inhibits", then "vcpuN.name" per created vCPU, the
    /// vendor's <paramref name="vcpuFields"/> after "life"), for traces, diffs and expects.</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> Fields(KvmConfig c, in KvmState s, VcpuFieldsWriter vcpuFields)
    {
        var f = new List<KeyValuePair<string, string>> { new("inhibits", ApicvInhibits.Describe(X86.InhibitReasons(s, c))) };
        if (c.Vendor == CpuVendor.Intel)
        {
            f.Add(new("apic_access_page", $"page{s.ApicAccessPage}"));
            f.Add(new("dirty_logging", s.DirtyLogging ? "1" : "0"));
        }
        for (int v = 0; v < c.Vcpus; v++)
        {
            string p = $"vcpu{v}.";
            void Add(string k, string val) => f.Add(new(p + k, val));
            Add("life", s.Vcpus[v].Life.ToString());
            if (s.Vcpus[v].Life != VcpuLife.Absent) vcpuFields(s.Vcpus[v], Add);
        }
        return f;
    }

    public delegate void VcpuFieldsWriter(in VcpuState vc, Action<string, string> add);

    /// <summary>The fields of KVM's common per-vCPU state, in trace order, up to the level.</summary>
    public static void CommonFields(in VcpuState vc, Action<string, string> add, string level)
    {
        add("phase", vc.Phase.ToString());
        add("level", level);
    }

    /// <summary>The common fields after the vendor's VMCS/VMCB identity: requests to ISR.</summary>
    public static void LapicFields(in VcpuState vc, Action<string, string> add)
    {
        add("requests", Requests(vc.Requests));
        add("apicv_active", B(vc.ApicvActive).ToString());
        add("blockirq", B(vc.BlockIrq).ToString());
        add("autoeoi", B(vc.AutoEoi).ToString());
        add("apic_mode", ModeName(vc.ApicMode));
        add("apic_id_modified", B(vc.ApicIdModified).ToString());
        add("l1.if", B(vc.L1If).ToString());
        add("irr", Vectors(vc.Apic.Irr));
        add("isr", Vectors(vc.Apic.Isr));
    }

    /// <summary>The fields that differ between two field lists, as "name: old → new".</summary>
    public static IReadOnlyList<string> Diff(IReadOnlyList<KeyValuePair<string, string>> before, IReadOnlyList<KeyValuePair<string, string>> after)
    {
        var a = before.ToDictionary(kv => kv.Key, kv => kv.Value);
        var changes = new List<string>();
        foreach (var (k, val) in after)
        {
            if (!a.TryGetValue(k, out var old)) changes.Add($"{k}: {val}");
            else if (old != val) changes.Add($"{k}: {old} → {val}");
        }
        return changes;
    }
}
