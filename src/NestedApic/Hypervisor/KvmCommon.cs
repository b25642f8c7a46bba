namespace NestedApic.Hypervisor;

/// <summary>
/// The events both vendors' models share: the vCPU life cycle, the userspace ioctls, the run loop's
/// requests, L1's accesses to its local APIC and the labels and fields of traces. Vendor work goes
/// through <see cref="Vendor"/> inside the X86 functions these call.
/// </summary>
public static class KvmCommon
{
    public static bool Allowed(in KvmState s, KvmConfig c, EventKind k) =>
        !k.IsBounded() || k == EventKind.PublishVcpu || s.Used[(int)k] < c.Budget[(int)k];

    /// <summary>Creation and publication; true when the vCPU has nothing else enabled yet.</summary>
    public static bool LifecycleSteps(in KvmState s, KvmConfig c, int v, Span<KvmStep> steps, ref int n)
    {
        switch (s.Vcpus[v].Life)
        {
            case VcpuLife.Absent:
                if ((v == 0 || s.Vcpus[v - 1].Life != VcpuLife.Absent) && Allowed(s, c, EventKind.CreateVcpu))
                    steps[n++] = new(EventKind.CreateVcpu, Actor.Userspace, v);
                return true;
            case VcpuLife.Initialised:
                steps[n++] = new(EventKind.PublishVcpu, Actor.Userspace, v);
                return true;
        }
        return false;
    }

    /// <summary>The vCPU ioctls: KVM_RUN, KVM_SET_NESTED_STATE (with each nested configuration
    /// that passes KVM's checks), KVM_SET_GUEST_DEBUG, the SynIC MSR, KVM_SET_LAPIC.</summary>
    public static int UserspaceSteps(in KvmState s, KvmConfig c, int v, ReadOnlySpan<bool> nestedValid, Span<KvmStep> steps, int n)
    {
        ref readonly var vc = ref s.Vcpus[v];
        if (Allowed(s, c, EventKind.KvmRun) && KvmCpuid.MayRun(vc, c)) steps[n++] = new(EventKind.KvmRun, Actor.Userspace, v);
        if (Allowed(s, c, EventKind.SetCpuid) && KvmCpuid.CanSetCpuid(vc)) steps[n++] = new(EventKind.SetCpuid, Actor.Userspace, v);
        if (Allowed(s, c, EventKind.SetNestedState))
            for (int i = 0; i < nestedValid.Length; i++)
                if (nestedValid[i]) steps[n++] = new(EventKind.SetNestedState, Actor.Userspace, v, i);
        if (Allowed(s, c, EventKind.GuestDebugBlockIrq)) steps[n++] = new(EventKind.GuestDebugBlockIrq, Actor.Userspace, v, vc.BlockIrq ? 0 : 1);
        if (Allowed(s, c, EventKind.SynicAutoEoi)) steps[n++] = new(EventKind.SynicAutoEoi, Actor.Userspace, v, vc.AutoEoi ? 0 : 1);
        if (Allowed(s, c, EventKind.SetLapic))
        {
            steps[n++] = new(EventKind.SetLapic, Actor.Userspace, v, 0);
            for (int i = 0; i < c.Vectors.Count; i++) steps[n++] = new(EventKind.SetLapic, Actor.Userspace, v, c.Vectors[i]);
            for (int i = 0; i < c.LapicStates.Count; i++) steps[n++] = new(EventKind.SetLapic, Actor.Userspace, v, 0, i + 1);
        }
        return n;
    }

    /// <summary>KVM's run loop: the first pending request, else the VM entry; userspace may
    /// interrupt it (a signal).</summary>
    public static int KernelSteps(in KvmState s, KvmConfig c, int v, Span<KvmStep> steps, int n)
    {
        ref readonly var vc = ref s.Vcpus[v];
        if (vc.Requests != 0)
            steps[n++] = new(EventKind.ServiceRequest, Actor.L0, v, System.Numerics.BitOperations.TrailingZeroCount((int)vc.Requests));
        else steps[n++] = new(EventKind.VmEnter, Actor.L0, v);
        if (Allowed(s, c, EventKind.ExitToUserspace)) steps[n++] = new(EventKind.ExitToUserspace, Actor.Userspace, v);
        return n;
    }

    /// <summary>L1's VMLAUNCH/VMRESUME (Intel) or VMRUN (AMD) with each nested configuration.</summary>
    public static int NestedEntrySteps(in KvmState s, KvmConfig c, int v, Span<KvmStep> steps, int n)
    {
        if (Allowed(s, c, EventKind.VmLaunch))
            for (int i = 0; i < c.NestedConfigs; i++) steps[n++] = new(EventKind.VmLaunch, Actor.L1, v, i);
        return n;
    }

