using NestedApic.Checking;

namespace NestedApic.Hypervisor;

/// <summary>
/// The components of a <see cref="KvmState"/> for the checker's compressed storage: the VM-wide
/// part, and per existing vCPU its KVM software state, L1's local APIC, L1's posted-interrupt
/// descriptor, vmcs01, and vmcs02 with what follows it (L1's descriptor for L2, L2's vIRR, the
/// vendor part). The vCPU slots the configuration leaves unused are declared zero, so a 2-vCPU
/// universe pays nothing for the other two. Offsets come from the struct layout, so a field added
/// to <see cref="VcpuState"/> or <see cref="KvmState"/> lands in the component of its neighbours.
/// </summary>
public static class KvmStateLayout
{
    static readonly StateLayout?[] Cache = new StateLayout?[KvmState.MaxVcpus + 1];

    public static StateLayout For(int vcpus) => Cache[vcpus] ??= Build(vcpus);

    static StateLayout Build(int vcpus)
    {
        KvmState s = default;
        ref var v = ref s.Vcpus[0];
        int stride = System.Runtime.CompilerServices.Unsafe.SizeOf<VcpuState>();
        int first = StateLayout.OffsetOf(ref s, ref v);
        (int Offset, string Name)[] parts =
        [
            (0, "kvm"),
            (StateLayout.OffsetOf(ref v, ref v.Apic), "apic"),
            (StateLayout.OffsetOf(ref v, ref v.Pid), "pid"),
            (StateLayout.OffsetOf(ref v, ref v.Vmcs01), "vmcs01"),
            (StateLayout.OffsetOf(ref v, ref v.Vmcs02), "vmcs02"),
        ];
        var b = new StateLayout.Builder(System.Runtime.CompilerServices.Unsafe.SizeOf<KvmState>()).Cut(0, "vm");
        for (int i = 0; i < vcpus; i++)
            foreach (var (offset, name) in parts)
                b.Cut(first + i * stride + offset, $"vcpu{i}.{name}");
        if (vcpus < KvmState.MaxVcpus) b.Zero(first + vcpus * stride, "absent-vcpus");
        return b.Build();
    }
}
