using NestedApic.Hardware.Vmx;
using NestedApic.Hypervisor;
using NestedApic.Hypervisor.Vmx;
using static NestedApic.Tests.Hypervisor.KvmTestBench;

namespace NestedApic.Tests.Hypervisor.Vmx;

public class NestedTests
{
    [Fact]
    public void PrepareVmcs02_TakesApicBitsFromVmcs12Only()
    {
        var c = Config(Policies.Linux70);
        var v01 = VmxOps.InitVmcs01(c, apicvActive: true, ApicMode.XApic);
        var v02 = Nested.PrepareVmcs02(v01, NoTprShadow, c);
        Assert.False(v02.PostedInterrupts);
        Assert.False(v02.Vid);
        Assert.False(v02.TprShadow);
        Assert.False(v02.Has(SecondaryControls.VirtualizeApicAccesses));
        Assert.True((v02.Primary & PrimaryControls.Cr8LoadExiting) != 0);
        Assert.True((v02.Pin & PinBasedControls.ExternalInterruptExiting) != 0);
        Assert.Equal(0xF0, v02.PostedIntrNv);
    }

    [Fact]
    public void TraceA_Linux517_RefreshInL2_FailsEntry_AndBlamesL1()
    {
        var c = Config(Policies.Linux517);
        var m = Model(c);
        var s = Replay(m, TwoVcpusL1Running.Then(
            "vcpu1/user: guest-debug-blockirq on",
            "vcpu0/L0: service-request APICV_UPDATE",
            "vcpu0/L0: service-request EVENT",
            "vcpu0/L0: vm-enter",
            "vcpu0/L1: vmlaunch no-tpr-shadow",
            "vcpu0/L0: vm-enter",
            "vcpu1/user: guest-debug-blockirq off",
            "vcpu0/L0: service-request APICV_UPDATE"));
        Assert.True(s.Vcpus[0].Vmcs02.Vid);
        // Written but never run: the entry fails, so I3 (what L2 runs with) is not what breaks.
        Assert.False(m.Breaks(s, 0, Property.Vmcs02NotOwnedByVmcs12));
        Setup_Apply(m, ref s, "vcpu0/L0: vm-enter");
        Assert.True(m.Breaks(s, 0, Property.KvmCausedVmentryFailure));
        Assert.False(s.Vcpus[0].GuestMode);
        Assert.Contains("error 7", m.Explain((int)Property.KvmCausedVmentryFailure, s));
    }

    [Fact]
    public void TraceB_Linux518_DeferredRequestIsNoOp_Vmcs01Stale()
    {
        var c = Config(Policies.Linux518);
        var m = Model(c);
        var s = Replay(m, TwoVcpusL1Running.Then(
            "vcpu1/user: guest-debug-blockirq on",
            "vcpu0/L0: service-request APICV_UPDATE",
            "vcpu0/L0: service-request EVENT",
            "vcpu0/L0: vm-enter",
            "vcpu0/L1: vmlaunch no-tpr-shadow",
            "vcpu0/L0: vm-enter",
            "vcpu1/user: guest-debug-blockirq off",
            "vcpu0/L0: service-request APICV_UPDATE",
            "vcpu0/L0: vm-enter",
            "vcpu0/L2: vmcall",
            "vcpu0/L0: service-request APICV_UPDATE",
            "vcpu0/L0: vm-enter"));
        Assert.True(s.Vcpus[0].ApicvActive);
        Assert.False(s.Vcpus[0].Vmcs01.Vid);
        Assert.True(m.Breaks(s, 0, Property.Vmcs01ApicvStale));
    }

    [Theory]
    [InlineData("linux-6.19")]
    [InlineData("linux-7.0")]
    public void TraceB_FixedPresets_Vmcs01RefreshedByL1Entry(string preset)
    {
        var c = Config(Policies.Find(preset)!);
        var m = Model(c);
        var s = Replay(m, TwoVcpusL1Running.Then(
            "vcpu1/user: guest-debug-blockirq on",
            "vcpu0/L0: service-request APICV_UPDATE",
            "vcpu0/L0: service-request EVENT",
            "vcpu0/L0: vm-enter",
            "vcpu0/L1: vmlaunch no-tpr-shadow",
            "vcpu0/L0: vm-enter",
            "vcpu1/user: guest-debug-blockirq off",
            "vcpu0/L0: service-request APICV_UPDATE",
            "vcpu0/L0: vm-enter",
            "vcpu0/L2: vmcall",
            "vcpu0/L0: vm-enter"));
        Assert.True(s.Vcpus[0].RunningL1);
        Assert.True(s.Vcpus[0].Vmcs01.Vid);
        Assert.Equal(-1, m.Violated(s));
    }

    [Fact]
    public void SetNestedState_PendsNestedStatePages_AndEntersL2()
    {
        var c = Config(Policies.Linux70);
        var s = Replay(Model(c), "vcpu0/user: create-vcpu", "vcpu0/user: publish-vcpu", "vcpu0/user: set-nested-state no-tpr-shadow");
        Assert.True(s.Vcpus[0].GuestMode);
        Assert.True(s.Vcpus[0].Vmcs02Loaded);
        Assert.True((s.Vcpus[0].Requests & KvmRequest.GetNestedStatePages) != 0);
    }

    static void Setup_Apply(VmxModel m, ref KvmState s, string line) =>
        NestedApic.Scenarios.Setup.ApplyLine(m, ref s, line, "test");
}
