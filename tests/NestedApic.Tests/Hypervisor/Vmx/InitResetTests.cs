using NestedApic.Hypervisor;
using static NestedApic.Tests.Hypervisor.KvmTestBench;

namespace NestedApic.Tests.Hypervisor.Vmx;

/// <summary>INIT through kvm_apic_accept_events / kvm_vcpu_reset / kvm_lapic_reset.</summary>
public class InitResetTests
{
    static readonly string[] InService = TwoVcpusL1Running.Then("vcpu0/L1: sti", "vcpu1/L0: enter-guest", "vcpu1/L1: ipi vcpu0 0xe0",
        "vcpu0/L0: notification", "vcpu0/L0: virtual-interrupt", "vcpu1/L0: enter-guest");

    [Fact]
    public void Init_InVmxRootOperation_StaysLatched()
    {
        var m = Model(Config(Policies.Linux70));
        var s = Replay(m, InService.Then("vcpu1/L1: init vcpu0", "vcpu0/L0: enter-guest"));
        Assert.True(s.Vcpus[0].InitPending);
        Assert.True(s.Vcpus[0].Apic.Isr.Test(0xE0));
    }

    [Fact]
    public void Init_OutsideVmxOperation_ResetsTheApic_AndClearsSvi()
    {
        var m = Model(Config(Policies.Linux70));
        var s = Replay(m, InService);
        Assert.Equal(0xE0, s.Vcpus[0].Vmcs01.Svi);
        s = Replay(m, InService.Then("vcpu0/L1: vmx off", "vcpu1/L1: init vcpu0", "vcpu0/L0: service-request EVENT"));
        Assert.False(s.Vcpus[0].InitPending);
        Assert.True(s.Vcpus[0].Apic.Isr.IsEmpty);
        Assert.Equal(0, s.Vcpus[0].Vmcs01.Svi);
        Assert.False(s.Vcpus[0].L1If); // RFLAGS = 0x2 after INIT
        Assert.True((s.Vcpus[0].Requests & KvmRequest.ApicPageReload) != 0); // vmx_vcpu_reset
    }

    [Fact]
    public void VmxOff_WithAnInitLatched_RaisesEvent_AndForbidsVmlaunch()
    {
        var m = Model(Config(Policies.Linux70));
        var s = Replay(m, InService.Then("vcpu1/L1: init vcpu0", "vcpu0/L0: enter-guest", "vcpu0/L1: vmx off"));
        Assert.True((s.Vcpus[0].Requests & KvmRequest.Event) != 0);
        var e = Assert.Throws<NestedApic.Scenarios.InputException>(() =>
            Replay(m, InService.Then("vcpu0/L1: vmx off", "vcpu0/L0: enter-guest", "vcpu0/L1: vmlaunch no-tpr-shadow")));
        Assert.Contains("vcpu0/L1: vmx on", e.Message);
    }
}
