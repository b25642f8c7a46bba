using NestedApic.Checking;
using NestedApic.Hypervisor.Svm;
using NestedApic.Hypervisor.Vmx;

namespace NestedApic.Hypervisor;

/// <summary>What the scenario runner, the setup and the reports need from a vendor's KVM model
/// beyond the checker's interface.</summary>
public interface IKvmModel : IModel<KvmState, KvmStep>
{
    KvmConfig Config { get; }
    /// <summary>Whether property <paramref name="p"/> breaks on vCPU <paramref name="v"/>.</summary>
    bool Breaks(in KvmState s, int v, Property p);
    /// <summary>The state as named fields, for traces, diffs and scenario expects.</summary>
    IReadOnlyList<KeyValuePair<string, string>> Fields(in KvmState s);

    /// <summary>The VM part and one set of parts per existing vCPU (KvmModel.Components.cs).</summary>
    StateLayout IModel<KvmState, KvmStep>.Layout => KvmStateLayout.For(Config.Vcpus);
}

public static class KvmModels
{
    /// <summary>The model of the configuration's vendor: kvm_intel or kvm_amd loaded into KVM.</summary>
    public static IKvmModel Create(KvmConfig c, in KvmState initial) =>
        c.Vendor == CpuVendor.Amd ? new SvmModel(c, initial) : new VmxModel(c, initial);

    /// <summary>The vCPU on which a property breaks first, or -1.</summary>
    public static int VcpuOf(this IKvmModel m, in KvmState s, Property p)
    {
        for (int v = 0; v < m.Config.Vcpus; v++)
            if (s.Vcpus[v].Life != VcpuLife.Absent && m.Breaks(s, v, p)) return v;
        return -1;
    }
}
