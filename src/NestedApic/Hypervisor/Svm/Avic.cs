using NestedApic.Hardware.Svm;

namespace NestedApic.Hypervisor.Svm;

/// <summary>
/// avic.c over the model state: the per-vCPU AVIC enable (vmcb01), IsRunning in the physical APIC
/// ID table and the IOMMU entries, set and cleared by load/put, blocking and APICv updates.
/// </summary>
public static class Avic
{
    /// <summary>mirrors avic_vcpu_get_apicv_inhibit_reasons (f44509f849fe): NESTED while L2 is
    /// active. 5.18 has no per-vCPU reason (NESTED is VM-wide), nor does the no-inhibit design.</summary>
    public static bool VcpuGetApicvInhibitReasons(in KvmState s, KvmConfig c, int v) =>
        c.Policy.NestedAvicInhibit == NestedAvicInhibit.PerVcpu && s.Vcpus[v].GuestMode;

    /// <summary>mirrors kvm_apic_update_apicv's irr_pending: set on activation (hardware may set
    /// IRR behind KVM's back from now on); on deactivation scanned (b26a695a1d78), left alone
    /// (755c2bf87860) or set (d3ddef46f22e).</summary>
    public static void ApicUpdateApicv(ref KvmState s, KvmConfig c, int v)
    {
        ref var vc = ref s.Vcpus[v];
        if (vc.ApicvActive || c.Policy.IrrPendingUpdate == IrrPendingUpdate.Always) vc.Svm.IrrNotPending = false;
        else if (c.Policy.IrrPendingUpdate == IrrPendingUpdate.Scan) vc.Svm.IrrNotPending = vc.Apic.Irr.IsEmpty;
    }

    /// <summary>mirrors avic_refresh_apicv_exec_ctrl, which only ever edits vmcb01. Activation
    /// is done at once (avic_activate_vmcb, then __avic_vcpu_load); deactivation is left to
    /// <see cref="CompleteDeactivation"/>, the next step of the same thread, because other CPUs and
    /// the IOMMU keep seeing AVIC on until then (the window of d3ddef46f22e's FIXME).</summary>
    public static void RefreshApicvExecCtrl(ref KvmState s, KvmConfig c, int v)
    {
        ref var vc = ref s.Vcpus[v];
        if (!vc.ApicvActive)
        {
            vc.Svm.RefreshPending = !c.Policy.AvicDeactivateSkipsVmcb01;
            return;
        }
        ActivateVmcb(ref vc, c);
        if (vc.Phase != VcpuPhase.Userspace) VcpuLoad(ref vc, v);
    }

    /// <summary>The rest of avic_refresh_apicv_exec_ctrl on deactivation: avic_deactivate_vmcb,
    /// then __avic_vcpu_put(DEACTIVATE): IRTEs to legacy remapping, IsRunning cleared.</summary>
    public static void CompleteDeactivation(ref KvmState s, KvmConfig c, int v)
    {
        ref var vc = ref s.Vcpus[v];
        vc.Svm.RefreshPending = false;
        vc.Svm.Vmcb01IntCtl &= ~(IntCtl.AvicEnable | IntCtl.X2AvicEnable);
        vc.Svm.Irte = IrteBits.None;
        SetIsRunning(ref vc, false, v);
    }

    /// <summary>mirrors avic_activate_vmcb: AVIC on in vmcb01, x2AVIC with the guest in x2APIC
    /// mode when the CPU has it.</summary>
    static void ActivateVmcb(ref VcpuState vc, KvmConfig c)
    {
        vc.Svm.Vmcb01IntCtl |= IntCtl.AvicEnable;
        if (vc.ApicMode == ApicMode.X2Apic && c.X2ApicVirtualization) vc.Svm.Vmcb01IntCtl |= IntCtl.X2AvicEnable;
        else vc.Svm.Vmcb01IntCtl &= ~IntCtl.X2AvicEnable;
        vc.Svm.Irte |= IrteBits.GuestMode; // avic_pi_update_irte keeps the entry posted while active
    }

    /// <summary>mirrors avic_refresh_virtual_apic_mode (APIC mode change): vmcb01 follows apicv_active.</summary>
    public static void RefreshVirtualApicMode(ref KvmState s, KvmConfig c, int v)
    {
        ref var vc = ref s.Vcpus[v];
        if (vc.ApicvActive) ActivateVmcb(ref vc, c);
        else vc.Svm.Vmcb01IntCtl &= ~(IntCtl.AvicEnable | IntCtl.X2AvicEnable);
    }

    /// <summary>mirrors avic_vcpu_load (svm_vcpu_load calls it only while apicv_active): a
    /// blocking vCPU keeps IsRunning clear; otherwise IsRunning with this pCPU's APIC ID, and the
    /// posted IRTEs follow (IsRun, Destination, no GA log).</summary>
    public static void VcpuLoad(ref VcpuState vc, int v)
    {
        if (!vc.ApicvActive || vc.Svm.Blocking) return;
        SetIsRunning(ref vc, true, v);
        if ((vc.Svm.Irte & IrteBits.GuestMode) != 0) vc.Svm.Irte = IrteBits.GuestMode | IrteBits.IsRun;
    }

    /// <summary>mirrors avic_vcpu_put (svm_vcpu_put, only while apicv_active): IsRunning
    /// cleared; IRTEs not running, with GA-log wakeups only for a blocking vCPU.</summary>
    public static void VcpuPut(ref VcpuState vc, int v)
    {
        if (!vc.ApicvActive) return;
        SetIsRunning(ref vc, false, v);
        if ((vc.Svm.Irte & IrteBits.GuestMode) != 0)
            vc.Svm.Irte = IrteBits.GuestMode | (vc.Svm.Blocking ? IrteBits.GaLogIntr : IrteBits.None);
    }

    /// <summary>mirrors avic_vcpu_blocking: __avic_vcpu_put(START_BLOCKING), GA-log wakeups on.
    /// The caller re-reads IRR afterwards (kvm_vcpu_check_block), the Dekker pair of I13.</summary>
    public static void VcpuBlocking(ref VcpuState vc, int v)
    {
        vc.Svm.Blocking = true;
        VcpuPut(ref vc, v);
    }

    /// <summary>mirrors avic_vcpu_unblocking: avic_vcpu_load again.</summary>
    public static void VcpuUnblocking(ref VcpuState vc, int v)
    {
        vc.Svm.Blocking = false;
        VcpuLoad(ref vc, v);
    }

    /// <summary>The physical APIC ID entry's IsRunning and host APIC ID (pCPU v has APIC ID v).</summary>
    static void SetIsRunning(ref VcpuState vc, bool running, int v)
    {
        var e = vc.Svm.Entry;
        e.IsRunning = running;
        if (running) e.HostApicId = (ushort)v;
        vc.Svm.PhysicalIdEntry = e.Value;
    }

    /// <summary>mirrors avic_init_backing_page: the entry is valid from vCPU creation and points at
    /// KVM's APIC page, which is the backing page.</summary>
    public static AvicPhysicalIdEntry InitialEntry(int v) =>
        new(valid: true, isRunning: false, AvicMachine.PageAddress(v), 0);
}
