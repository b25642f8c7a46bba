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
    /// <summary>Whether the vCPUs are interchangeable (KvmSymmetry): a constant of the configuration.</summary>
    readonly bool _symmetric;
    /// <summary>The checked properties in diagnosis order, and those of them no fault flag decides.</summary>
    readonly Property[] _checks, _checksWithoutFaults;

    public VmxModel(KvmConfig config, in KvmState initial)
    {
        _checks = Checks(config);
        _checksWithoutFaults = [.. _checks.Where(p => FaultOf(p) == 0)];
        _c = config;
        _initial = initial;
        _vmcs12Valid = config.Vmcs12s.Select(v => Nested.CheckControls(v) == VmEntryRule.None).ToArray();
        _symmetric = KvmSymmetry.Applies(config);
    }

    public KvmConfig Config => _c;
    public KvmState Initial() => _initial;
    /// <summary>Two VM-wide events, then per vCPU at most: notifications, then either the userspace
    /// ioctls (4 + vmcs12s + vectors), the run loop (3), or the guest's events (vmcs12s, APIC
    /// accesses, CR8 values, INIT and IPIs to each vCPU and vector, STI, memory, delivery).</summary>
    public int MaxSteps => 2 + _c.Vcpus * (20 + _c.LapicStates.Count + _c.Vcpus + 2 * _c.Cr8Values.Count + 2 * _c.Vmcs12s.Count + (2 * _c.Vcpus + 1) * _c.Vectors.Count);
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
                case VcpuPhase.InKernel:
                    n = KvmCommon.KernelSteps(s, _c, v, steps, n);
                    if (vc.Requests == 0 && vc.Injected != 0 && !vc.Vmcs02Loaded && Allowed(s, EventKind.VectoringExit))
                        steps[n++] = new(EventKind.VectoringExit, Actor.L0, v);
                    break;
                case VcpuPhase.InGuest:
                    n = vc.GuestMode ? L2Steps(s, v, steps, n) : L1Steps(s, v, steps, n);
                    break;
            }
        }
        // VM-wide events (ioctls on the VM fd, the MMU notifier), drawn in vCPU 0's lane. They need
        // no vCPU: before the first KVM_CREATE_VCPU, or between its two halves, they reach only
        // the vCPUs already in kvm->vcpus, and a vCPU created later reads the VM's state.
        if (Allowed(s, EventKind.DirtyLogging)) steps[n++] = new(EventKind.DirtyLogging, Actor.Userspace, 0, s.DirtyLogging ? 0 : 1);
        if (Allowed(s, EventKind.ApicPageMigrate)) steps[n++] = new(EventKind.ApicPageMigrate, Actor.L0, 0);
        return n;
    }

    int L1Steps(in KvmState s, int v, Span<KvmStep> steps, int n)
    {
        ref readonly var vc = ref s.Vcpus[v];
        if (!vc.L1VmxOff) n = KvmCommon.NestedEntrySteps(s, _c, v, steps, n);
        if (Allowed(s, EventKind.VmxOperation)) steps[n++] = new(EventKind.VmxOperation, Actor.L1, v, vc.L1VmxOff ? 0 : 1);
        n = KvmCommon.ApicSteps(s, _c, v, Actor.L1, steps, n);
        n = KvmCommon.IpiSteps(s, _c, v, steps, n);
        if (Allowed(s, EventKind.PostToL2) && _c.Vmcs12s.Count > 0)
            for (int t = 0; t < _c.Vcpus; t++)
                if (s.Vcpus[t].Life == VcpuLife.Visible && _c.Vmcs12s[s.Vcpus[t].Vmcs12].PostedInterrupts)
                    for (int i = 0; i < _c.Vectors.Count; i++) steps[n++] = new(EventKind.PostToL2, Actor.L1, v, t, _c.Vectors[i]);
        if (Allowed(s, EventKind.InitSignal) && vc.ApicMode != ApicMode.Disabled)
            for (int t = 0; t < _c.Vcpus; t++)
                if (t != v && s.Vcpus[t].Life == VcpuLife.Visible) steps[n++] = new(EventKind.InitSignal, Actor.L1, v, t);
        n = Cr8Steps(s, v, Actor.L1, steps, n);
        if (Allowed(s, EventKind.ApicMmioAccess)) steps[n++] = new(EventKind.ApicMmioAccess, Actor.L1, v);
        if (Allowed(s, EventKind.GuestWrite)) steps[n++] = new(EventKind.GuestWrite, Actor.L1, v);
        n = KvmCommon.StiStep(s, _c, v, steps, n);
        if (Hw.CanDeliverVirtualInterrupt(vc)) steps[n++] = new(EventKind.VirtualInterrupt, Actor.L0, v);
        return n;
    }

    int L2Steps(in KvmState s, int v, Span<KvmStep> steps, int n)
    {
        if (Allowed(s, EventKind.Vmcall)) steps[n++] = new(EventKind.Vmcall, Actor.L2, v);
        if (Allowed(s, EventKind.Sti) && !s.Vcpus[v].L2If) steps[n++] = new(EventKind.Sti, Actor.L2, v);
        if (Hw.CanDeliverL2VirtualInterrupt(s.Vcpus[v])) steps[n++] = new(EventKind.L2VirtualInterrupt, Actor.L0, v);
        var v12 = _c.Vmcs12s[s.Vcpus[v].Vmcs12];
        if (v12.ApicPassthrough) n = KvmCommon.ApicSteps(s, _c, v, Actor.L2, steps, n, eoi: !v12.Vid);
        // With TPR shadow in vmcs12, L2's CR8 is its own virtual TPR (not modelled).
        if ((v12.Primary & PrimaryControls.UseTprShadow) == 0) n = Cr8Steps(s, v, Actor.L2, steps, n);
        return n;
    }

    int Cr8Steps(in KvmState s, int v, Actor who, Span<KvmStep> steps, int n)
    {
        if (!Allowed(s, EventKind.Cr8Write)) return n;
        int current = s.Vcpus[v].Apic.Tpr >> 4;
        foreach (byte cls in _c.Cr8Values)
            if (cls != current) steps[n++] = new(EventKind.Cr8Write, who, v, cls);
        return n;
    }
}
