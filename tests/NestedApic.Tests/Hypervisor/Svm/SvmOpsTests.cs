using NestedApic.Hardware.Svm;
using NestedApic.Hypervisor;
using NestedApic.Hypervisor.Svm;
using static NestedApic.Tests.Hypervisor.Svm.SvmTestBench;

namespace NestedApic.Tests.Hypervisor.Svm;

/// <summary>svm.c and the AVIC exit handlers: delivery, AVIC_INCOMPLETE_IPI, HLT, the IOMMU, nested events.</summary>
public class SvmOpsTests
{
    [Fact]
    public void IpiToRunningL1_DoorbellThenAvicDelivers_NoExit()
    {
        var m = Model(Config(Policies.Linux70Svm));
        var s = Replay(m, BothInL1);
        Step(m, ref s, "vcpu1/L1: ipi vcpu0 0xe0");
        Assert.Equal(VcpuPhase.InGuest, s.Vcpus[1].Phase);
        Assert.True(s.Vcpus[0].Svm.Recognized);
        Step(m, ref s, "vcpu0/L0: virtual-interrupt");
        Assert.True(s.Vcpus[0].Apic.Isr.Test(0xE0));
        Assert.True(s.Vcpus[0].Apic.Irr.IsEmpty);
        Step(m, ref s, "vcpu0/L1: eoi"); // edge EOI: accelerated, no exit
        Assert.Equal(VcpuPhase.InGuest, s.Vcpus[0].Phase);
        Assert.True(s.Vcpus[0].Apic.Isr.IsEmpty);
    }

    [Fact]
    public void IpiToVcpuInL2_IncompleteIpi_KickCausesNestedVmexitToL1()
    {
        var m = Model(Config(Policies.Linux70Svm));
        var s = Replay(m, Vcpu0InL2);
        s.Vcpus[0].Svm.IrrNotPending = true; // as after KVM injected its last interrupt without AVIC
        Step(m, ref s, "vcpu1/L1: ipi vcpu0 0xe0");
        Assert.True(s.Vcpus[0].Apic.Irr.Test(0xE0)); // the CPU set IRR in L1's backing page...
        Assert.Equal((byte)(1 + IncompleteIpiCause.TargetNotRunning), s.Vcpus[1].Svm.IncompleteIpiCause); // ...and exited
        Assert.True(s.Vcpus[0].RunningL2);
        Assert.False(m.Breaks(s, 0, Property.InterruptNotDelivered)); // the kick is coming
        Assert.False(m.Breaks(s, 0, Property.IrrPendingHintLost));
        Step(m, ref s, "vcpu1/L0: avic-incomplete-ipi");
        Assert.False(s.Vcpus[0].Svm.IrrNotPending);
        Assert.Equal(VcpuPhase.InKernel, s.Vcpus[0].Phase); // #VMEXIT(INTR)
        Step(m, ref s, "vcpu0/L0: service-request EVENT");
        Assert.False(s.Vcpus[0].GuestMode); // nested #VMEXIT(INTR): L1 intercepts INTR
        Assert.True(s.Vcpus[0].Svm.IsRunning);
        Step(m, ref s, "vcpu0/L0: enter-guest");
        Assert.True(s.Vcpus[0].RunningL1);
        Assert.True(s.Vcpus[0].Svm.Recognized); // VMRUN of vmcb01 evaluated the backing page
    }

    [Fact]
    public void L1InterruptInL2_WithoutIntrIntercept_IsInjectedIntoL2()
    {
        var m = Model(Config(Policies.Linux70Svm));
        var s = Replay(m, [.. BothInL1, "vcpu0/L1: vmrun no-intercept", "vcpu0/L0: enter-guest", "vcpu1/L1: ipi vcpu0 0xe0",
            "vcpu1/L0: avic-incomplete-ipi", "vcpu0/L0: service-request EVENT"]);
        Assert.True(s.Vcpus[0].GuestMode);
        Assert.True(s.Vcpus[0].Apic.Isr.Test(0xE0));
    }

