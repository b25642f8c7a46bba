using NestedApic.Hardware.Svm;
using NestedApic.Hypervisor;
using NestedApic.Hypervisor.Svm;
using static NestedApic.Tests.Hypervisor.Svm.SvmTestBench;

namespace NestedApic.Tests.Hypervisor.Svm;

/// <summary>The AMD PML series (v5) as modelled: nested_ctl.PML_ENABLE of vmcb01 and vmcb02.</summary>
public class SvmPmlTests
{
    static bool Pml(ushort ctl) => (ctl & (ushort)NestedCtl.PmlEnable) != 0;

    [Fact]
    public void NestedCtl_LogsOnlyWithNpAndPml()
    {
        Assert.True(NestedCtl.LogsDirtyWrite(NestedCtl.NpEnable | NestedCtl.PmlEnable));
        Assert.False(NestedCtl.LogsDirtyWrite(NestedCtl.PmlEnable));
        Assert.False(NestedCtl.LogsDirtyWrite(NestedCtl.NpEnable));
        Assert.Equal(0x800UL, NestedCtl.PmlEnable);
        Assert.Equal(0x1C8, VmcbPml.PmlAddrOffset);
    }

    [Fact]
    public void V5_VcpuCreatedAfterLoggingIsOn_HasNoPml_EvenAfterSetCpuid()
    {
        var m = Model(Config(Policies.AmdPmlV5));
        var s = Replay(m, "vcpu0/user: create-vcpu", "vcpu0/user: publish-vcpu", "vcpu0/user: dirty-logging on",
            "vcpu1/user: create-vcpu", "vcpu1/user: publish-vcpu", "vcpu1/user: set-cpuid", "vcpu1/L0: enter-guest", "vcpu1/L1: guest-write");
        Assert.False(Pml(s.Vcpus[1].Svm.Vmcb01NestedCtl)); // init_vmcb does not read the count
        Assert.True((s.Vcpus[1].Faults & Fault.DirtyNotLogged) != 0);
        Assert.True(m.Breaks(s, 1, Property.DirtyPageNotLogged));
    }

    [Fact]
    public void Vmx_VcpuCreatedAfterLoggingIsOn_HasPml()
    {
        var m = NestedApic.Tests.Hypervisor.KvmTestBench.Model(NestedApic.Tests.Hypervisor.KvmTestBench.Config(Policies.Linux70));
        var s = NestedApic.Tests.Hypervisor.KvmTestBench.Replay(m, "vcpu0/user: create-vcpu", "vcpu0/user: publish-vcpu", "vcpu0/user: dirty-logging on",
            "vcpu1/user: create-vcpu", "vcpu1/user: publish-vcpu", "vcpu1/L0: enter-guest", "vcpu1/L1: guest-write");
        Assert.True(s.Vcpus[1].Vmcs01.Pml); // init_vmcs reads nr_memslots_dirty_logging
        Assert.Equal(Fault.None, s.Vcpus[1].Faults & Fault.DirtyNotLogged);
    }

    [Fact]
    public void Fixed_RequestAtCreation_GivesTheVcpuPmlAtItsFirstRun()
    {
        var m = Model(Config(Policies.AmdPmlV5Fixed));
        var s = Replay(m, "vcpu0/user: create-vcpu", "vcpu0/user: publish-vcpu", "vcpu0/user: dirty-logging on",
            "vcpu1/user: create-vcpu");
        Assert.True((s.Vcpus[1].Requests & KvmRequest.UpdateCpuDirtyLogging) != 0);
        Step(m, ref s, "vcpu1/user: publish-vcpu");
        Step(m, ref s, "vcpu1/L0: enter-guest");
        Assert.True(Pml(s.Vcpus[1].Svm.Vmcb01NestedCtl));
    }

    [Fact]
    public void V5_UpdateWhileL2Runs_LandsInVmcb02AtTheNestedVmexit()
    {
        var m = Model(Config(Policies.AmdPmlV5, vcpus: 1));
        var s = Replay(m, "vcpu0/user: create-vcpu", "vcpu0/user: publish-vcpu", "vcpu0/L0: enter-guest",
            "vcpu0/L1: vmrun intercept-intr", "vcpu0/L0: enter-guest", "vcpu0/user: dirty-logging on", "vcpu0/L0: service-request UPDATE_CPU_DIRTY_LOGGING");
        Assert.True((s.Vcpus[0].Deferred & DeferredUpdate.CpuDirtyLogging) != 0); // update_cpu_dirty_logging_pending
        Assert.False(Pml(s.Vcpus[0].Svm.Vmcb02NestedCtl));
        Step(m, ref s, "vcpu0/L0: vm-enter");
        Step(m, ref s, "vcpu0/L2: vmmcall");
        Assert.True(Pml(s.Vcpus[0].Svm.Vmcb02NestedCtl)); // leave_guest_mode ran with svm->vmcb == vmcb02
        Assert.False(Pml(s.Vcpus[0].Svm.Vmcb01NestedCtl));
        Assert.Equal(DeferredUpdate.None, s.Vcpus[0].Deferred & DeferredUpdate.CpuDirtyLogging);
    }

