using NestedApic.Hardware.Apic;
using NestedApic.Hypervisor;
using NestedApic.Hypervisor.Vmx;
using static NestedApic.Tests.Hypervisor.KvmTestBench;

namespace NestedApic.Tests.Hypervisor.Vmx;

/// <summary>Item 8 of issue 11: the review's table, each point as the release has it.</summary>
public class ReviewTableTests
{
    static readonly Vmcs12 Posted = new()
    {
        Name = "posted", Pin = 0x81, Primary = 0x80200000, Secondary = 0x300, Exit = 0x8000, PostedIntrNv = 0xE8,
    };

    static KvmConfig PiConfig(Policy p, bool apicv = true) =>
        Config(p) with { Vmcs12s = [NoTprShadow, Passthrough, Posted], EnableApicv = apicv };

    [Fact]
    public void ApicUpdatePpr_RaisesEvent_OnlyWhenTheStoredPprDrops()
    {
        var c = Config(Policies.Linux70) with { EnableApicv = false };
        var s = Replay(Model(c), TwoVcpusL1Running);
        ref var vc = ref s.Vcpus[0];
        vc.Apic.Irr.Set(0x50);
        vc.Apic.Tpr = 0x90;
        X86.UpdateStoredPpr(ref vc); // KVM stored 0x90
        vc.Apic.Tpr = 0x30;          // a TPR-shadow CR8 write: the CPU, not KVM
        vc.Requests = 0;
        X86.ApicUpdatePpr(ref s, c, 0);
        Assert.Equal(KvmRequest.Event, s.Vcpus[0].Requests & KvmRequest.Event);
        Assert.Equal(0x30, s.Vcpus[0].KvmPpr);

        s.Vcpus[0].Requests = 0;     // PPR stored as it is: nothing dropped, no request
        X86.ApicUpdatePpr(ref s, c, 0);
        Assert.Equal(0, (int)(s.Vcpus[0].Requests & KvmRequest.Event));
    }

    [Fact]
    public void L1InterruptEqualToL2sNotificationVector_Before612_IsProcessedAtVmEnter()
    {
        var c = PiConfig(Policies.Linux517);
        var m = Model(c);
        var s = Replay(m, TwoVcpusL1Running);
        s.Vcpus[0].NestedPiNv = 0xE8; // an earlier VM-enter with this vmcs12
        s.Vcpus[0].Apic.Irr.Set(0xE8);
        s.Vcpus[0].Phase = VcpuPhase.InKernel;
        Nested.Run(ref s, c, 0, 2);
        Assert.True(s.Vcpus[0].PiPending);
        Assert.False(s.Vcpus[0].Apic.Irr.Test(0xE8));
    }

    [Fact]
    public void L1InterruptEqualToL2sNotificationVector_Since612_IsPostedInterruptProcessing_NotAnExit()
    {
        var c = PiConfig(Policies.Linux70, apicv: false);
        var m = Model(c);
        var s = Replay(m, TwoVcpusL1Running.Then("vcpu0/L1: vmlaunch posted", "vcpu0/L0: enter-guest"));
        Assert.True(s.Vcpus[0].RunningL2);
        s.Vcpus[0].Apic.Irr.Set(0xE8);
        s.Vcpus[0].Pid12.Post(0xE1);
        Nested.CheckNestedEvents(ref s, c, 0);
        Assert.True(s.Vcpus[0].GuestMode); // no EXTERNAL_INTERRUPT exit
        Assert.False(s.Vcpus[0].Apic.Irr.Test(0xE8));
        Assert.True(s.Vcpus[0].L2Virr.Test(0xE1)); // vmx_complete_nested_posted_interrupt
    }

    [Theory]
    [InlineData("linux-5.17", true)]  // posted_intr_nv keeps 0xE8 from the earlier vmcs12
    [InlineData("linux-7.0", false)]  // reset to -1 at VM-enter without PI
    public void StalePostedIntrNv_Before612_MakesAnIpiANestedNotification(string preset, bool nested)
    {
        var c = PiConfig(Policies.Find(preset)!);
        var m = Model(c);
        var s = Replay(m, TwoVcpusL1Running.Then("vcpu0/L1: vmlaunch posted", "vcpu0/L0: enter-guest", "vcpu0/L2: vmcall",
            "vcpu0/L0: enter-guest", "vcpu0/L1: vmlaunch apic-passthrough", "vcpu0/L0: enter-guest"));
        Assert.True(s.Vcpus[0].RunningL2);
        s.Vcpus[0].Requests = 0;
        X86.AcceptFixedIrq(ref s, c, 0, 0xE8);
        Assert.Equal(nested, s.Vcpus[0].PiPending);
    }