    [Fact]
    public void L1InterruptInL2_BlockedByL1sIf_WithVIntrMasking()
    {
        var m = Model(Config(Policies.Linux70Svm));
        var s = Replay(m, Vcpu0InL2);
        s.Vcpus[0].L1If = false;
        s.Vcpus[0].Apic.Irr.Set(0xE0);
        s.Vcpus[0].Phase = VcpuPhase.InKernel;
        SvmNested.CheckNestedEvents(ref s, m.Config, 0);
        Assert.True(s.Vcpus[0].GuestMode);
        Assert.True(s.Vcpus[0].Apic.Isr.IsEmpty);
    }

    [Fact]
    public void HltWithInterruptPending_DoesNotBlock()
    {
        var m = Model(Config(Policies.Linux70Svm));
        var s = Replay(m, BothInL1);
        s.Vcpus[0].Apic.Irr.Set(0xE0);
        Step(m, ref s, "vcpu0/L1: hlt");
        Assert.False(s.Vcpus[0].Svm.Blocking);
        Assert.True(s.Vcpus[0].Svm.IsRunning);
    }

    [Fact]
    public void IpiToBlockedVcpu_IncompleteIpiWakesIt()
    {
        var m = Model(Config(Policies.Linux70Svm));
        var s = Replay(m, [.. BothInL1, "vcpu0/L1: hlt"]);
        Step(m, ref s, "vcpu1/L1: ipi vcpu0 0xe0");
        Assert.Equal((byte)(1 + IncompleteIpiCause.TargetNotRunning), s.Vcpus[1].Svm.IncompleteIpiCause);
        Step(m, ref s, "vcpu1/L0: avic-incomplete-ipi");
        Assert.True(s.Vcpus[0].Svm.WakePending); // apicv_active and not in the guest: kvm_vcpu_wake_up
        Step(m, ref s, "vcpu0/L0: unblock");
        Assert.False(s.Vcpus[0].Svm.Blocking);
        Assert.True(s.Vcpus[0].Svm.IsRunning);
    }

    [Fact]
    public void DeviceInterrupt_GaDoorbell_GaLogWake_AndLegacyWhileInhibited()
    {
        var m = Model(Config(Policies.Linux70Svm));
        var s = Replay(m, BothInL1);
        Step(m, ref s, "vcpu0/L0: device-irq 0xe0"); // GA, IsRun: doorbell to the running L1
        Assert.True(s.Vcpus[0].Svm.Recognized);

        s = Replay(m, [.. BothInL1, "vcpu0/L1: hlt"]);
        Step(m, ref s, "vcpu0/L0: device-irq 0xe0"); // GA, not running, GALogIntr: the GA log wakes it
        Assert.True(s.Vcpus[0].Svm.WakePending);

        s = Replay(m, Vcpu0InL2);
        Step(m, ref s, "vcpu0/L0: device-irq 0xe0"); // legacy remapping: irqfd, svm_deliver_interrupt, kick
        Assert.Equal(VcpuPhase.InKernel, s.Vcpus[0].Phase);
        Assert.Equal(KvmRequest.Event, s.Vcpus[0].Requests);
    }

    [Fact]
    public void SetNestedState_RequestsNoApicvUpdate_UnlessTheDesignSwitchIsOn()
    {
        static KvmState RanThenRestored(SvmModel m)
        {
            var s = Replay(m, BothInL1);
            s.Vcpus[0].Phase = VcpuPhase.InKernel; // some exit to KVM, then userspace takes the vCPU
            Step(m, ref s, "vcpu0/user: exit-to-userspace");
            Step(m, ref s, "vcpu0/user: set-nested-state intercept-intr");
            return s;
        }
        var s = RanThenRestored(Model(Config(Policies.Linux70Svm)));
        Assert.Equal(KvmRequest.GetNestedStatePages, s.Vcpus[0].Requests);
        Assert.True(s.Vcpus[0].ApicvActive);

        s = RanThenRestored(Model(Config(Policies.Linux70Svm with { SetNestedStateRequestsApicvUpdate = true })));
        Assert.Equal(KvmRequest.GetNestedStatePages | KvmRequest.ApicvUpdate, s.Vcpus[0].Requests);

        s = RanThenRestored(Model(Config(Policies.Linux71Svm))); // 24f7d36b824b
        Assert.Equal(KvmRequest.GetNestedStatePages | KvmRequest.ApicvUpdate, s.Vcpus[0].Requests);
    }

