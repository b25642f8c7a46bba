using NestedApic.Hardware.Svm;

namespace NestedApic.Hypervisor.Svm;

public readonly partial struct SvmModel
{
    public string Label(in KvmStep step)
    {
        var c = _c;
        return KvmReport.Label(c, step, i => c.Vmcb12s[i].Name);
    }

    /// <summary>int_ctl's AVIC bits and V_INTR_MASKING.</summary>
    static string IntCtlFields(uint intCtl) =>
        $"AVIC={B((intCtl & IntCtl.AvicEnable) != 0)} X2AVIC={B((intCtl & IntCtl.X2AvicEnable) != 0)} V_INTR_MASKING={B((intCtl & IntCtl.VIntrMasking) != 0)}";

    static string NestedCtlFields(ushort ctl) =>
        $"NP_ENABLE={B((ctl & (ushort)NestedCtl.NpEnable) != 0)} PML_ENABLE={B((ctl & (ushort)NestedCtl.PmlEnable) != 0)}";

    static string IrteName(IrteBits b) =>
        (b & IrteBits.GuestMode) == 0 ? "legacy" : $"GA IsRun={B((b & IrteBits.IsRun) != 0)} GALogIntr={B((b & IrteBits.GaLogIntr) != 0)}";

    /// <summary>The state as named fields, for traces and diffs (off the hot path).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Fields(in KvmState s)
    {
        var c = _c;
        return KvmReport.Fields(c, s, (in VcpuState vc, Action<string, string> Add) =>
        {
            KvmReport.CommonFields(vc, Add, vc.GuestMode ? $"L2 (vmcb12 {c.Vmcb12s[vc.Svm.Vmcb12].Name})" : "L1");
            Add("current_vmcb", vc.Svm.Vmcb02Current ? "vmcb02" : "vmcb01");
            KvmReport.LapicFields(vc, Add);
            Add("irr_pending", B(!vc.Svm.IrrNotPending).ToString());
            Add("blocking", B(vc.Svm.Blocking).ToString());
            Add("wake_pending", B(vc.Svm.WakePending).ToString());
            Add("avic_recognized", B(vc.Svm.Recognized).ToString());
            Add("physical_id_entry", vc.Svm.Entry.ToString());
            Add("irte", IrteName(vc.Svm.Irte));
            Add("vmcb01", IntCtlFields(vc.Svm.Vmcb01IntCtl));
            Add("vmcb02", vc.GuestMode ? IntCtlFields(vc.Svm.Vmcb02IntCtl) : "-");
            Add("refresh_pending", B(vc.Svm.RefreshPending).ToString());
            if (c.Policy.SvmPml != SvmPml.None)
            {
                Add("vmcb01.nested_ctl", NestedCtlFields(vc.Svm.Vmcb01NestedCtl));
                Add("vmcb02.nested_ctl", NestedCtlFields(vc.Svm.Vmcb02NestedCtl)); // kept after the exit: where a late write landed
                Add("dirty_logging_pending", B((vc.Deferred & DeferredUpdate.CpuDirtyLogging) != 0).ToString());
            }
            if (c.TracksCpuid) Add("cpuid", vc.Cpuid.ToString().ToLowerInvariant());
            Add("incomplete_ipi", vc.Svm.HasIncompleteIpi
                ? $"{(IncompleteIpiCause)(vc.Svm.IncompleteIpiCause - 1)} vcpu{vc.Svm.IncompleteIpiDest} 0x{vc.Svm.IncompleteIpiVector:x2}" : "-");
            Add("faults", Faults(vc));
        });
    }

    static string Faults(in VcpuState vc)
    {
        var parts = new List<string>();
        if (vc.Faults != 0) parts.Add(vc.Faults.ToString());
        if (vc.Svm.Faults != 0) parts.Add(vc.Svm.Faults.ToString());
        return parts.Count == 0 ? "-" : string.Join(", ", parts);
    }

    public IReadOnlyList<string> Diff(in KvmState before, in KvmState after) => KvmReport.Diff(Fields(before), Fields(after));
}
