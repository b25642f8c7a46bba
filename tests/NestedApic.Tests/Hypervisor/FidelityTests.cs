using NestedApic.Hardware.Apic;
using NestedApic.Hypervisor;
using NestedApic.Hypervisor.Vmx;
using NestedApic.Scenarios;
using static NestedApic.Tests.Hypervisor.KvmTestBench;

namespace NestedApic.Tests.Hypervisor;

/// <summary>Departures the 2026-12 source review found (issue 11 items 3-7), each as KVM has it.</summary>
public class FidelityTests
{
    static readonly string[] L1Disabled = TwoVcpusL1Running.Then("vcpu0/L1: sti", "vcpu0/L1: apic-mode disabled", "vcpu0/L0: enter-guest");

    [Fact]
    public void GuestWrmsr_DisabledToX2Apic_IsRefused_OnlyXApicIsEnabled()
    {
        var m = Model(Config(Policies.Linux70));
        var s = Replay(m, L1Disabled);
        var e = Assert.Throws<InputException>(() => Replay(m, L1Disabled.Then("vcpu0/L1: apic-mode x2apic")));
        Assert.Contains("vcpu0/L1: apic-mode xapic", e.Message);
        Assert.Equal(ApicMode.Disabled, s.Vcpus[0].ApicMode);
    }

    [Fact]
    public void EnablingTheApic_ResetsTheXApicId_ClearingApicIdModified()
    {
        var c = Config(Policies.Linux70);
        var m = Model(c);
        var s = Replay(m, TwoVcpusL1Running.Then("vcpu0/L1: apic-id-write modified"));
        Assert.True(s.Vcpus[0].ApicIdModified);
        X86.SetApicMode(ref s, c, 0, ApicMode.Disabled);
        X86.SetApicMode(ref s, c, 0, ApicMode.XApic); // kvm_apic_set_xapic_id(apic, vcpu->vcpu_id)
        Assert.False(s.Vcpus[0].ApicIdModified);
        Assert.Equal(0, s.Inhibits & ApicvInhibit.ApicIdModified.Bit());
    }

    [Theory]
    [InlineData("linux-5.17", false)]
    [InlineData("linux-5.18", false)]
    [InlineData("linux-6.18", true)] // 982caaa11504 (6.14)
    [InlineData("linux-7.0", true)]
    public void NestedVmexit_RequestsEvent_ForAnInjectableInterrupt_Since982caaa11504(string preset, bool requested)
    {
        var c = Config(Policies.Find(preset)!) with { EnableApicv = false };
        var s = Replay(Model(c), TwoVcpusL1Running.Then("vcpu0/L1: vmlaunch apic-passthrough", "vcpu0/L0: enter-guest"));
        s.Vcpus[0].Apic.Irr.Set(0xE0);
        s.Vcpus[0].Requests = 0;
        Nested.VmExit(ref s, c, 0, failed: false);
        Assert.Equal(requested, (s.Vcpus[0].Requests & KvmRequest.Event) != 0);
    }

    [Fact]
    public void NestedVmexit_NoEvent_WhenL1HasApicvActive_KvmCpuHasInjectableIntrIsFalse()
    {
        var c = Config(Policies.Linux70);
        var s = Replay(Model(c), TwoVcpusL1Running.Then("vcpu0/L1: vmlaunch apic-passthrough", "vcpu0/L0: enter-guest"));
        Assert.True(s.Vcpus[0].ApicvActive);
        s.Vcpus[0].Apic.Irr.Set(0xE0);
        s.Vcpus[0].Requests = 0;
        Nested.VmExit(ref s, c, 0, failed: false);
        Assert.Equal(0, (int)(s.Vcpus[0].Requests & KvmRequest.Event));
    }

    static readonly Vmcs12 Vid = new()
    {
        Name = "vid", Pin = 0x1, Primary = 0x80200000, Secondary = 0x201, Exit = 0x8000, PostedIntrNv = 0xF0,
    };

    [Fact]
    public void Vmcs02Svi_IsL2sFieldWithVid_L1sSviThereBreaksOwnership_WithoutVidTheCpuIgnoresIt()
    {
        var c = Config(Policies.Linux517) with { Vmcs12s = [NoTprShadow, Passthrough, Vid] };
        var m = Model(c);
        var s = Replay(m, TwoVcpusL1Running.Then("vcpu0/L1: vmlaunch vid", "vcpu0/L0: enter-guest"));
        Assert.True(s.Vcpus[0].RunningL2);
        Assert.False(m.Breaks(s, 0, Property.Vmcs02NotOwnedByVmcs12));
        s.Vcpus[0].Vmcs02.SetSvi(0xE0); // what 5.17's vmx_hwapic_isr_update writes for L1
        Assert.True(m.Breaks(s, 0, Property.Vmcs02NotOwnedByVmcs12));

        s = Replay(m, TwoVcpusL1Running.Then("vcpu0/L1: vmlaunch apic-passthrough", "vcpu0/L0: enter-guest"));
        s.Vcpus[0].Vmcs02.SetSvi(0xE0); // no VID in vmcs12: the CPU never reads it
        Assert.False(m.Breaks(s, 0, Property.Vmcs02NotOwnedByVmcs12));
    }

