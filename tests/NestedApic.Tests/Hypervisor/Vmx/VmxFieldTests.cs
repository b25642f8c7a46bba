using NestedApic.Hardware.Vmx;
using NestedApic.Hypervisor;
using NestedApic.Hypervisor.Vmx;
using static NestedApic.Tests.Hypervisor.KvmTestBench;

namespace NestedApic.Tests.Hypervisor.Vmx;

/// <summary>The rest of the vmcs01 ladder (issue 7): TPR threshold, APIC-access page, PML, the
/// mode-change flush, INIT and re-injection, one mechanism at a time.</summary>
public class VmxFieldTests
{
    static KvmState L1(Policy p, out KvmConfig c)
    {
        c = Config(p);
        return Replay(Model(c), TwoVcpusL1Running);
    }

    static KvmState InL2(Policy p, out KvmConfig c)
    {
        c = Config(p);
        return Replay(Model(c), TwoVcpusL1Running.Then("vcpu0/L1: vmlaunch no-tpr-shadow", "vcpu0/L0: vm-enter"));
    }

    [Theory]
    [InlineData(0, -1, 0u)]   // nothing pending
    [InlineData(3, 5, 0u)]    // TPR below the pending class: KVM injects, no exit wanted
    [InlineData(9, 5, 5u)]    // masked by TPR: exit when TPR drops below class 5
    [InlineData(5, 5, 5u)]
    public void Cr8Intercept_Formula_InL1(int tpr, int irr, uint threshold)
    {
        var s = L1(Policies.Linux70, out var c);
        VmxOps.UpdateCr8Intercept(ref s, c, 0, tpr, irr);
        Assert.Equal(threshold, s.Vcpus[0].Vmcs01.TprThreshold);
    }

    [Theory]
    [InlineData("linux-6.19", 0u, 0u, 5)]  // l1_tpr_threshold, applied at nested VM-exit
    [InlineData("linux-7.0", 5u, 0u, -1)]  // vmcs01 on demand (51ca2746078e)
    public void Cr8Intercept_InL2_FollowsTheLadder(string preset, uint vmcs01, uint vmcs02, int deferred)
    {
        var s = InL2(Policies.Find(preset)!, out var c);
        VmxOps.UpdateCr8Intercept(ref s, c, 0, 9, 5);
        Assert.Equal(vmcs01, s.Vcpus[0].Vmcs01.TprThreshold);
        Assert.Equal(vmcs02, s.Vcpus[0].Vmcs02.TprThreshold);
        Assert.Equal((sbyte)deferred, s.Vcpus[0].L1TprThreshold);
        Nested.VmExit(ref s, c, 0, failed: false);
        Assert.Equal(5u, s.Vcpus[0].Vmcs01.TprThreshold);
    }

    [Fact]
    public void Cr8Intercept_WriteCurrent_InL2_LandsInVmcs02()
    {
        var s = InL2(Policies.Linux70 with { TprThreshold = Vmcs01Update.WriteCurrentVmcs }, out var c);
        VmxOps.UpdateCr8Intercept(ref s, c, 0, 9, 5);
        Assert.Equal(5u, s.Vcpus[0].Vmcs02.TprThreshold);
        Nested.VmExit(ref s, c, 0, failed: false);
        Assert.Equal(0u, s.Vcpus[0].Vmcs01.TprThreshold);
    }

    [Fact]
    public void L1Cr8Write_BelowThreshold_Exits_AndUpdatePprRaisesNoEventWhenNothingIsDeliverable()
    {
        var s = L1(Policies.Linux70, out var c);
        ref var vc = ref s.Vcpus[0];
        vc.Vmcs01 = vc.Vmcs01 with { Secondary = vc.Vmcs01.Secondary & ~SecondaryControls.VirtualInterruptDelivery, TprThreshold = 5 };
        vc.Apic.Isr.Set(0x60);
        vc.Apic.Irr.Set(0x50);
        Model(c).Apply(ref s, new KvmStep(EventKind.Cr8Write, Actor.L1, 0, 3));
        Assert.Equal(VcpuPhase.InKernel, s.Vcpus[0].Phase); // exit reason 43
        Assert.Equal(KvmRequest.None, s.Vcpus[0].Requests);  // eb90f3417a0c: PPR 0x60 still masks 0x50
        Assert.Equal(5u, s.Vcpus[0].Vmcs01.TprThreshold);
    }

