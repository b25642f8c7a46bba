using NestedApic.Hypervisor;
using NestedApic.Hypervisor.Svm;
using NestedApic.Scenarios;

namespace NestedApic.Tests.Hypervisor.Svm;

/// <summary>AMD configurations and replays by trace label.</summary>
internal static class SvmTestBench
{
    public static readonly Vmcb12 InterceptIntr = new() { Name = "intercept-intr" };
    public static readonly Vmcb12 NoIntercept = new() { Name = "no-intercept", InterceptMisc1 = NestedApic.Hardware.Svm.InterceptMisc1.Shutdown };

    public static KvmConfig Config(Policy policy, int vcpus = 2) => new()
    {
        Policy = policy,
        Vendor = CpuVendor.Amd,
        Vcpus = vcpus,
        Vmcb12s = [InterceptIntr, NoIntercept],
        Budget = Enumerable.Repeat((byte)255, (int)EventKind.Count).ToArray(),
    };

    public static SvmModel Model(KvmConfig c) => new(c, default);

    public static KvmState Replay(SvmModel model, params string[] lines)
    {
        var s = default(KvmState);
        foreach (var line in lines) Setup.ApplyLine(model, ref s, line, "test");
        return s;
    }

    public static void Step(SvmModel model, ref KvmState s, string line) => Setup.ApplyLine(model, ref s, line, "test");

    /// <summary>Both vCPUs created and in L1 with IF=1.</summary>
    public static readonly string[] BothInL1 =
    [
        "vcpu0/user: create-vcpu", "vcpu0/user: publish-vcpu",
        "vcpu1/user: create-vcpu", "vcpu1/user: publish-vcpu",
        "vcpu0/L0: enter-guest", "vcpu0/L1: sti",
        "vcpu1/L0: enter-guest", "vcpu1/L1: sti",
    ];

    /// <summary>... and vCPU 0 has entered L2 with the per-vCPU inhibit applied.</summary>
    public static readonly string[] Vcpu0InL2 = [.. BothInL1, "vcpu0/L1: vmrun intercept-intr", "vcpu0/L0: enter-guest"];
}