    [Theory]
    [InlineData("linux-5.18", false)] // no WARN before 04bc93cf49d1
    [InlineData("linux-6.18", true)]  // 04bc93cf49d1
    [InlineData("linux-6.19", false)] // b2849bec936b dropped it
    public void SviUpdate_InKvmRun_WithL2AndVidInVmcs12_Warns_WhereThePresetHasIt(string preset, bool warns)
    {
        var c = Config(Policies.Find(preset)!) with { Vmcs12s = [NoTprShadow, Passthrough, Vid] };
        var m = Model(c);
        var s = Replay(m, TwoVcpusL1Running.Then("vcpu0/L1: vmlaunch vid"));
        Assert.Equal(VcpuPhase.InKernel, s.Vcpus[0].Phase); // in KVM_RUN
        VmxOps.HwapicIsrUpdate(ref s, c, 0, 0xE0);
        Assert.Equal(warns, m.Breaks(s, 0, Property.KvmWarned));

        s = Replay(m, TwoVcpusL1Running.Then("vcpu0/L1: vmlaunch vid"));
        s.Vcpus[0].Phase = VcpuPhase.Userspace; // KVM_SET_LAPIC: !wants_to_run
        VmxOps.HwapicIsrUpdate(ref s, c, 0, 0xE0);
        Assert.False(m.Breaks(s, 0, Property.KvmWarned));
    }

    [Fact]
    public void EnableApicvOff_DisableReasonForTheVmsLife_FirstEntryIsCoherent()
    {
        var c = Config(Policies.Linux70) with { EnableApicv = false };
        var m = Model(c);
        var s = Replay(m, TwoVcpusL1Running);
        Assert.True(s.Vcpus[0].RunningL1);
        Assert.False(s.Vcpus[0].ApicvActive);
        Assert.False(m.Breaks(s, 0, Property.ApicvBeliefIncoherent));
        Assert.Equal(ApicvInhibit.Disabled.Bit(), X86.InhibitReasons(s, c));
        Assert.Contains("DISABLED", KvmReport.Fields(c, s, (in VcpuState _, Action<string, string> _) => { }).First().Value);
    }

    [Fact]
    public void Reset_AtVcpuCreation_RunsKvmLapicReset_IrrPendingScannedWithApicvInactive()
    {
        // linux-5.18-svm: AVIC inhibited VM-wide (NESTED) once a vCPU exists, so without 423ecfea77dd
        // a second vCPU starts with apicv_active false; with the b26a695a1d78 scan, kvm_apic_update_apicv finds IRR empty.
        var p = Policies.Linux518Svm with { CreateVcpuPendsRequest = false, IrrPendingUpdate = IrrPendingUpdate.Scan };
        var m = Svm.SvmTestBench.Model(Svm.SvmTestBench.Config(p));
        var s = Svm.SvmTestBench.Replay(m, "vcpu0/user: create-vcpu", "vcpu0/user: publish-vcpu", "vcpu1/user: create-vcpu");
        Assert.False(s.Vcpus[1].ApicvActive); // vCPU 0's creation set NESTED
        Assert.True(s.Vcpus[1].Svm.IrrNotPending);
    }

    [Fact]
    public void VmWideEvents_BeforeTheFirstVcpu_AreEnabled_AndAVcpuCreatedLaterReadsTheVmsState()
    {
        var m = Model(Config(Policies.Linux70));
        var s = Replay(m, "vcpu0/user: dirty-logging on", "vcpu0/L0: apic-page-migrate",
            "vcpu0/user: create-vcpu", "vcpu0/user: publish-vcpu", "vcpu0/L0: enter-guest");
        Assert.True(s.DirtyLogging);
        Assert.True(s.Vcpus[0].Vmcs01.Pml);                       // init_vmcs read nr_memslots_dirty_logging
        Assert.Equal(s.ApicAccessPage + 1, s.Vcpus[0].Vmcs01.ApicAccessPage); // vmx_vcpu_reset's reload
    }

    [Fact]
    public void EveryInhibitReasonOfAModelledRelease_Exists()
    {
        // 5.17's #defines, the 6.3+ enum, and PHYSICAL_ID_TOO_BIG (1aa6e256e46f, 6.17)
        string[] kvm = ["DISABLED", "HYPERV", "ABSENT", "BLOCKIRQ", "PHYSICAL_ID_ALIASED", "APIC_ID_MODIFIED", "APIC_BASE_MODIFIED",
            "NESTED", "IRQWIN", "PIT_REINJ", "SEV", "LOGICAL_ID_ALIASED", "PHYSICAL_ID_TOO_BIG", "X2APIC"];
        var model = Enum.GetValues<ApicvInhibit>().Select(r => ApicvInhibits.Describe(r.Bit()).Trim('{', '}')).ToArray();
        Assert.Equal(kvm.Order(), model.Order());
    }
}