    [Fact]
    public void NestedRunPending_BlocksTheNestedExit_UntilVmcs02WasEnteredOnce()
    {
        var c = Config(Policies.Linux70) with { EnableApicv = false };
        var m = Model(c);
        var s = Replay(m, TwoVcpusL1Running.Then("vcpu0/L1: sti"));
        s.Vcpus[0].Apic.Irr.Set(0xE0);
        s.Vcpus[0].Phase = VcpuPhase.InKernel;
        Nested.Run(ref s, c, 0, 0);
        Assert.True(s.Vcpus[0].NestedRunPending);
        Nested.CheckNestedEvents(ref s, c, 0);
        Assert.True(s.Vcpus[0].GuestMode); // -EBUSY: not yet
        s.Vcpus[0].Requests = 0;
        m.Apply(ref s, new KvmStep(EventKind.VmEnter, Actor.L0, 0));
        Assert.False(s.Vcpus[0].NestedRunPending);
        Assert.Equal(VcpuPhase.InKernel, s.Vcpus[0].Phase); // the immediate exit
        Assert.Equal(KvmRequest.Event, s.Vcpus[0].Requests);
        Nested.CheckNestedEvents(ref s, c, 0);
        Assert.False(s.Vcpus[0].GuestMode);
    }

    [Theory]
    [InlineData("linux-5.18", false)]
    [InlineData("linux-6.18", true)] // 1459f5c6b8b8 (6.3)
    public void XApicToX2Apic_RequestsAnApicvUpdate_Since63(string preset, bool requested)
    {
        var c = Config(Policies.Find(preset)!);
        var s = Replay(Model(c), TwoVcpusL1Running);
        s.Vcpus[0].Requests = 0;
        X86.SetApicMode(ref s, c, 0, ApicMode.X2Apic);
        Assert.Equal(requested, (s.Vcpus[0].Requests & KvmRequest.ApicvUpdate) != 0);
    }

    [Theory]
    [InlineData("linux-5.17", false)]
    [InlineData("linux-6.18", true)]
    public void SmallPoints_AccessPageFlush_PirAlreadySet_SetLapicPir(string preset, bool later)
    {
        var c = Config(Policies.Find(preset)!);
        var m = Model(c);
        var s = Replay(m, TwoVcpusL1Running);
        s.Vcpus[0].L1TlbApicStale = true;
        VmxOps.SetApicAccessPageAddr(ref s, c, 0);
        Assert.Equal(later, s.Vcpus[0].L1TlbApicStale); // 5.17 flushes the current context

        s.Vcpus[0].Pid.SetBit(0xE0, true); // PIR bit already set, ON clear: KVM stops there
        s.Vcpus[0].Phase = VcpuPhase.InGuest;
        Assert.True(VmxOps.DeliverPostedInterrupt(ref s, c, 0, 0xE0));
        Assert.False(s.Vcpus[0].Pid.On);
        Assert.False(s.Vcpus[0].NotificationInFlight);

        var d = Config(Policies.Find(preset)!) with { EnableApicv = false };
        var t = Replay(Model(d), TwoVcpusL1Running);
        t.Vcpus[0].Pid.SetBit(0xE0, true);
        X86.SetLapicState(ref t, d, 0, 0);
        Assert.Equal(later, t.Vcpus[0].Pid.Pir.IsEmpty); // 5.17: only with APICv active
    }

    [Fact]
    public void SyncPirToIrr_RequestsEvent_OnlyWhenTheHighestIrrCameFromPir()
    {
        var c = Config(Policies.Linux70);
        var s = Replay(Model(c), TwoVcpusL1Running.Then("vcpu0/L1: vmlaunch apic-passthrough", "vcpu0/L0: enter-guest"));
        s.Vcpus[0].Apic.Irr.Set(0xE0);
        s.Vcpus[0].Pid.Post(0x50);
        s.Vcpus[0].Requests = 0;
        VmxOps.SyncPirToIrr(ref s, c, 0);
        Assert.Equal(0, (int)s.Vcpus[0].Requests);
        s.Vcpus[0].Pid.Post(0xE8);
        VmxOps.SyncPirToIrr(ref s, c, 0);
        Assert.Equal(KvmRequest.Event, s.Vcpus[0].Requests);
    }
}
