using NestedApic.Hypervisor;
using NestedApic.Hypervisor.Vmx;
using NestedApic.Scenarios;

namespace NestedApic.Tests.Hypervisor;

/// <summary>Builds small configurations and replays steps by their trace labels.</summary>
internal static class KvmTestBench
{
    public static readonly Vmcs12 NoTprShadow = new() { Name = "no-tpr-shadow", Pin = 0x1, Primary = 0, Exit = 0x8000 };
    public static readonly Vmcs12 Passthrough = new() { Name = "apic-passthrough", Pin = 0x1, Primary = 0x80000000, Exit = 0x8000, ApicPassthrough = true };

    public static KvmConfig Config(Policy policy, int vcpus = 2) => new()
    {
        Policy = policy,
        Vcpus = vcpus,
        Vmcs12s = [NoTprShadow, Passthrough],
        Budget = Enumerable.Repeat((byte)255, (int)EventKind.Count).ToArray(),
    };

    public static VmxModel Model(KvmConfig c) => new(c, default);

    /// <summary>Replays steps (trace labels, or "vcpuN/L0: enter-guest") from the empty VM.</summary>
    public static KvmState Replay(VmxModel model, params string[] lines)
    {
        var s = default(KvmState);
        foreach (var line in lines) Setup.ApplyLine(model, ref s, line, "test");
        return s;
    }

    /// <summary>Applies one more step given by its trace label.</summary>
    public static void Step(VmxModel model, ref KvmState s, string line) => Setup.ApplyLine(model, ref s, line, "test");

    public static readonly string[] TwoVcpusL1Running =
    [
        "vcpu0/user: create-vcpu", "vcpu0/user: publish-vcpu",
        "vcpu1/user: create-vcpu", "vcpu1/user: publish-vcpu",
        "vcpu0/L0: enter-guest",
    ];

    public static string[] Then(this string[] a, params string[] b) => [.. a, .. b];
}