    [Theory]
    [InlineData(PendingDirtyLoggingUpdate.AfterVmcb01Switch)]
    [InlineData(PendingDirtyLoggingUpdate.LeaveGuestModeRequest)]
    public void OtherPlacements_ReachVmcb01(PendingDirtyLoggingUpdate placement)
    {
        var m = Model(Config(Policies.AmdPmlV5 with { PendingDirtyLoggingUpdate = placement }, vcpus: 1));
        var s = Replay(m, "vcpu0/user: create-vcpu", "vcpu0/user: publish-vcpu", "vcpu0/L0: enter-guest",
            "vcpu0/L1: vmrun intercept-intr", "vcpu0/L0: enter-guest", "vcpu0/user: dirty-logging on",
            "vcpu0/L0: service-request UPDATE_CPU_DIRTY_LOGGING", "vcpu0/L0: vm-enter", "vcpu0/L2: vmmcall", "vcpu0/L0: enter-guest", "vcpu0/L1: guest-write");
        Assert.True(Pml(s.Vcpus[0].Svm.Vmcb01NestedCtl));
        Assert.Equal(Fault.None, s.Vcpus[0].Faults & Fault.DirtyNotLogged);
    }

    [Fact]
    public void NestedVmrun_DisablesPmlInVmcb02()
    {
        var m = Model(Config(Policies.AmdPmlV5, vcpus: 1));
        var s = Replay(m, "vcpu0/user: create-vcpu", "vcpu0/user: publish-vcpu", "vcpu0/user: dirty-logging on",
            "vcpu0/L0: enter-guest", "vcpu0/L1: vmrun intercept-intr");
        Assert.True(Pml(s.Vcpus[0].Svm.Vmcb01NestedCtl)); // the creation-time request (vCPU 0 was published)
        Assert.False(Pml(s.Vcpus[0].Svm.Vmcb02NestedCtl));
        Assert.True((s.Vcpus[0].Svm.Vmcb02NestedCtl & (ushort)NestedCtl.NpEnable) != 0);
    }

    [Fact]
    public void Upstream_NoPml_DirtyLoggingMakesNoRequest_AndWritesAreLogged()
    {
        var m = Model(Config(Policies.Linux70Svm, vcpus: 1));
        var s = Replay(m, "vcpu0/user: create-vcpu", "vcpu0/user: publish-vcpu", "vcpu0/user: dirty-logging on");
        Assert.Equal(KvmRequest.None, s.Vcpus[0].Requests & KvmRequest.UpdateCpuDirtyLogging);
        Step(m, ref s, "vcpu0/L0: enter-guest");
        Step(m, ref s, "vcpu0/L1: guest-write");
        Assert.False(m.Breaks(s, 0, Property.DirtyPageNotLogged)); // write protection logs it
    }

    [Fact]
    public void WriteVmcb01Design_UpdatesVmcb01WhileL2Runs_AndIsRefusedOnIntel()
    {
        var m = Model(Config(Policies.AmdPmlV5 with { PendingDirtyLoggingUpdate = PendingDirtyLoggingUpdate.WriteVmcb01 }, vcpus: 1));
        var s = Replay(m, "vcpu0/user: create-vcpu", "vcpu0/user: publish-vcpu", "vcpu0/L0: enter-guest",
            "vcpu0/L1: vmrun intercept-intr", "vcpu0/L0: enter-guest", "vcpu0/user: dirty-logging on", "vcpu0/L0: service-request UPDATE_CPU_DIRTY_LOGGING");
        Assert.True(Pml(s.Vcpus[0].Svm.Vmcb01NestedCtl));
        Assert.False(Pml(s.Vcpus[0].Svm.Vmcb02NestedCtl));
        Assert.Equal(DeferredUpdate.None, s.Vcpus[0].Deferred & DeferredUpdate.CpuDirtyLogging);
        var sw = Policies.Switches.Single(x => x.Key == "pending-dirty-logging-update");
        Assert.Null(sw.Set(Policies.IntelPmlV5, "write-vmcb01"));
        Assert.NotNull(sw.Set(Policies.AmdPmlV5, "write-vmcb01"));
    }
}
