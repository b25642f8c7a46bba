using NestedApic.Hypervisor;
using NestedApic.Hypervisor.Vmx;
using static NestedApic.Tests.Hypervisor.KvmTestBench;

namespace NestedApic.Tests.Hypervisor.Vmx;

public class VmxOpsTests
{
    static KvmState InL2(Policy p, out KvmConfig c)
    {
        c = Config(p);
        return Replay(Model(c), TwoVcpusL1Running.Then("vcpu0/L1: vmlaunch no-tpr-shadow", "vcpu0/L0: vm-enter"));
    }

    [Fact]
    public void Refresh_WriteCurrentVmcs_InL2_WritesVmcs02AndLeavesVmcs01()
    {
        var s = InL2(Policies.Linux517, out var c);
        var vmcs01 = s.Vcpus[0].Vmcs01;
        s.Vcpus[0].ApicvActive = false;
        VmxOps.RefreshApicvExecCtrl(ref s, c, 0);
        Assert.Equal(vmcs01.Pin, s.Vcpus[0].Vmcs01.Pin);
        Assert.Equal(vmcs01.Secondary, s.Vcpus[0].Vmcs01.Secondary);
        s.Vcpus[0].ApicvActive = true;
        VmxOps.RefreshApicvExecCtrl(ref s, c, 0);
        Assert.True(s.Vcpus[0].Vmcs02.PostedInterrupts);
        Assert.True(s.Vcpus[0].Vmcs02.Vid); // activate-secondary is inherited from vmcs01
    }

    [Theory]
    [InlineData("linux-5.18")]
    [InlineData("linux-6.19")]
    public void Refresh_Deferred_InL2_SetsFlagAndTouchesNoVmcs(string preset)
    {
        var s = InL2(Policies.Find(preset)!, out var c);
        var (v01, v02) = (s.Vcpus[0].Vmcs01, s.Vcpus[0].Vmcs02);
        s.Vcpus[0].ApicvActive = false;
        VmxOps.RefreshApicvExecCtrl(ref s, c, 0);
        Assert.Equal(DeferredUpdate.ApicvStatus, s.Vcpus[0].Deferred);
        Assert.Equal(v01.Pin, s.Vcpus[0].Vmcs01.Pin);
        Assert.Equal(v02.Pin, s.Vcpus[0].Vmcs02.Pin);
    }

    [Fact]
    public void Refresh_OnDemand_InL2_WritesVmcs01Only()
    {
        var s = InL2(Policies.Linux70, out var c);
        var v02 = s.Vcpus[0].Vmcs02;
        s.Vcpus[0].ApicvActive = false;
        VmxOps.RefreshApicvExecCtrl(ref s, c, 0);
        Assert.False(s.Vcpus[0].Vmcs01.PostedInterrupts);
        Assert.False(s.Vcpus[0].Vmcs01.Vid);
        Assert.Equal(v02.Pin, s.Vcpus[0].Vmcs02.Pin);
        Assert.Equal(v02.Secondary, s.Vcpus[0].Vmcs02.Secondary);
        Assert.Equal(DeferredUpdate.None, s.Vcpus[0].Deferred);
    }

    [Fact]
    public void HwapicIsrUpdate_MapsNoVectorToZero()
    {
        var c = Config(Policies.Linux70);
        var s = Replay(Model(c), TwoVcpusL1Running);
        VmxOps.HwapicIsrUpdate(ref s, c, 0, 0xE0);
        Assert.Equal(0xE0, s.Vcpus[0].Vmcs01.Svi);
        VmxOps.HwapicIsrUpdate(ref s, c, 0, -1);
        Assert.Equal(0, s.Vcpus[0].Vmcs01.Svi);
    }

    [Fact]
    public void SyncPirToIrr_L1WithApicv_SetsRviFromIrr()
    {
        var c = Config(Policies.Linux70);
        var s = Replay(Model(c), TwoVcpusL1Running);
        s.Vcpus[0].Pid.Post(0xE0);
        VmxOps.SyncPirToIrr(ref s, c, 0);
        Assert.False(s.Vcpus[0].Pid.On);
        Assert.True(s.Vcpus[0].Apic.Irr.Test(0xE0));
        Assert.Equal(0xE0, s.Vcpus[0].Vmcs01.Rvi);
        Assert.Equal(0, (int)(s.Vcpus[0].Requests & KvmRequest.Event));
    }

    [Fact]
    public void SyncPirToIrr_InL2_RequestsEventInsteadOfRvi()
    {
        var s = InL2(Policies.Linux70, out var c);
        s.Vcpus[0].Pid.Post(0xE0);
        VmxOps.SyncPirToIrr(ref s, c, 0);
        Assert.True(s.Vcpus[0].Apic.Irr.Test(0xE0));
        Assert.Equal(0, s.Vcpus[0].Vmcs01.Rvi);
        Assert.True((s.Vcpus[0].Requests & KvmRequest.Event) != 0);
    }
}
