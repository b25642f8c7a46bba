using NestedApic.Hardware.Svm;
using NestedApic.Hypervisor;
using NestedApic.Hypervisor.Svm;
using static NestedApic.Tests.Hypervisor.Svm.SvmTestBench;

namespace NestedApic.Tests.Hypervisor.Svm;

/// <summary>avic.c: IsRunning, the IRTEs and vmcb01 through load/put, blocking and APICv updates.</summary>
public class AvicTests
{
    [Fact]
    public void KvmRunLoads_ExitToUserspacePuts_IsRunningWithHostApicId()
    {
        var m = Model(Config(Policies.Linux70Svm));
        var s = Replay(m, BothInL1);
        Assert.True(s.Vcpus[1].Svm.IsRunning);
        Assert.Equal(1, s.Vcpus[1].Svm.Entry.HostApicId);
        Assert.Equal(IrteBits.GuestMode | IrteBits.IsRun, s.Vcpus[1].Svm.Irte);
        Step(m, ref s, "vcpu1/L1: hlt"); // blocks: nothing pending
        Assert.False(s.Vcpus[1].Svm.IsRunning);
        Assert.Equal(IrteBits.GuestMode | IrteBits.GaLogIntr, s.Vcpus[1].Svm.Irte);
        Assert.True(s.Vcpus[1].Svm.Blocking);
    }

    [Fact]
    public void Linux518_NestedIsVmWide_AvicNeverOn()
    {
        var m = Model(Config(Policies.Linux518Svm));
        var s = Replay(m, BothInL1);
        Assert.Equal(ApicvInhibit.Nested.Bit(), s.Inhibits);
        Assert.False(s.Vcpus[0].ApicvActive);
        Assert.False(s.Vcpus[0].Svm.Vmcb01Avic);
        Assert.False(s.Vcpus[0].Svm.IsRunning);
        Assert.Equal(IrteBits.None, s.Vcpus[0].Svm.Irte);
    }

    [Fact]
    public void NestedVmrun_RequestsUpdate_AppliedAtNextEntry_InTwoHalves()
    {
        var m = Model(Config(Policies.Linux70Svm));
        var s = Replay(m, BothInL1);
        Step(m, ref s, "vcpu0/L1: vmrun intercept-intr");
        Assert.True(s.Vcpus[0].GuestMode);
        Assert.Equal(KvmRequest.ApicvUpdate, s.Vcpus[0].Requests);
        Assert.True(s.Vcpus[0].Svm.IsRunning); // not yet: the inhibit applies at the next entry
        Step(m, ref s, "vcpu0/L0: service-request APICV_UPDATE");
        Assert.False(s.Vcpus[0].ApicvActive);
        Assert.True(s.Vcpus[0].Svm.RefreshPending);
        Assert.True(s.Vcpus[0].Svm.IsRunning); // other CPUs still see AVIC on
        Step(m, ref s, "vcpu0/L0: apicv-refresh");
        Assert.False(s.Vcpus[0].Svm.IsRunning);
        Assert.False(s.Vcpus[0].Svm.Vmcb01Avic);
        Assert.Equal(IrteBits.None, s.Vcpus[0].Svm.Irte);
        Assert.Equal(KvmRequest.Event, s.Vcpus[0].Requests);
    }

    [Fact]
    public void NestedVmexit_LiftsTheInhibitAtOnce()
    {
        var m = Model(Config(Policies.Linux70Svm));
        var s = Replay(m, Vcpu0InL2);
        Assert.False(s.Vcpus[0].Svm.IsRunning);
        Step(m, ref s, "vcpu0/L2: vmmcall");
        Assert.False(s.Vcpus[0].GuestMode);
        Assert.True(s.Vcpus[0].ApicvActive);
        Assert.True(s.Vcpus[0].Svm.Vmcb01Avic);
        Assert.True(s.Vcpus[0].Svm.IsRunning);
        Assert.Equal(IrteBits.GuestMode | IrteBits.IsRun, s.Vcpus[0].Svm.Irte);
        Assert.Equal(KvmRequest.None, s.Vcpus[0].Requests & KvmRequest.ApicvUpdate);
    }

    [Fact]
    public void NoInhibitDesign_KeepsIsRunningInL2()
    {
        var m = Model(Config(Policies.NoNestedAvicInhibit));
        var s = Replay(m, Vcpu0InL2);
        Assert.True(s.Vcpus[0].RunningL2);
        Assert.True(s.Vcpus[0].Svm.IsRunning);
        Assert.True(m.Breaks(s, 0, Property.AvicRunningInL2));
    }

    [Theory]
    [InlineData(IrrPendingUpdate.Scan, false)]
    [InlineData(IrrPendingUpdate.KeepOnDeactivate, true)]
    [InlineData(IrrPendingUpdate.Always, true)]
    public void Deactivation_IrrPendingPerPolicy(IrrPendingUpdate mode, bool pendingAfter)
    {
        var m = Model(Config(Policies.Linux70Svm with { IrrPendingUpdate = mode }));
        var s = Replay(m, BothInL1);
        Step(m, ref s, "vcpu0/L1: vmrun intercept-intr");
        Step(m, ref s, "vcpu0/L0: service-request APICV_UPDATE");
        Assert.Equal(pendingAfter, !s.Vcpus[0].Svm.IrrNotPending);
    }

    [Fact]
    public void ScanDesign_IpiInTheRefreshWindow_LosesTheHint()
    {
        var m = Model(Config(Policies.Linux70Svm with { IrrPendingUpdate = IrrPendingUpdate.Scan }));
        var s = Replay(m, BothInL1);
        Step(m, ref s, "vcpu0/L1: vmrun intercept-intr");
        Step(m, ref s, "vcpu0/L0: service-request APICV_UPDATE");
        Step(m, ref s, "vcpu1/L1: ipi vcpu0 0xe0"); // IsRunning still 1: doorbell to a host-mode core, no exit
        Assert.True(s.Vcpus[0].Apic.Irr.Test(0xE0));
        Assert.False(s.Vcpus[1].Svm.HasIncompleteIpi);
        Assert.True(m.Breaks(s, 0, Property.IrrPendingHintLost));
        Assert.Equal(-1, X86.PendingInterrupt(s, 0)); // KVM's scan does not look
    }

    [Fact]
    public void PrepareVmcb02_NeverTakesAvicBits()
    {
        var l1WantsAvic = InterceptIntr with { IntCtl = IntCtl.AvicEnable | IntCtl.X2AvicEnable | IntCtl.VIrq | 0x5 };
        uint v02 = SvmNested.PrepareVmcb02IntCtl(IntCtl.AvicEnable | IntCtl.VIntrMasking, l1WantsAvic);
        Assert.Equal(0u, v02 & (IntCtl.AvicEnable | IntCtl.X2AvicEnable));
        Assert.Equal(IntCtl.VIrq | 0x5u | IntCtl.VIntrMasking, v02);
    }
}
