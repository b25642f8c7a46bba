using NestedApic.Hardware.Vmx;
using NestedApic.Hypervisor;
using static NestedApic.Tests.Hypervisor.KvmTestBench;

namespace NestedApic.Tests.Hypervisor;

public class X86Tests
{
    [Fact]
    public void UpdateApicv_WhenBeliefAlreadyMatches_WritesNothing()
    {
        var c = Config(Policies.Linux618);
        var s = Replay(Model(c), TwoVcpusL1Running);
        var before = s.Vcpus[0];
        X86.VcpuUpdateApicv(ref s, c, 0);
        Assert.True(s.Vcpus[0].ApicvActive);
        Assert.Equal(before.Vmcs01.Pin, s.Vcpus[0].Vmcs01.Pin);
        Assert.Equal(before.Vmcs01.Secondary, s.Vcpus[0].Vmcs01.Secondary);
        Assert.Equal(before.Requests, s.Vcpus[0].Requests);
    }

    [Fact]
    public void Inhibit_FlipRequestsAllVisibleVcpus_AndKicksThoseInGuest()
    {
        var c = Config(Policies.Linux70);
        var s = Replay(Model(c), TwoVcpusL1Running);
        X86.SetOrClearApicvInhibit(ref s, c, ApicvInhibit.BlockIrq, true);
        Assert.Equal(ApicvInhibit.BlockIrq.Bit(), s.Inhibits);
        Assert.Equal(VcpuPhase.InKernel, s.Vcpus[0].Phase);
        Assert.True((s.Vcpus[0].Requests & KvmRequest.ApicvUpdate) != 0);
        Assert.True((s.Vcpus[1].Requests & KvmRequest.ApicvUpdate) != 0);
    }

    [Fact]
    public void Inhibit_SecondReason_DoesNotRequestAgain()
    {
        var c = Config(Policies.Linux70);
        var s = Replay(Model(c), TwoVcpusL1Running);
        X86.SetOrClearApicvInhibit(ref s, c, ApicvInhibit.BlockIrq, true);
        s.Vcpus[0].Requests = 0; s.Vcpus[1].Requests = 0;
        X86.SetOrClearApicvInhibit(ref s, c, ApicvInhibit.HyperV, true);
        Assert.Equal(0, (int)s.Vcpus[0].Requests);
        Assert.Equal(0, (int)s.Vcpus[1].Requests);
    }

    [Fact]
    public void Inhibit_NotRequiredByVmx_IsDropped()
    {
        var c = Config(Policies.Linux70);
        var s = Replay(Model(c), TwoVcpusL1Running);
        X86.SetOrClearApicvInhibit(ref s, c, ApicvInhibit.Nested, true);
        Assert.Equal(0, s.Inhibits);
    }

    [Fact]
    public void Inhibit_DoesNotReachVcpuNotYetVisible()
    {
        var c = Config(Policies.Linux517);
        var s = Replay(Model(c), "vcpu0/user: create-vcpu", "vcpu0/user: publish-vcpu", "vcpu1/user: create-vcpu");
        X86.SetOrClearApicvInhibit(ref s, c, ApicvInhibit.BlockIrq, true);
        Assert.Equal(KvmRequest.ApicPageReload, s.Vcpus[1].Requests); // its own, from vmx_vcpu_reset
        Assert.True(s.Vcpus[1].ApicvActive); // read before the flip: the 5.17 race
    }

    [Fact]
    public void Deactivation_RequestsEvent_AndClearsVmcs01Controls()
    {
        var c = Config(Policies.Linux70);
        var s = Replay(Model(c), TwoVcpusL1Running);
        s.Inhibits = ApicvInhibit.BlockIrq.Bit();
        X86.VcpuUpdateApicv(ref s, c, 0);
        Assert.False(s.Vcpus[0].ApicvActive);
        Assert.False(s.Vcpus[0].Vmcs01.PostedInterrupts);
        Assert.False(s.Vcpus[0].Vmcs01.Vid);
        Assert.True((s.Vcpus[0].Requests & KvmRequest.Event) != 0);
    }

    [Fact]
    public void X2ApicSwitch_RestoresApicId_AndClearsClearableInhibit()
    {
        var c = Config(Policies.Linux618, vcpus: 1);
        var m = Model(c);
        var s = Replay(m, "vcpu0/user: create-vcpu", "vcpu0/user: publish-vcpu", "vcpu0/L0: enter-guest", "vcpu0/L1: apic-id-write modified");
        Assert.Equal(ApicvInhibit.ApicIdModified.Bit(), s.Inhibits);
        X86.SetApicMode(ref s, c, 0, ApicMode.X2Apic);
        Assert.Equal(0, s.Inhibits);
        Assert.True(s.Vcpus[0].Vmcs01.Has(SecondaryControls.VirtualizeX2ApicMode));
        Assert.False(s.Vcpus[0].Vmcs01.Has(SecondaryControls.VirtualizeApicAccesses));
    }

    [Fact]
    public void ApicIdWrite_BeforeLinux519_InhibitsNothing()
    {
        var c = Config(Policies.Linux518, vcpus: 1);
        var s = Replay(Model(c), "vcpu0/user: create-vcpu", "vcpu0/user: publish-vcpu", "vcpu0/L0: enter-guest", "vcpu0/L1: apic-id-write modified");
        Assert.Equal(0, s.Inhibits);
    }

    [Fact]
    public void Ipi_ToApicvTarget_PostsAndNotifiesOnlyAVcpuInGuest()
    {
        var c = Config(Policies.Linux70);
        var m = Model(c);
        var s = Replay(m, TwoVcpusL1Running.Then("vcpu1/L0: enter-guest", "vcpu0/L1: ipi vcpu1 0xe0"));
        Assert.True(s.Vcpus[1].Pid.On);
        Assert.True(s.Vcpus[1].Pid.Pir.Test(0xE0));
        Assert.True(s.Vcpus[1].NotificationInFlight);
        // A second post with ON still set sends no second notification.
        s.Vcpus[1].NotificationInFlight = false;
        X86.AcceptFixedIrq(ref s, c, 1, 0xE1);
        Assert.False(s.Vcpus[1].NotificationInFlight);
    }

    [Fact]
    public void Ipi_ToInhibitedTarget_SetsIrrAndKicks()
    {
        var c = Config(Policies.Linux70);
        var m = Model(c);
        var s = Replay(m, TwoVcpusL1Running.Then("vcpu1/L0: enter-guest"));
        s.Vcpus[1].ApicvActive = false;
        X86.AcceptFixedIrq(ref s, c, 1, 0xE0);
        Assert.True(s.Vcpus[1].Apic.Irr.Test(0xE0));
        Assert.Equal(VcpuPhase.InKernel, s.Vcpus[1].Phase);
        Assert.True((s.Vcpus[1].Requests & KvmRequest.Event) != 0);
    }
}
