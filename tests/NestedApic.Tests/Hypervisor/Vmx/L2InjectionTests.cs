using NestedApic.Hardware.Vmx;
using NestedApic.Hypervisor;
using NestedApic.Hypervisor.Vmx;
using static NestedApic.Tests.Hypervisor.KvmTestBench;

namespace NestedApic.Tests.Hypervisor.Vmx;

/// <summary>L2's RFLAGS.IF and KVM injecting L1's interrupts into L2 (vmcs12 without
/// external-interrupt exiting), with the interrupt window around it.</summary>
public class L2InjectionTests
{
    static Vmcs12 IrqToL2(bool guestIf) => new()
    {
        Name = "irq-to-l2", Pin = 0, Primary = 0x80000000, Exit = 0x8000, ApicPassthrough = true, GuestIf = guestIf,
    };

    static (VmxModel M, KvmConfig C, KvmState S) InL2(bool guestIf)
    {
        var c = Config(Policies.Linux70) with { Vmcs12s = [IrqToL2(guestIf)], EnableApicv = false };
        var m = Model(c);
        var s = Replay(m, TwoVcpusL1Running.Then("vcpu0/L1: sti", "vcpu0/L1: vmlaunch irq-to-l2", "vcpu0/L0: enter-guest"));
        Assert.True(s.Vcpus[0].RunningL2);
        Assert.Equal(guestIf, s.Vcpus[0].L2If);
        return (m, c, s);
    }

    [Fact]
    public void WithL2IfSet_KvmAcksInL1sApic_AndInjectsIntoL2()
    {
        var (m, c, s) = InL2(guestIf: true);
        X86.AcceptFixedIrq(ref s, c, 0, 0xE0);
        Step(m, ref s, "vcpu0/L0: service-request EVENT");
        Assert.True(s.Vcpus[0].GuestMode); // no exit to L1
        Assert.True(s.Vcpus[0].Apic.Isr.Test(0xE0));
        Assert.Equal((byte)0xE0, s.Vcpus[0].Injected);
        Step(m, ref s, "vcpu0/L0: vm-enter");
        Assert.Equal((byte)0, s.Vcpus[0].Injected); // delivered through L2's IDT
        Step(m, ref s, "vcpu0/L2: eoi");          // L2 completes it on L1's APIC
        Assert.True(s.Vcpus[0].Apic.Isr.IsEmpty);
    }

    [Fact]
    public void WithL2IfClear_KvmArmsVmcs02sWindow_L2StiExitsToL0_ThenInjects()
    {
        var (m, c, s) = InL2(guestIf: false);
        X86.AcceptFixedIrq(ref s, c, 0, 0xE0);
        Step(m, ref s, "vcpu0/L0: service-request EVENT");
        Assert.True((s.Vcpus[0].Vmcs02.Primary & PrimaryControls.InterruptWindowExiting) != 0);
        Assert.Equal((byte)0, s.Vcpus[0].Injected);
        Step(m, ref s, "vcpu0/L0: vm-enter");
        Step(m, ref s, "vcpu0/L2: sti");
        Assert.Equal(VcpuPhase.InKernel, s.Vcpus[0].Phase); // interrupt-window exit to L0
        Step(m, ref s, "vcpu0/L0: service-request EVENT");
        Assert.Equal((byte)0xE0, s.Vcpus[0].Injected);
    }

    [Theory]
    [InlineData("linux-5.17", true)]  // the window is gone with vmcs02 and no KVM_REQ_EVENT follows
    [InlineData("linux-6.18", false)] // 982caaa11504
    public void WindowLostAtNestedExit_L1IsLeftWithTheInterrupt_Before982caaa11504(string preset, bool lost)
    {
        var c = Config(Policies.Find(preset)!) with { Vmcs12s = [IrqToL2(false)], EnableApicv = false };
        var m = Model(c);
        var s = Replay(m, TwoVcpusL1Running.Then("vcpu0/L1: sti", "vcpu0/L1: vmlaunch irq-to-l2", "vcpu0/L0: enter-guest"));
        X86.AcceptFixedIrq(ref s, c, 0, 0xE0);
        Step(m, ref s, "vcpu0/L0: service-request EVENT");
        Step(m, ref s, "vcpu0/L0: vm-enter");
        Step(m, ref s, "vcpu0/L2: vmcall");
        Step(m, ref s, "vcpu0/L0: enter-guest");
        Assert.True(s.Vcpus[0].RunningL1);
        Assert.Equal(lost, m.Breaks(s, 0, Property.InterruptNotDelivered));
    }
}
