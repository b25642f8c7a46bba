using NestedApic.Hardware.Vmx;

namespace NestedApic.Hypervisor.Vmx;

public static partial class VmxOps
{
    /// <summary>Secondary controls vmcs_set_secondary_exec_control keeps from the current value
    /// (the mode bits; SHADOW_VMCS and DESC are not modelled).</summary>
    const uint PreservedSecondary = SecondaryControls.VirtualizeApicAccesses | SecondaryControls.VirtualizeX2ApicMode;

    /// <summary>mirrors vmx_vcpu_after_set_cpuid for the fields modelled (5.12 onwards, unchanged
    /// through 7.x): vmcs_set_secondary_exec_control(vmx, vmx_secondary_exec_control(vmx)) recomputes
    /// every secondary bit outside the preserved mask, among them APIC_REGISTER_VIRT and VID from
    /// apicv_active and ENABLE_PML from the live nr_memslots_dirty_logging. KVM_SET_CPUID2 is
    /// refused in guest mode, so vmcs01 is the VMCS loaded.</summary>
    public static void VcpuAfterSetCpuid(ref KvmState s, KvmConfig c, int v)
    {
        ref var vc = ref s.Vcpus[v];
        uint computed = (vc.ApicvActive ? ApicvSecondary : 0) | (s.DirtyLogging ? SecondaryControls.EnablePml : 0);
        vc.Vmcs01.Secondary = (vc.Vmcs01.Secondary & PreservedSecondary) | (computed & ~PreservedSecondary);
    }
}
