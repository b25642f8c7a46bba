using NestedApic.Checking.Reduction;

namespace NestedApic.Hypervisor.Svm;

/// <summary>Interchangeable vCPUs (KvmSymmetry), with what kvm_amd's parts name renamed (SvmSymmetry).</summary>
public readonly partial struct SvmModel : ISymmetricModel<KvmState, KvmStep>
{
    public int SymmetricAgents => _c.Vcpus;
    public void Canonicalize(ref KvmState state, Span<byte> perm) => KvmSymmetry.Canonicalize(_symmetric, _c.Vcpus, ref state, perm, CpuVendor.Amd);
    public KvmStep Permute(in KvmStep step, ReadOnlySpan<byte> perm) => KvmSymmetry.Permute(step, perm);
}
