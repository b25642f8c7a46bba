using NestedApic.Checking.Reduction;

namespace NestedApic.Hypervisor.Vmx;

/// <summary>Interchangeable vCPUs (KvmSymmetry).</summary>
public readonly partial struct VmxModel : ISymmetricModel<KvmState, KvmStep>
{
    public int SymmetricAgents => _c.Vcpus;
    public void Canonicalize(ref KvmState state, Span<byte> perm) => KvmSymmetry.Canonicalize(_symmetric, _c.Vcpus, ref state, perm);
    public KvmStep Permute(in KvmStep step, ReadOnlySpan<byte> perm) => KvmSymmetry.Permute(step, perm);
}