    [Fact]
    public void ApicUpdatePpr_WithBb365a506b1e_RecomputesTheThreshold()
    {
        var s = L1(Policies.Linux72, out var c);
        ref var vc = ref s.Vcpus[0];
        vc.ApicvActive = false;
        vc.Vmcs01.TprThreshold = 5;
        vc.Apic.Isr.Set(0x60);
        vc.Apic.Irr.Set(0x50);
        vc.Apic.Tpr = 0x30;
        X86.ApicUpdatePpr(ref s, c, 0);
        Assert.Equal(0u, s.Vcpus[0].Vmcs01.TprThreshold);
    }

    [Fact]
    public void ApicPageMigrate_RequestsEveryVisibleVcpu_AndTheReloadFollowsTheMode()
    {
        var s = L1(Policies.Linux70, out var c);
        Assert.Equal((byte)1, s.Vcpus[0].Vmcs01.ApicAccessPage); // vmx_vcpu_reset's request, serviced
        Model(c).Apply(ref s, new KvmStep(EventKind.ApicPageMigrate, Actor.L0, 0));
        Assert.True(s.Vcpus[0].Requests.HasFlag(KvmRequest.ApicPageReload));
        Assert.True(s.Vcpus[1].Requests.HasFlag(KvmRequest.ApicPageReload));
        VmxOps.SetApicAccessPageAddr(ref s, c, 0);
        Assert.Equal((byte)2, s.Vcpus[0].Vmcs01.ApicAccessPage);
        s.Vcpus[0].ApicMode = ApicMode.X2Apic;
        VmxOps.SetVirtualApicMode(ref s, c, 0);
        s.ApicAccessPage++;
        VmxOps.SetApicAccessPageAddr(ref s, c, 0); // no APIC-access virtualization: not written
        Assert.Equal((byte)2, s.Vcpus[0].Vmcs01.ApicAccessPage);
    }

    [Fact]
    public void ApicPageReload_InL2_Deferred_IsReRaisedAtNestedVmExit()
    {
        var s = InL2(Policies.Linux619, out var c);
        s.ApicAccessPage++;
        VmxOps.SetApicAccessPageAddr(ref s, c, 0);
        Assert.Equal(DeferredUpdate.ApicAccessPage, s.Vcpus[0].Deferred);
        Nested.VmExit(ref s, c, 0, failed: false);
        Assert.True(s.Vcpus[0].Requests.HasFlag(KvmRequest.ApicPageReload));
    }

    [Theory]
    [InlineData("linux-6.19", false)]
    [InlineData("linux-7.0", true)]
    public void DirtyLogging_InL2(string preset, bool immediately)
    {
        var s = InL2(Policies.Find(preset)!, out var c);
        s.DirtyLogging = true;
        VmxOps.UpdateCpuDirtyLogging(ref s, c, 0);
        Assert.Equal(immediately, s.Vcpus[0].Vmcs01.Pml);
        Assert.False(s.Vcpus[0].Vmcs02.Pml);
        Nested.VmExit(ref s, c, 0, failed: false);
        Assert.True(s.Vcpus[0].Vmcs01.Pml);
    }

    [Fact]
    public void GuestWrite_WithoutPml_WhileLogging_IsAFault()
    {
        var s = L1(Policies.Linux70, out var c);
        s.DirtyLogging = true;
        Model(c).Apply(ref s, new KvmStep(EventKind.GuestWrite, Actor.L1, 0));
        Assert.Equal(Fault.DirtyNotLogged, s.Vcpus[0].Faults & Fault.DirtyNotLogged);
    }

