using NestedApic.Hardware.Svm;

namespace NestedApic.Hypervisor.Svm;

/// <summary>
/// svm.c and nested.c of "KVM: SVM: Add Page Modification Logging (PML) support" v5 (7/8,
/// 2026-01-05) over the model state: nested_ctl.PML_ENABLE of vmcb01 and vmcb02. PML_ADDR and
/// PML_INDEX are written once and never change what the model checks, so they are not held.
/// Without the series (<see cref="SvmPml.None"/>) only NP_ENABLE is set and nothing here acts.
/// </summary>
public static class SvmPmlOps
{
    /// <summary>mirrors init_vmcb for nested_ctl: NP_ENABLE (npt_enabled, which PML requires). v5
    /// populates pml_addr and pml_index here but leaves PML_ENABLE to svm_update_cpu_dirty_logging:
    /// unlike VMX's init_vmcs it does not read nr_memslots_dirty_logging.</summary>
    public static void InitVmcb(ref VcpuState vc) => vc.Svm.Vmcb01NestedCtl = (ushort)NestedCtl.NpEnable;

    /// <summary>mirrors svm_update_cpu_dirty_logging (v5): set or clear PML_ENABLE in svm->vmcb,
    /// the VMCB current now, whichever it is.</summary>
    public static void UpdateCpuDirtyLogging(ref VcpuState vc, bool enable)
    {
        ref ushort ctl = ref vc.Svm.Vmcb02Current ? ref vc.Svm.Vmcb02NestedCtl : ref vc.Svm.Vmcb01NestedCtl;
        ctl = enable ? (ushort)(ctl | (ushort)NestedCtl.PmlEnable) : (ushort)(ctl & ~(ushort)NestedCtl.PmlEnable);
    }

    /// <summary>Design (pending-dirty-logging-update = write-vmcb01): the hook writes vmcb01 itself,
    /// L2 active or not; vmcb02 never has PML, so nothing needs deferring.</summary>
    public static void UpdateVmcb01DirtyLogging(ref VcpuState vc, bool enable) =>
        vc.Svm.Vmcb01NestedCtl = enable ? (ushort)(vc.Svm.Vmcb01NestedCtl | (ushort)NestedCtl.PmlEnable) : (ushort)(vc.Svm.Vmcb01NestedCtl & ~(ushort)NestedCtl.PmlEnable);

    /// <summary>mirrors nested_vmcb02_prepare_control for nested_ctl: copied from vmcb01, then (v5)
    /// PML disabled for L2, whose writes KVM logs through the shadow NPT it builds.</summary>
    public static void PrepareVmcb02(ref VcpuState vc, KvmConfig c)
    {
        vc.Svm.Vmcb02NestedCtl = vc.Svm.Vmcb01NestedCtl;
        if (c.Policy.SvmPml != SvmPml.None) vc.Svm.Vmcb02NestedCtl &= unchecked((ushort)~NestedCtl.PmlEnable);
    }

    /// <summary>mirrors svm_vcpu_after_set_cpuid for the state modelled: in 5.18 the VM-wide NESTED
    /// inhibit once the guest's CPUID has SVM (the model already sets it at creation, standing for
    /// the VMM's KVM_SET_CPUID2 before the first run, so this repeats it). The PML series does not
    /// touch this function: PML_ENABLE is not recomputed, unlike vmx_vcpu_after_set_cpuid.</summary>
    public static void VcpuAfterSetCpuid(ref KvmState s, KvmConfig c, int v)
    {
        if (c.Policy.NestedAvicInhibit == NestedAvicInhibit.VmWide && c.NestedSvm)
            X86.SetOrClearApicvInhibit(ref s, c, ApicvInhibit.Nested, true);
    }

    /// <summary>L1 writes guest memory (it runs on vmcb01). With PML in use, dirty logging cleared
    /// the NPT dirty bits instead of write-protecting; without PML_ENABLE in the running VMCB the
    /// CPU sets the D bit and nothing logs the page.</summary>
    public static void GuestWrite(ref KvmState s, KvmConfig c, int v)
    {
        ref var vc = ref s.Vcpus[v];
        if (s.DirtyLogging && KvmDirtyLogging.UsesPml(c) && !NestedCtl.LogsDirtyWrite(vc.Svm.CurrentNestedCtl))
            vc.Faults |= Fault.DirtyNotLogged;
    }
}