    /// <summary>Fixed IPIs through the ICR to every visible vCPU with every vector.</summary>
    public static int IpiSteps(in KvmState s, KvmConfig c, int v, Span<KvmStep> steps, int n)
    {
        if (Allowed(s, c, EventKind.SendIpi) && s.Vcpus[v].ApicMode != ApicMode.Disabled)
            for (int t = 0; t < c.Vcpus; t++)
                if (s.Vcpus[t].Life == VcpuLife.Visible)
                    for (int i = 0; i < c.Vectors.Count; i++) steps[n++] = new(EventKind.SendIpi, Actor.L1, v, t, c.Vectors[i]);
        return n;
    }

    public static int StiStep(in KvmState s, KvmConfig c, int v, Span<KvmStep> steps, int n)
    {
        if (Allowed(s, c, EventKind.Sti) && !s.Vcpus[v].L1If) steps[n++] = new(EventKind.Sti, Actor.L1, v);
        return n;
    }

    /// <summary>Accesses to L1's local APIC: by L1, or by L2 when L1 passes its APIC through.</summary>
    public static int ApicSteps(in KvmState s, KvmConfig c, int v, Actor who, Span<KvmStep> steps, int n, bool eoi = true)
    {
        ref readonly var vc = ref s.Vcpus[v];
        if (Allowed(s, c, EventKind.ApicIdWrite) && vc.ApicMode == ApicMode.XApic)
            steps[n++] = new(EventKind.ApicIdWrite, who, v, vc.ApicIdModified ? 0 : 1);
        if (Allowed(s, c, EventKind.ApicModeSwitch))
            foreach (var m in LegalModeSwitches(vc.ApicMode)) steps[n++] = new(EventKind.ApicModeSwitch, who, v, (int)m);
        if (eoi && Allowed(s, c, EventKind.Eoi) && !vc.Apic.Isr.IsEmpty) steps[n++] = new(EventKind.Eoi, who, v);
        return n;
    }

    /// <summary>The IA32_APIC_BASE writes KVM accepts from a guest: x2APIC to xAPIC only through
    /// disabled (SDM 10.12.5), and, unlike a host-initiated write, not disabled straight to x2APIC
    /// (kvm_set_apic_base / kvm_apic_set_base: "old_mode == LAPIC_MODE_DISABLED &amp;&amp;
    /// new_mode == LAPIC_MODE_X2APIC" fails the WRMSR, 5.17 through 7.x).</summary>
    static ApicMode[] LegalModeSwitches(ApicMode m) => m switch
    {
        ApicMode.Disabled => FromDisabled,
        ApicMode.XApic => FromXApic,
        _ => FromX2Apic,
    };

    static readonly ApicMode[] FromDisabled = [ApicMode.XApic];
    static readonly ApicMode[] FromXApic = [ApicMode.X2Apic, ApicMode.Disabled];
    static readonly ApicMode[] FromX2Apic = [ApicMode.Disabled];

    /// <summary>Counts a bounded event against its budget, then applies it if its handling is the
    /// same on both vendors; false for the rest, which the vendor's model applies.</summary>
    public static bool Apply(ref KvmState s, KvmConfig c, in KvmStep step)
    {
        if (step.Kind.IsBounded()) s.Used[(int)step.Kind]++;
        int v = step.Vcpu;
        ref var vc = ref s.Vcpus[v];
        switch (step.Kind)
        {
            case EventKind.CreateVcpu: CreateVcpu(ref s, c, v); return true;
            case EventKind.PublishVcpu: vc.Life = VcpuLife.Visible; return true;
            case EventKind.GuestDebugBlockIrq:
                vc.BlockIrq = step.Arg != 0;
                X86.UpdateBlockIrqInhibit(ref s, c);
                return true;
            case EventKind.SynicAutoEoi:
                vc.AutoEoi = step.Arg != 0;
                X86.UpdateHyperVInhibit(ref s, c);
                return true;
            case EventKind.SetLapic:
                if (step.Arg2 != 0) X86.RestoreLapic(ref s, c, v, c.LapicStates[step.Arg2 - 1]);
                else X86.SetLapicState(ref s, c, v, step.Arg);
                return true;
            case EventKind.ApicIdWrite:
                vc.Phase = VcpuPhase.InKernel;
                vc.ApicIdModified = step.Arg != 0;
                X86.RecalculateApicMap(ref s, c);
                return true;
            case EventKind.ApicModeSwitch:
                vc.Phase = VcpuPhase.InKernel;
                X86.SetApicMode(ref s, c, v, (ApicMode)step.Arg);
                return true;
            case EventKind.Eoi: Eoi(ref s, c, v, step.Actor); return true;
            case EventKind.Sti when step.Actor == Actor.L2: return false; // the vendor's L2
            case EventKind.Sti:
                vc.L1If = true;
                // KVM armed an interrupt window (VMX interrupt-window exiting, SVM V_IRQ+VINTR) if it
                // holds an interrupt it must inject.
                if (!vc.ApicvActive && X86.HasInjectableInterrupt(s, v))
                {
                    vc.Phase = VcpuPhase.InKernel;
                    vc.Requests |= KvmRequest.Event;
                }
                return true;
            case EventKind.ServiceRequest: ServiceRequest(ref s, c, v, (KvmRequest)(1 << step.Arg)); return true;
            case EventKind.SetCpuid: KvmCpuid.SetCpuid(ref s, c, v); return true;
            case EventKind.KvmRun: KvmCpuid.OnKvmRun(ref vc, c); return false; // the vendor's KVM_RUN follows
        }
        return false;
    }

