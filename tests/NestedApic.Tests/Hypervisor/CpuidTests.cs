using NestedApic.Hardware.Vmx;
using NestedApic.Hypervisor;
using NestedApic.Hypervisor.Vmx;
using NestedApic.Scenarios;
using static NestedApic.Tests.Hypervisor.KvmTestBench;

namespace NestedApic.Tests.Hypervisor;

/// <summary>KVM_SET_CPUID2 (set-cpuid): when it is enabled, what vmx_vcpu_after_set_cpuid
/// recomputes, and universes that require it before the first KVM_RUN.</summary>
public class CpuidTests
{
    static bool Enabled(VmxModel m, in KvmState s, string label)
    {
        Span<KvmStep> steps = stackalloc KvmStep[m.MaxSteps];
        int n = m.Enabled(s, steps);
        for (int i = 0; i < n; i++) if (m.Label(steps[i]) == label) return true;
        return false;
    }

    [Fact]
    public void Vmx_SetCpuid_RecomputesPmlFromTheLiveCount_AndKeepsTheModeBits()
    {
        var m = Model(Config(Policies.Linux70));
        // vCPU 1 is built while logging is off; logging goes on before it is published.
        var s = Replay(m, "vcpu0/user: create-vcpu", "vcpu0/user: publish-vcpu", "vcpu1/user: create-vcpu",
            "vcpu0/user: dirty-logging on", "vcpu1/user: publish-vcpu");
        Assert.False(s.Vcpus[1].Vmcs01.Pml);
        Assert.Equal(0, (int)(s.Vcpus[1].Requests & KvmRequest.UpdateCpuDirtyLogging)); // not visible when the request went out
        uint mode = s.Vcpus[1].Vmcs01.Secondary & SecondaryControls.VirtualizeApicAccesses;
        Setup.ApplyLine(m, ref s, "vcpu1/user: set-cpuid", "test");
        Assert.True(s.Vcpus[1].Vmcs01.Pml);
        Assert.Equal(mode, s.Vcpus[1].Vmcs01.Secondary & SecondaryControls.VirtualizeApicAccesses);
        Assert.Equal(VcpuCpuid.Set, s.Vcpus[1].Cpuid);
    }

    [Fact]
    public void Vmx_SetCpuid_ClearsPmlWhenLoggingWentOff()
    {
        var m = Model(Config(Policies.Linux70));
        var s = Replay(m, "vcpu0/user: create-vcpu", "vcpu0/user: dirty-logging on", "vcpu1/user: create-vcpu",
            "vcpu0/user: publish-vcpu", "vcpu0/user: dirty-logging off", "vcpu1/user: publish-vcpu");
        Assert.True(s.Vcpus[1].Vmcs01.Pml); // init_vmcs read 1
        Setup.ApplyLine(m, ref s, "vcpu1/user: set-cpuid", "test");
        Assert.False(s.Vcpus[1].Vmcs01.Pml);
    }

    [Fact]
    public void SetCpuid_IsRefusedAfterKvmRun_AndInGuestMode()
    {
        var m = Model(Config(Policies.Linux70, vcpus: 1));
        var s = Replay(m, "vcpu0/user: create-vcpu", "vcpu0/user: publish-vcpu");
        Assert.True(Enabled(m, s, "vcpu0/user: set-cpuid"));
        Setup.ApplyLine(m, ref s, "vcpu0/user: kvm-run", "test");
        Setup.ApplyLine(m, ref s, "vcpu0/user: exit-to-userspace", "test");
        Assert.Equal(VcpuCpuid.Ran, s.Vcpus[0].Cpuid);
        Assert.False(Enabled(m, s, "vcpu0/user: set-cpuid"));

        var t = Replay(m, "vcpu0/user: create-vcpu", "vcpu0/user: publish-vcpu", "vcpu0/user: set-nested-state no-tpr-shadow");
        Assert.False(Enabled(m, t, "vcpu0/user: set-cpuid"));
    }

    [Fact]
    public void CpuidBeforeRun_WithholdsKvmRunUntilSetCpuid()
    {
        var c = Config(Policies.Linux70, vcpus: 1) with { CpuidBeforeRun = true };
        var m = Model(c);
        var s = Replay(m, "vcpu0/user: create-vcpu", "vcpu0/user: publish-vcpu");
        Assert.False(Enabled(m, s, "vcpu0/user: kvm-run"));
        Setup.ApplyLine(m, ref s, "vcpu0/user: set-cpuid", "test");
        Assert.True(Enabled(m, s, "vcpu0/user: kvm-run"));
    }

    [Fact]
    public void WithoutSetCpuidInTheUniverse_NothingIsTracked()
    {
        var c = Config(Policies.Linux70, vcpus: 1) with { Budget = new byte[(int)EventKind.Count] };
        Assert.False(c.TracksCpuid);
        var s = default(KvmState);
        KvmCpuid.OnKvmRun(ref s.Vcpus[0], c);
        Assert.Equal(VcpuCpuid.Unset, s.Vcpus[0].Cpuid);
        Assert.True(c.WithBudget(EventKind.SetCpuid, 1).TracksCpuid);
    }

    [Fact]
    public void Universe_CpuidBeforeRun_IsParsed_AndABadValueNamesTheKey()
    {
        var u = Universe.Parse("vcpus = 1\ncpuid-before-run = true\n[events]\nset-cpuid = 1\n", "u.toml");
        Assert.True(u.Config.CpuidBeforeRun);
        Assert.True(u.Config.TracksCpuid);
        var e = Assert.Throws<NestedApic.Scenarios.Toml.TomlException>(() => Universe.Parse("cpuid-before-run = 3\n", "u.toml"));
        Assert.Contains("u.toml:1", e.Message);
        Assert.Contains("cpuid-before-run", e.Message);
    }
}