    [Theory]
    [InlineData("linux-5.19-svm", false)] // f44509f849fe's svm_leave_nested made no request
    [InlineData("linux-7.0-svm", true)]   // 3fdc6087df3b (6.6)
    public void SetNestedState_FromL2_LeaveNestedRequestsTheUpdate_Since3fdc6087df3b(string preset, bool requested)
    {
        var m = Model(Config(Policies.Find(preset)!));
        var s = Replay(m, Vcpu0InL2);
        s.Vcpus[0].Requests = 0;
        s.Vcpus[0].Phase = VcpuPhase.InKernel;
        Step(m, ref s, "vcpu0/user: exit-to-userspace");
        Step(m, ref s, "vcpu0/user: set-nested-state no-intercept");
        Assert.Equal(requested, (s.Vcpus[0].Requests & KvmRequest.ApicvUpdate) != 0);
    }

    [Fact]
    public void SetNestedState_FromL2_LeaveNestedRequestsTheUpdate()
    {
        var m = Model(Config(Policies.Linux70Svm));
        var s = Replay(m, Vcpu0InL2);
        s.Vcpus[0].Requests = 0;
        s.Vcpus[0].Phase = VcpuPhase.InKernel;
        Step(m, ref s, "vcpu0/user: exit-to-userspace");
        Step(m, ref s, "vcpu0/user: set-nested-state no-intercept");
        Assert.Equal(KvmRequest.GetNestedStatePages | KvmRequest.ApicvUpdate, s.Vcpus[0].Requests & (KvmRequest.GetNestedStatePages | KvmRequest.ApicvUpdate));
    }

    [Fact]
    public void VendorDispatch_RequiredInhibitsDiffer()
    {
        var amd = Config(Policies.Linux70Svm);
        var intel = amd with { Vendor = CpuVendor.Intel, Policy = Policies.Linux70 };
        var s = default(KvmState);
        X86.SetOrClearApicvInhibit(ref s, intel, ApicvInhibit.PitReinj, true);
        Assert.Equal(0, s.Inhibits);
        X86.SetOrClearApicvInhibit(ref s, amd, ApicvInhibit.PitReinj, true);
        Assert.Equal(ApicvInhibit.PitReinj.Bit(), s.Inhibits);
    }

    [Fact]
    public void VmrunOfVmcb01_PassesTheApmChecks_AndX2AvicWithoutAvicFails()
    {
        var m = Model(Config(Policies.Linux70Svm));
        var s = Replay(m, BothInL1);
        Assert.Equal(VmrunRule.None, VmrunChecks.Check(SvmOps.CurrentVmcb(s.Vcpus[0], 0), SvmOps.MaxPhyAddr));
        s.Vcpus[0].Svm.Vmcb01IntCtl = IntCtl.X2AvicEnable;
        Assert.Equal(VmrunRule.X2AvicRequiresAvic, VmrunChecks.Check(SvmOps.CurrentVmcb(s.Vcpus[0], 0), SvmOps.MaxPhyAddr));
        s.Vcpus[0].Phase = VcpuPhase.InKernel;
        SvmOps.VcpuRun(ref s, m.Config, 0);
        Assert.True(m.Breaks(s, 0, Property.KvmCausedVmentryFailure));
        Assert.Contains("vmcb01", m.Explain((int)Property.KvmCausedVmentryFailure, s));
    }
}
