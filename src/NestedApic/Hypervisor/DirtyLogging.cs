using NestedApic.Hypervisor.Svm;

namespace NestedApic.Hypervisor;

/// <summary>
/// KVM's common dirty-logging code as far as PML goes: the VM-wide toggle, the design that pends
/// KVM_REQ_UPDATE_CPU_DIRTY_LOGGING at vCPU creation, and, for SVM, the common deferral that the
/// AMD PML series moves out of vmx.c (v4/v5 4/8, "KVM: x86: Move nested CPU dirty logging logic to
/// common code"). VMX keeps its own deferral ladder (VmxOps.UpdateCpuDirtyLogging).
/// </summary>
public static class KvmDirtyLogging
{
    /// <summary>Whether the series' common deferral is in the design: on SVM with svm-pml, on VMX
    /// with common-dirty-logging-deferral (else VMX's own ladder owns the deferral flag).</summary>
    public static bool CommonDeferral(KvmConfig c) =>
        c.Vendor == CpuVendor.Amd ? c.Policy.SvmPml != SvmPml.None : c.Policy.CommonDirtyLoggingDeferral;

    /// <summary>kvm->arch.cpu_dirty_log_size != 0: dirty logging clears D bits and relies on PML
    /// (VMX with enable_pml; SVM only with the PML series). Otherwise it write-protects.</summary>
    public static bool UsesPml(KvmConfig c) => c.Vendor == CpuVendor.Intel || c.Policy.SvmPml != SvmPml.None;

    /// <summary>mirrors kvm_mmu_update_cpu_dirty_logging, reached from KVM_SET_USER_MEMORY_REGION
    /// toggling LOG_DIRTY_PAGES (nr_memslots_dirty_logging going 0 ↔ 1): the request goes to the
    /// vCPUs kvm_make_all_cpus_request sees, i.e. the published ones.</summary>
    public static void SetLogDirtyPages(ref KvmState s, KvmConfig c, bool on)
    {
        s.DirtyLogging = on;
        if (UsesPml(c)) X86.MakeAllCpusRequest(ref s, c, KvmRequest.UpdateCpuDirtyLogging);
    }

    /// <summary>Design (<see cref="Policy.CreateVcpuPendsDirtyLogging"/>): kvm_arch_vcpu_create
    /// pends KVM_REQ_UPDATE_CPU_DIRTY_LOGGING, so the first KVM_RUN, after publication, reads the
    /// live count. No release does this (checked up to the 2026 trees).</summary>
    public static void VcpuCreate(ref KvmState s, KvmConfig c, int v)
    {
        if (c.Policy.CreateVcpuPendsDirtyLogging && UsesPml(c)) s.Vcpus[v].Requests |= KvmRequest.UpdateCpuDirtyLogging;
    }

    /// <summary>mirrors kvm_vcpu_update_cpu_dirty_logging of the AMD PML series (x86.c, v5 4/8):
    /// in guest mode only vcpu->arch.update_cpu_dirty_logging_pending is set (held in
    /// <see cref="DeferredUpdate.CpuDirtyLogging"/>); otherwise svm_update_cpu_dirty_logging with
    /// the live count.</summary>
    public static void VcpuUpdateCpuDirtyLogging(ref KvmState s, KvmConfig c, int v)
    {
        if (!UsesPml(c)) return; // WARN_ON_ONCE(!cpu_dirty_log_size): the request is never made
        ref var vc = ref s.Vcpus[v];
        if (c.Vendor == CpuVendor.Amd && c.Policy.PendingDirtyLoggingUpdate == PendingDirtyLoggingUpdate.WriteVmcb01)
        {
            SvmPmlOps.UpdateVmcb01DirtyLogging(ref vc, s.DirtyLogging); // the design: nothing to defer
            return;
        }
        if (vc.GuestMode)
        {
            vc.Deferred |= DeferredUpdate.CpuDirtyLogging;
            return;
        }
        SetCpuDirtyLogging(ref vc, c, s.DirtyLogging);
    }

    /// <summary>mirrors the series' addition to leave_guest_mode (kvm_cache_regs.h, v5 4/8): with
    /// the flag set, clear it and call update_cpu_dirty_logging at once. Both nested_svm_vmexit and
    /// svm_leave_nested call leave_guest_mode before svm_switch_vmcb(vmcb01), so the hook writes
    /// whatever svm->vmcb is then. The design alternatives: pend the request instead, or (v3) leave
    /// the flag to <see cref="AfterVmcb01Switch"/>.</summary>
    public static void LeaveGuestMode(ref KvmState s, KvmConfig c, int v)
    {
        ref var vc = ref s.Vcpus[v];
        if ((vc.Deferred & DeferredUpdate.CpuDirtyLogging) == 0 || !CommonDeferral(c)) return;
        switch (c.Policy.PendingDirtyLoggingUpdate)
        {
            case PendingDirtyLoggingUpdate.LeaveGuestModeCall:
                vc.Deferred &= ~DeferredUpdate.CpuDirtyLogging;
                SetCpuDirtyLogging(ref vc, c, s.DirtyLogging);
                break;
            case PendingDirtyLoggingUpdate.LeaveGuestModeRequest:
                vc.Deferred &= ~DeferredUpdate.CpuDirtyLogging;
                vc.Requests |= KvmRequest.UpdateCpuDirtyLogging;
                break;
        }
    }

    /// <summary>update_cpu_dirty_logging(vcpu, enable) as the series reshapes it: on SVM
    /// svm_update_cpu_dirty_logging, on VMX vmx_update_cpu_dirty_logging (4/8), both writing the
    /// VMCB/VMCS current at the call (secondary_exec_controls_setbit acts on loaded_vmcs).</summary>
    static void SetCpuDirtyLogging(ref VcpuState vc, KvmConfig c, bool enable)
    {
        if (c.Vendor == CpuVendor.Amd) SvmPmlOps.UpdateCpuDirtyLogging(ref vc, enable);
        else Vmx.VmxOps.SetPml(ref vc.Vmcs02Loaded ? ref vc.Vmcs02 : ref vc.Vmcs01, enable);
    }

    /// <summary>mirrors v3's svm->nested.update_vmcb01_cpu_dirty_logging, consumed in
    /// nested_svm_vmexit after svm_switch_vmcb(vmcb01).</summary>
    public static void AfterVmcb01Switch(ref KvmState s, KvmConfig c, int v)
    {
        ref var vc = ref s.Vcpus[v];
        if ((vc.Deferred & DeferredUpdate.CpuDirtyLogging) == 0 || !CommonDeferral(c) || c.Policy.PendingDirtyLoggingUpdate != PendingDirtyLoggingUpdate.AfterVmcb01Switch) return;
        vc.Deferred &= ~DeferredUpdate.CpuDirtyLogging;
        SetCpuDirtyLogging(ref vc, c, s.DirtyLogging);
    }
}
