namespace NestedApic.Hypervisor;

/// <summary>Where a vCPU stands with KVM_SET_CPUID2. Tracked only where a universe uses the
/// ioctl or requires it (<see cref="KvmConfig.TracksCpuid"/>), so other universes keep their states.</summary>
public enum VcpuCpuid : byte
{
    /// <summary>No KVM_SET_CPUID2 yet and no KVM_RUN.</summary>
    Unset = 0,
    /// <summary>KVM_SET_CPUID2 done, no KVM_RUN yet: another one still reaches kvm_vcpu_after_set_cpuid.</summary>
    Set = 1,
    /// <summary>KVM_RUN was called: KVM_SET_CPUID2 may only repeat the same CPUID and recomputes nothing.</summary>
    Ran = 2,
}

/// <summary>
/// KVM_SET_CPUID2 (cpuid.c) over the model state. The guest's CPUID itself is fixed by the
/// universe (the VMM sets the same table every time); what matters is that the ioctl makes the
/// vendor module recompute controls from live VM-wide state.
/// </summary>
public static class KvmCpuid
{
    /// <summary>mirrors kvm_can_set_cpuid_and_feature_msrs: before the vCPU's first run (modelled
    /// as its first KVM_RUN; KVM tests last_vmentry_cpu) and, in the newest kernels, not in guest
    /// mode (after KVM_SET_NESTED_STATE). After it, kvm_set_cpuid only compares the table.</summary>
    public static bool CanSetCpuid(in VcpuState vc) => vc.Cpuid != VcpuCpuid.Ran && !vc.GuestMode;

    /// <summary>Whether KVM_RUN is enabled: a universe that requires KVM_SET_CPUID2 before the first
    /// run (QEMU, kvmtool, Firecracker, the selftests) withholds it until then.</summary>
    public static bool MayRun(in VcpuState vc, KvmConfig c) => !c.CpuidBeforeRun || vc.Cpuid != VcpuCpuid.Unset;

    /// <summary>mirrors kvm_vcpu_ioctl_set_cpuid2 → kvm_set_cpuid → kvm_vcpu_after_set_cpuid: the
    /// common part touches nothing the model holds; the vendor's vcpu_after_set_cpuid does.</summary>
    public static void SetCpuid(ref KvmState s, KvmConfig c, int v)
    {
        s.Vcpus[v].Cpuid = VcpuCpuid.Set;
        Vendor.VcpuAfterSetCpuid(ref s, c, v);
    }

    /// <summary>KVM_RUN: from now on the CPUID is frozen.</summary>
    public static void OnKvmRun(ref VcpuState vc, KvmConfig c)
    {
        if (c.TracksCpuid) vc.Cpuid = VcpuCpuid.Ran;
    }
}
