using NestedApic.Hardware.Svm;

namespace NestedApic.Hypervisor.Svm;

/// <summary>
/// The KVM-on-AMD model the checker explores: KVM's common code with kvm_amd (AVIC, nested SVM)
/// and the AVIC hardware. Guards as on Intel: vCPU ioctls need the vCPU in userspace, guest events
/// need the level running, KVM's own steps follow from the state.
/// </summary>
public readonly partial struct SvmModel : IKvmModel
{
    readonly KvmConfig _c;
    readonly KvmState _initial;
    /// <summary>Which vmcb12s pass KVM's nested checks: a constant of the configuration.</summary>
    readonly bool[] _vmcb12Valid;
    /// <summary>Whether the vCPUs are interchangeable (KvmSymmetry): a constant of the configuration.</summary>
    readonly bool _symmetric;

    public SvmModel(KvmConfig config, in KvmState initial)
    {
        _c = config;
        _initial = initial;
        _vmcb12Valid = config.Vmcb12s.Select(v => SvmNested.CheckControls(v) == VmrunRule.None).ToArray();
        _symmetric = KvmSymmetry.Applies(config);
    }

    public KvmConfig Config => _c;
    public KvmState Initial() => _initial;
    /// <summary>Per vCPU at most: the userspace ioctls (4 + vmcb12s + vectors) or the guest's
    /// events (vmcb12s, 4 APIC accesses, IPIs, STI, HLT, delivery), plus device interrupts.</summary>
    public int MaxSteps => 1 + _c.Vcpus * (16 + _c.LapicStates.Count + 2 * _c.Vmcb12s.Count + (_c.Vcpus + 2) * _c.Vectors.Count);
    public IReadOnlyList<string> Invariants => Properties.Ids;
    public bool IsFinal(in KvmState state) => true;

    bool Allowed(in KvmState s, EventKind k) => KvmCommon.Allowed(s, _c, k);

    public int Enabled(in KvmState s, Span<KvmStep> steps)
    {
        int n = 0;
        for (int v = 0; v < _c.Vcpus; v++)
        {
            if (KvmCommon.LifecycleSteps(s, _c, v, steps, ref n)) continue;
            ref readonly var vc = ref s.Vcpus[v];
            if (vc.Life == VcpuLife.Visible && Allowed(s, EventKind.DeviceIrq))
                for (int i = 0; i < _c.Vectors.Count; i++) steps[n++] = new(EventKind.DeviceIrq, Actor.L0, v, 0, _c.Vectors[i]);
            switch (vc.Phase)
            {
                case VcpuPhase.Userspace: n = KvmCommon.UserspaceSteps(s, _c, v, _vmcb12Valid, steps, n); break;
                case VcpuPhase.InKernel: n = KernelSteps(s, v, steps, n); break;
                case VcpuPhase.InGuest: n = vc.GuestMode ? L2Steps(s, v, steps, n) : L1Steps(s, v, steps, n); break;
            }
        }
        // VM-wide: KVM_SET_USER_MEMORY_REGION toggling dirty logging, drawn in vCPU 0's lane.
        if (s.Vcpus[0].Life != VcpuLife.Absent && Allowed(s, EventKind.DirtyLogging))
            steps[n++] = new(EventKind.DirtyLogging, Actor.Userspace, 0, s.DirtyLogging ? 0 : 1);
        return n;
    }

    /// <summary>KVM's thread: an exit or an update it is in the middle of comes first; a blocked
    /// vCPU only wakes up.</summary>
    int KernelSteps(in KvmState s, int v, Span<KvmStep> steps, int n)
    {
        ref readonly var vc = ref s.Vcpus[v];
        if (vc.Svm.HasIncompleteIpi) steps[n++] = new(EventKind.AvicIncompleteIpi, Actor.L0, v);
        else if (vc.Svm.RefreshPending) steps[n++] = new(EventKind.ApicvRefresh, Actor.L0, v);
        else if (vc.Svm.Blocking)
        {
            if (vc.Svm.WakePending || (vc.Requests & KvmRequest.Event) != 0) steps[n++] = new(EventKind.Unblock, Actor.L0, v);
        }
        else n = KvmCommon.KernelSteps(s, _c, v, steps, n);
        return n;
    }

    int L1Steps(in KvmState s, int v, Span<KvmStep> steps, int n)
    {
        ref readonly var vc = ref s.Vcpus[v];
        n = KvmCommon.NestedEntrySteps(s, _c, v, steps, n);
        n = KvmCommon.ApicSteps(s, _c, v, Actor.L1, steps, n);
        n = KvmCommon.IpiSteps(s, _c, v, steps, n);
        n = KvmCommon.StiStep(s, _c, v, steps, n);
        if (Allowed(s, EventKind.Hlt) && vc.L1If) steps[n++] = new(EventKind.Hlt, Actor.L1, v);
        if (Allowed(s, EventKind.GuestWrite)) steps[n++] = new(EventKind.GuestWrite, Actor.L1, v);
        if (SvmHw.CanDeliver(vc)) steps[n++] = new(EventKind.VirtualInterrupt, Actor.L0, v);
        return n;
    }

    int L2Steps(in KvmState s, int v, Span<KvmStep> steps, int n)
    {
        if (Allowed(s, EventKind.Vmcall)) steps[n++] = new(EventKind.Vmcall, Actor.L2, v);
        return n;
    }
}