    /// <summary>mirrors kvm_arch_vcpu_create: before 423ecfea77dd apicv_active is read from the VM
    /// once; after it, it starts true with KVM_REQ_APICV_UPDATE pending. Then the vendor's
    /// vcpu_create and kvm_vcpu_reset(vcpu, false), whose kvm_lapic_reset is the APIC's RESET.</summary>
    static void CreateVcpu(ref KvmState s, KvmConfig c, int v)
    {
        ref var vc = ref s.Vcpus[v];
        vc.Life = VcpuLife.Initialised;
        vc.Phase = VcpuPhase.Userspace;
        vc.ApicMode = ApicMode.XApic;
        if (c.EnableApicv)
        {
            if (c.Policy.CreateVcpuPendsRequest)
            {
                vc.ApicvActive = true;
                vc.Requests |= KvmRequest.ApicvUpdate;
            }
            else vc.ApicvActive = X86.ApicvActivated(s, c);
        }
        Vendor.VcpuCreate(ref s, c, v);
        X86.LapicReset(ref s, c, v, initEvent: false); // kvm_vcpu_reset(vcpu, false): RESET
        KvmDirtyLogging.VcpuCreate(ref s, c, v);
    }

    /// <summary>An EOI: virtualized by the CPU when the vendor's hardware takes it (VMX EOI
    /// virtualization, AVIC's accelerated edge EOI), else an exit KVM emulates.</summary>
    static void Eoi(ref KvmState s, KvmConfig c, int v, Actor who)
    {
        ref var vc = ref s.Vcpus[v];
        int completing = vc.Apic.Isr.Highest();
        if (who == Actor.L1 && Vendor.EoiAccelerated(vc, c)) Vendor.HardwareEoi(ref vc, c);
        else
        {
            vc.Phase = VcpuPhase.InKernel;
            X86.EmulateEoi(ref s, c, v);
        }
        if (completing >= 0 && vc.Apic.Isr.Test((byte)completing)) vc.Faults |= Fault.VectorStuck;
    }

    /// <summary>mirrors the request loop of vcpu_enter_guest, one request per step, in KVM's order.</summary>
    static void ServiceRequest(ref KvmState s, KvmConfig c, int v, KvmRequest r)
    {
        ref var vc = ref s.Vcpus[v];
        vc.Requests &= ~r;
        switch (r)
        {
            case KvmRequest.GetNestedStatePages: break; // nested state pages mapped: nothing else to model
            case KvmRequest.TlbFlushCurrent: Vendor.FlushTlbCurrent(ref vc, c); break;
            case KvmRequest.ApicPageReload: Vendor.SetApicAccessPageAddr(ref s, c, v); break;
            case KvmRequest.ApicvUpdate: X86.VcpuUpdateApicv(ref s, c, v); break;
            case KvmRequest.UpdateCpuDirtyLogging: Vendor.UpdateCpuDirtyLogging(ref s, c, v); break;
            case KvmRequest.Event:
                if (vc.GuestMode) Vendor.CheckNestedEvents(ref s, c, v);
                else
                {
                    // kvm_apic_accept_events: INIT is blocked in VMX root operation (vmx_apic_init_signal_blocked)
                    if (vc.InitPending && vc.L1VmxOff) X86.AcceptInitEvent(ref s, c, v);
                    X86.InjectPendingEvent(ref s, c, v);
                }
                if (vc.ApicMode != ApicMode.Disabled) X86.UpdateCr8Intercept(ref s, c, v); // kvm_lapic_enabled
                break;
        }
    }
}