    [Theory]
    [InlineData(ModeChangeFlush.FlushL1Context, false)]
    [InlineData(ModeChangeFlush.FlushCurrent, true)]
    public void ModeSwitchToXApic_InL2_OnDemand_FlushesTheContextThePolicyNames(ModeChangeFlush flush, bool staleAfterExit)
    {
        var s = InL2(Policies.Linux70 with { ModeChangeFlush = flush }, out var c);
        s.Vcpus[0].L1TlbApicStale = true;
        s.Vcpus[0].ApicMode = ApicMode.X2Apic;
        X86.SetApicMode(ref s, c, 0, ApicMode.XApic);
        Assert.True(s.Vcpus[0].Vmcs01.VirtualizesApicAccesses);
        Nested.VmExit(ref s, c, 0, failed: false); // services L2's pending flush first
        Assert.Equal(staleAfterExit, s.Vcpus[0].L1TlbApicStale);
    }

    [Fact]
    public void ApicMmio_WithoutApicAccessVirtualization_CachesANonApicTranslation()
    {
        var s = L1(Policies.Linux70, out var c);
        Model(c).Apply(ref s, new KvmStep(EventKind.ApicMmioAccess, Actor.L1, 0));
        Assert.False(s.Vcpus[0].L1TlbApicStale); // xAPIC: the access is virtualized
        s.Vcpus[0].Vmcs01.Secondary &= ~SecondaryControls.VirtualizeApicAccesses;
        Model(c).Apply(ref s, new KvmStep(EventKind.ApicMmioAccess, Actor.L1, 0));
        Assert.True(s.Vcpus[0].L1TlbApicStale);
    }

    [Fact]
    public void Init_LatchedInL1_ExitsL2AtTheNextNestedEntry()
    {
        var c = Config(Policies.Linux70);
        var m = Model(c);
        var s = Replay(m, TwoVcpusL1Running.Then("vcpu1/L0: enter-guest", "vcpu1/L1: init vcpu0", "vcpu0/L0: service-request EVENT", "vcpu0/L0: vm-enter"));
        Assert.True(s.Vcpus[0].InitPending); // blocked in VMX root operation
        Assert.True(s.Vcpus[0].RunningL1);
        s = Replay(m, TwoVcpusL1Running.Then("vcpu1/L0: enter-guest", "vcpu1/L1: init vcpu0", "vcpu0/L0: service-request EVENT",
            "vcpu0/L0: vm-enter", "vcpu0/L1: vmlaunch no-tpr-shadow", "vcpu0/L0: service-request EVENT"));
        Assert.True(s.Vcpus[0].GuestMode); // nested_run_pending: -EBUSY, vmcs02 is entered first
        Step(m, ref s, "vcpu0/L0: vm-enter"); // ... and exits at once (req_immediate_exit)
        Step(m, ref s, "vcpu0/L0: service-request EVENT");
        Assert.False(s.Vcpus[0].GuestMode); // INIT_SIGNAL exit to L1
        Assert.False(s.Vcpus[0].InitPending);
    }

    [Fact]
    public void VectoringExit_RequeuesTheInjectedInterrupt_ItStaysInService()
    {
        var c = Config(Policies.Linux70);
        var m = Model(c);
        var s = Replay(m, TwoVcpusL1Running.Then("vcpu1/user: guest-debug-blockirq on", "vcpu0/L0: enter-guest",
            "vcpu0/L1: sti", "vcpu0/L1: ipi vcpu0 0xe0", "vcpu0/L0: service-request EVENT"));
        Assert.Equal((byte)0xE0, s.Vcpus[0].Injected);
        m.Apply(ref s, new KvmStep(EventKind.VectoringExit, Actor.L0, 0));
        Assert.Equal((byte)0xE0, s.Vcpus[0].Injected);
        Assert.True(s.Vcpus[0].Apic.Isr.Test(0xE0));
        Assert.Equal(VcpuPhase.InKernel, s.Vcpus[0].Phase);
        Assert.True(s.Vcpus[0].Requests.HasFlag(KvmRequest.Event));
    }
}
