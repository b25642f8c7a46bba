using NestedApic.Hardware.Apic;
using NestedApic.Hypervisor;
using static NestedApic.Tests.Hypervisor.KvmTestBench;

namespace NestedApic.Tests.Hypervisor;

/// <summary>KVM_SET_LAPIC with the whole saved APIC (issue 11 item 11).</summary>
public class SetLapicRestoreTests
{
    static VectorSet Of(params byte[] v) { var s = new VectorSet(); foreach (var x in v) s.Set(x); return s; }

    static readonly LapicSave X2ApicInService = new() { Name = "x2", Mode = ApicMode.X2Apic, Isr = Of(0xE0), Irr = Of(0x50), Tpr = 0x20 };
    static readonly LapicSave IdModified = new() { Name = "id", Mode = ApicMode.XApic, ApicIdModified = true };

    [Fact]
    public void Restore_ReplacesIrrIsrTpr_APendingBitCanDisappear()
    {
        var c = Config(Policies.Linux70) with { LapicStates = [X2ApicInService, IdModified] };
        var m = Model(c);
        var s = Replay(m, TwoVcpusL1Running);
        s.Vcpus[1].Apic.Irr.Set(0x70);
        s.Vcpus[1].Pid.Post(0x80);
        Step(m, ref s, "vcpu1/user: set-lapic x2");
        Assert.Equal(Of(0x50), s.Vcpus[1].Apic.Irr); // 0x70 is gone, as is 0x80 from PIR
        Assert.True(s.Vcpus[1].Pid.Pir.IsEmpty);
        Assert.Equal(Of(0xE0), s.Vcpus[1].Apic.Isr);
        Assert.Equal(0x20, s.Vcpus[1].Apic.Tpr);
        Assert.Equal(ApicMode.X2Apic, s.Vcpus[1].ApicMode);
        Assert.Equal(0xE0, s.Vcpus[1].Vmcs01.Svi);
    }

    [Fact]
    public void Restore_HostMayGoFromDisabledStraightToX2Apic()
    {
        var c = Config(Policies.Linux70) with { LapicStates = [X2ApicInService] };
        var s = Replay(Model(c), TwoVcpusL1Running);
        X86.SetApicMode(ref s, c, 1, ApicMode.Disabled);
        X86.RestoreLapic(ref s, c, 1, X2ApicInService);
        Assert.Equal(ApicMode.X2Apic, s.Vcpus[1].ApicMode);
    }

    [Fact]
    public void Restore_OfAModifiedXApicId_InhibitsApicv()
    {
        var c = Config(Policies.Linux70) with { LapicStates = [IdModified] };
        var m = Model(c);
        var s = Replay(m, TwoVcpusL1Running.Then("vcpu1/user: set-lapic id"));
        Assert.True(s.Vcpus[1].ApicIdModified);
        Assert.Equal(ApicvInhibit.ApicIdModified.Bit(), s.Inhibits);
    }

    [Theory]
    [InlineData("linux-6.18", true)]
    [InlineData("linux-6.19", false)] // kvm_apic_set_xapic_id on a host x2APIC -> xAPIC write
    public void HostX2ApicToXApic_ResetsTheXApicId_Since619(string preset, bool stillModified)
    {
        var c = Config(Policies.Find(preset)!);
        var s = Replay(Model(c), TwoVcpusL1Running);
        s.Vcpus[1].ApicMode = ApicMode.X2Apic;
        s.Vcpus[1].ApicIdModified = true; // as a restore of a stale xAPIC ID would leave it
        X86.SetApicMode(ref s, c, 1, ApicMode.XApic, hostInitiated: true);
        Assert.Equal(stillModified, s.Vcpus[1].ApicIdModified);
    }
}
