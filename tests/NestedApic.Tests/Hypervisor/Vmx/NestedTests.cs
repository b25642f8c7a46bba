using NestedApic.Hardware.Vmx;
using NestedApic.Hypervisor;
using NestedApic.Hypervisor.Vmx;
using static NestedApic.Tests.Hypervisor.KvmTestBench;

namespace NestedApic.Tests.Hypervisor.Vmx;

public class NestedTests
{
    /// <summary>Trace A's prefix: L1 enters L2 with APICv inhibited, the inhibit is cleared and
    /// vCPU 0 services KVM_REQ_APICV_UPDATE while L2 is active.</summary>
    static readonly string[] InhibitedLaunchThenActivated = TwoVcpusL1Running.Then(
            "vcpu1/user: guest-debug-blockirq on",
            "vcpu0/L0: service-request APICV_UPDATE",
            "vcpu0/L0: service-request EVENT",
            "vcpu0/L0: vm-enter",
            "vcpu0/L1: vmlaunch no-tpr-shadow",
            "vcpu0/L0: vm-enter",
            "vcpu1/user: guest-debug-blockirq off",
            "vcpu0/L0: service-request APICV_UPDATE");

    [Fact]
    public void PrepareVmcs02_TakesApicBitsFromVmcs12Only()
    {
        var c = Config(Policies.Linux70);
        var v01 = VmxOps.InitVmcs01(c, apicvActive: true, ApicMode.XApic, dirtyLogging: false);
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
        var s = Replay(m, InhibitedLaunchThenActivated);
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
        var s = Replay(m, InhibitedLaunchThenActivated.Then(
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
        var s = Replay(m, InhibitedLaunchThenActivated.Then(
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

    [Fact]
    public void NestedEarlyCheck_LateFailureStillBlamesL1_ButKvmWarns()
    {
        var c = Config(Policies.Linux517 with { NestedEarlyCheck = true });
        var m = Model(c);
        var s = Replay(m, InhibitedLaunchThenActivated.Then(
            "vcpu0/L0: vm-enter"));
        Assert.True(m.Breaks(s, 0, Property.KvmCausedVmentryFailure));
        Assert.Contains("KVM WARNed", m.Explain((int)Property.KvmCausedVmentryFailure, s));
    }

    /// <summary>TPR_THRESHOLD[3:0] > VTPR[7:4] with TPR shadow and neither VID nor APIC-access
    /// virtualization: KVM leaves the check to hardware, so the failure is L1's own.</summary>
    static readonly Vmcs12 ThresholdAboveVtpr = new()
    {
        Name = "threshold-above-vtpr", Pin = 0x1, Primary = PrimaryControls.UseTprShadow, Exit = 0x8000, TprThreshold = 0xF,
    };

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void HardwareOnlyRule_FailureIsL1sOwn_WithOrWithoutEarlyCheck(bool earlyCheck)
    {
        var c = Config(Policies.Linux618 with { NestedEarlyCheck = earlyCheck }) with { Vmcs12s = [ThresholdAboveVtpr] };
        var m = Model(c);
        var s = Replay(m, TwoVcpusL1Running.Then("vcpu0/L1: vmlaunch threshold-above-vtpr"));
        Assert.Equal(!earlyCheck, s.Vcpus[0].GuestMode); // the early check fails VMLAUNCH at once
        Setup_Apply(m, ref s, "vcpu0/L0: vm-enter");
        Assert.False(s.Vcpus[0].GuestMode);
        Assert.False(m.Breaks(s, 0, Property.KvmCausedVmentryFailure));
        Assert.Equal((byte)VmEntryRule.TprThresholdVsVtpr, s.Vcpus[0].FailedRule);
    }

    [Fact]
    public void SetLapic_InL2_SviPathFollowsPolicy()
    {
        foreach (var (policy, in02, in01, flag) in new[]
        {
            (Policies.Linux517, true, false, false),
            (Policies.Linux618, false, false, true),
            (Policies.Linux70, false, true, false),
        })
        {
            var c = Config(policy);
            var s = Replay(Model(c), "vcpu0/user: create-vcpu", "vcpu0/user: publish-vcpu", "vcpu0/user: set-nested-state apic-passthrough");
            X86.SetLapicState(ref s, c, 0, 0xE0);
            Assert.Equal(in02, s.Vcpus[0].Vmcs02.Svi == 0xE0);
            Assert.Equal(in01, s.Vcpus[0].Vmcs01.Svi == 0xE0);
            Assert.Equal(flag, (s.Vcpus[0].Deferred & DeferredUpdate.HwapicIsr) != 0);
        }
    }

    static void Setup_Apply(VmxModel m, ref KvmState s, string line) =>
        NestedApic.Scenarios.Setup.ApplyLine(m, ref s, line, "test");
}
