using NestedApic.Checking;
using NestedApic.Hardware.Vmx;

namespace NestedApic.Hypervisor.Vmx;

/// <summary>
/// The KVM-on-Intel model the checker explores: which events are enabled in a state, and what
/// each does. Guards follow KVM's locking (vCPU ioctls need the vCPU in userspace) and the
/// hardware (guest events need the level to be running).
/// </summary>
public readonly partial struct VmxModel : IKvmModel
{
    readonly KvmConfig _c;
    readonly KvmState _initial;
    /// <summary>Which vmcs12s pass KVM's nested checks: a constant of the configuration.</summary>
    readonly bool[] _vmcs12Valid;

    public VmxModel(KvmConfig config, in KvmState initial)
    {
        _c = config;
        _initial = initial;
        _vmcs12Valid = config.Vmcs12s.Select(v => Nested.CheckControls(v) == VmEntryRule.None).ToArray();
    }

    public KvmConfig Config => _c;
    public KvmState Initial() => _initial;
    /// <summary>Per vCPU at most: a notification, then either the userspace ioctls (4 + vmcs12s + vectors) or
    /// the guest's events (vmcs12s, 5 APIC accesses, IPIs to each vCPU and vector, STI, delivery).</summary>
    public int MaxSteps => _c.Vcpus * (13 + 2 * _c.Vmcs12s.Count + (2 * _c.Vcpus + 1) * _c.Vectors.Count);
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
            if (vc.NotificationInFlight) steps[n++] = new(EventKind.Notification, Actor.L0, v);
            if (vc.NestedNotificationInFlight) steps[n++] = new(EventKind.NestedNotification, Actor.L0, v);
            switch (vc.Phase)
            {
                case VcpuPhase.Userspace: n = KvmCommon.UserspaceSteps(s, _c, v, _vmcs12Valid, steps, n); break;
                case VcpuPhase.InKernel: n = KvmCommon.KernelSteps(s, _c, v, steps, n); break;
                case VcpuPhase.InGuest:
                    n = vc.GuestMode ? L2Steps(s, v, steps, n) : L1Steps(s, v, steps, n);
                    break;
            }
        }
        return n;
    }

    int L1Steps(in KvmState s, int v, Span<KvmStep> steps, int n)
    {
        ref readonly var vc = ref s.Vcpus[v];
        n = KvmCommon.NestedEntrySteps(s, _c, v, steps, n);
        n = KvmCommon.ApicSteps(s, _c, v, Actor.L1, steps, n);
        n = KvmCommon.IpiSteps(s, _c, v, steps, n);
        if (Allowed(s, EventKind.PostToL2))
            for (int t = 0; t < _c.Vcpus; t++)
                if (s.Vcpus[t].Life == VcpuLife.Visible && _c.Vmcs12s[s.Vcpus[t].Vmcs12].PostedInterrupts)
                    for (int i = 0; i < _c.Vectors.Count; i++) steps[n++] = new(EventKind.PostToL2, Actor.L1, v, t, _c.Vectors[i]);
        n = KvmCommon.StiStep(s, _c, v, steps, n);
        if (Hw.CanDeliverVirtualInterrupt(vc)) steps[n++] = new(EventKind.VirtualInterrupt, Actor.L0, v);
        return n;
    }

    int L2Steps(in KvmState s, int v, Span<KvmStep> steps, int n)
    {
        if (Allowed(s, EventKind.Vmcall)) steps[n++] = new(EventKind.Vmcall, Actor.L2, v);
        if (Hw.CanDeliverL2VirtualInterrupt(s.Vcpus[v])) steps[n++] = new(EventKind.L2VirtualInterrupt, Actor.L0, v);
        var v12 = _c.Vmcs12s[s.Vcpus[v].Vmcs12];
        if (v12.ApicPassthrough) n = KvmCommon.ApicSteps(s, _c, v, Actor.L2, steps, n, eoi: !v12.Vid);
        return n;
    }
}
