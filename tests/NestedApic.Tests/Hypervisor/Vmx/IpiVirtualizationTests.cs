using NestedApic.Hardware.Apic;
using NestedApic.Hypervisor;
using NestedApic.Hypervisor.Vmx;
using static NestedApic.Tests.Hypervisor.KvmTestBench;

namespace NestedApic.Tests.Hypervisor.Vmx;

/// <summary>Intel IPI virtualization: TERTIARY_EXEC_IPI_VIRT with APICv, posting without an exit.</summary>
public class IpiVirtualizationTests
{
    static KvmConfig Ipiv(Policy p) => Config(p) with { IpiVirtualization = true };

    static readonly string[] BothRunning = TwoVcpusL1Running.Then("vcpu1/L0: enter-guest");

    [Theory]
    [InlineData("linux-5.18", false)] // KVM without enable_ipiv
    [InlineData("linux-6.18", true)]
    public void Vmcs01_HasIpiVirt_WithApicvOnly_AndTheIpiDoesNotExit(string preset, bool ipiv)
    {
        var c = Ipiv(Policies.Find(preset)!);
        var m = Model(c);
        var s = Replay(m, BothRunning);
        Assert.Equal(ipiv, s.Vcpus[1].Vmcs01.IpiVirt);
        Step(m, ref s, "vcpu1/L1: ipi vcpu0 0xe0");
        Assert.Equal(ipiv ? VcpuPhase.InGuest : VcpuPhase.InKernel, s.Vcpus[1].Phase);
        Assert.True(s.Vcpus[0].Pid.Pir.Test(0xE0));
        Assert.True(s.Vcpus[0].NotificationInFlight);
    }

    [Fact]
    public void RefreshApicvExecCtrl_ClearsIpiVirt_WhenApicvIsInhibited()
    {
        var c = Ipiv(Policies.Linux70);
        var m = Model(c);
        var s = Replay(m, BothRunning);
        X86.SetOrClearApicvInhibit(ref s, c, ApicvInhibit.BlockIrq, true); // kicks both with APICV_UPDATE
        Step(m, ref s, "vcpu0/L0: enter-guest");
        Assert.False(s.Vcpus[0].ApicvActive);
        Assert.False(s.Vcpus[0].Vmcs01.IpiVirt);
        Step(m, ref s, "vcpu0/L1: ipi vcpu1 0xe0");
        Assert.Equal(VcpuPhase.InKernel, s.Vcpus[0].Phase); // the ICR write exits again
    }

    [Fact]
    public void IpiToAVcpuInL2_IsPostedToL1sDescriptor_AndTheNotificationExitsL2()
    {
        var c = Ipiv(Policies.Linux70);
        var m = Model(c);
        var s = Replay(m, BothRunning.Then("vcpu0/L1: vmlaunch no-tpr-shadow", "vcpu0/L0: enter-guest", "vcpu1/L1: ipi vcpu0 0xe0"));
        Assert.True(s.Vcpus[0].RunningL2);
        Assert.True(s.Vcpus[0].Pid.On);
        Step(m, ref s, "vcpu0/L0: notification"); // 0xF2 is not vmcs02's vector: an external-interrupt exit
        Assert.Equal(VcpuPhase.InKernel, s.Vcpus[0].Phase);
        Step(m, ref s, "vcpu0/L0: vm-enter"); // sync_pir_to_irr: IRR, KVM_REQ_EVENT
        Assert.True(s.Vcpus[0].Apic.Irr.Test(0xE0));
        Step(m, ref s, "vcpu0/L0: service-request EVENT");
        Assert.False(s.Vcpus[0].GuestMode); // EXTERNAL_INTERRUPT exit to L1
    }

    [Fact]
    public void IpiToADisabledApic_IsPosted_ThenReachesIrrWhenTheApicIsBack()
    {
        var c = Ipiv(Policies.Linux70);
        var m = Model(c);
        var s = Replay(m, BothRunning.Then("vcpu0/L1: apic-mode disabled", "vcpu0/L0: enter-guest", "vcpu1/L1: ipi vcpu0 0xe0",
            "vcpu0/L0: notification", "vcpu0/L0: enter-guest"));
        Assert.Equal(ApicMode.Disabled, s.Vcpus[0].ApicMode);
        Assert.True(s.Vcpus[0].Pid.Pir.Test(0xE0)); // kvm_lapic_enabled is false: no sync
        Assert.False(m.Breaks(s, 0, Property.PirStranded));
        Step(m, ref s, "vcpu0/L1: apic-mode xapic");
        Step(m, ref s, "vcpu0/L0: enter-guest");
        Assert.True(m.Breaks(s, 0, Property.InterruptToDisabledApic));

        // KVM's own delivery (no IPI virtualization) drops it
        var k = Config(Policies.Linux70);
        var mk = Model(k);
        var t = Replay(mk, BothRunning.Then("vcpu0/L1: apic-mode disabled", "vcpu0/L0: enter-guest", "vcpu1/L1: ipi vcpu0 0xe0"));
        Assert.True(t.Vcpus[0].Pid.Pir.IsEmpty);
        Assert.True(t.Vcpus[0].Apic.Irr.IsEmpty);
    }
}
