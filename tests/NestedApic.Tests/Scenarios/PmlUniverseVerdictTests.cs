using NestedApic.Cli;
using NestedApic.Hypervisor;
using NestedApic.Scenarios;

namespace NestedApic.Tests.Scenarios;

/// <summary>The PML universes (docs/findings.md): the Intel creation race with and without
/// KVM_SET_CPUID2, the AMD PML series v5 as posted, its Intel side, and the designs that fix them.
/// Every counterexample is saved and replayed with `run`.</summary>
public class PmlUniverseVerdictTests
{
    static Universe Load(string name) => Universe.Load(Path.Combine(AppContext.BaseDirectory, "universes", name + ".toml"));

    static CheckReport Check(string universe, Policy policy, int? vcpus = null)
    {
        var u = Load(universe);
        return UniverseCheck.Run(u, policy, vcpus ?? u.Config.Vcpus, new UniverseCheck.Settings(1));
    }

    public static TheoryData<string> IntelReleases => new() { "linux-5.17", "linux-5.18", "linux-6.18", "linux-6.19", "linux-7.0", "linux-7.1", "linux-7.2" };

    [Theory]
    [MemberData(nameof(IntelReleases))]
    public void CreationRace_WithoutSetCpuid_EveryReleaseLosesTheWrite(string preset)
    {
        var r = Check("pml-creation-race", Policies.Find(preset)!);
        Assert.Equal("dirty-page-not-logged", r.Property);
        Assert.Equal(1, r.Vcpu);
        // Created, then logging on before publication, then run: the request never reached it.
        var labels = r.Trace.Select(t => t.Label).ToList();
        Assert.Equal(["vcpu1/user: create-vcpu", "vcpu0/user: dirty-logging on", "vcpu1/user: publish-vcpu", "vcpu1/user: kvm-run"], labels.Take(4));
        Assert.Equal("vcpu1/L1: guest-write", labels[^1]);
        Assert.DoesNotContain(labels, l => l.Contains("UPDATE_CPU_DIRTY_LOGGING"));
    }

    [Theory]
    [MemberData(nameof(IntelReleases))]
    public void CreationRace_WithSetCpuidBeforeRun_EveryReleaseHolds(string preset)
    {
        var r = Check("pml-creation-race-cpuid", Policies.Find(preset)!);
        Assert.Equal("holds", r.Verdict);
        Assert.True(r.Stats.States > 50);
    }

    [Fact]
    public void CreationRace_RequestAtCreation_Holds()
    {
        var r = Check("pml-creation-race", Policies.PmlCreateRequest);
        Assert.Equal("holds", r.Verdict);
    }

    [Fact]
    public void AmdV5_Create_LosesTheWrite_AndUpstreamAndTheFixHold()
    {
        var r = Check("amd-pml-create", Policies.AmdPmlV5);
        Assert.Equal("dirty-page-not-logged", r.Property);
        Assert.Equal(7, r.Trace.Count);
        Assert.Equal("holds", Check("amd-pml-create", Policies.Linux70Svm).Verdict);
        Assert.Equal("holds", Check("amd-pml-create", Policies.AmdPmlV5Fixed).Verdict);
    }

    [Fact]
    public void AmdV5_SetCpuidDoesNotRescue()
    {
        var r = Check("amd-pml-create-cpuid", Policies.AmdPmlV5);
        Assert.Equal("dirty-page-not-logged", r.Property);
        Assert.Contains(r.Trace, t => t.Label == "vcpu1/user: set-cpuid");
        Assert.Equal("holds", Check("amd-pml-create-cpuid", Policies.AmdPmlV5Fixed).Verdict);
    }

    [Fact]
    public void AmdV5_LoggingTurnedOnWhileL2Runs_PmlLandsInVmcb02()
    {
        var r = Check("amd-pml-nested", Policies.AmdPmlV5);
        Assert.Equal("dirty-page-not-logged", r.Property);
        Assert.Equal(["vcpu0/L1: vmrun intercept-intr", "vcpu0/L0: service-request APICV_UPDATE", "vcpu0/L0: apicv-refresh",
            "vcpu0/L0: service-request EVENT", "vcpu0/user: dirty-logging on", "vcpu0/L0: service-request UPDATE_CPU_DIRTY_LOGGING",
            "vcpu0/L0: vm-enter", "vcpu0/L2: vmmcall", "vcpu0/L0: vm-enter", "vcpu0/L1: guest-write"], r.Trace.Select(t => t.Label));
        Assert.Contains(r.Trace[7].Changes, c => c.Contains("vmcb02.nested_ctl") && c.EndsWith("PML_ENABLE=1"));
    }

    [Theory]
    [InlineData(PendingDirtyLoggingUpdate.AfterVmcb01Switch)]
    [InlineData(PendingDirtyLoggingUpdate.LeaveGuestModeRequest)]
    [InlineData(PendingDirtyLoggingUpdate.WriteVmcb01)]
    public void AmdV5_Nested_EitherPlacementAfterTheSwitch_Holds(PendingDirtyLoggingUpdate placement)
    {
        var r = Check("amd-pml-nested", Policies.AmdPmlV5 with { Name = "placement", PendingDirtyLoggingUpdate = placement });
        Assert.Equal("holds", r.Verdict);
    }

    [Fact]
    public void IntelV5_CommonDeferral_LosesL1sWritesAfterTheNestedExit_And619Holds()
    {
        var r = Check("pml-dirty-logging", Policies.IntelPmlV5, vcpus: 1);
        Assert.Equal("dirty-page-not-logged", r.Property);
        Assert.Equal(["vcpu0/L1: vmlaunch no-apic-virt", "vcpu0/user: dirty-logging on", "vcpu0/L0: service-request UPDATE_CPU_DIRTY_LOGGING",
            "vcpu0/L0: vm-enter", "vcpu0/L2: vmcall", "vcpu0/L0: vm-enter", "vcpu0/L1: guest-write"], r.Trace.Select(t => t.Label));
        Assert.Equal("holds", Check("pml-dirty-logging", Policies.Linux619, vcpus: 1).Verdict);
        Assert.Equal("holds", Check("pml-dirty-logging", Policies.IntelPmlV5 with { Name = "request", PendingDirtyLoggingUpdate = PendingDirtyLoggingUpdate.LeaveGuestModeRequest }, vcpus: 1).Verdict);
    }

    [Theory]
    [InlineData("pml-creation-race", "linux-7.0")]
    [InlineData("amd-pml-create", "amd-pml-v5")]
    [InlineData("amd-pml-create-cpuid", "amd-pml-v5")]
    [InlineData("amd-pml-nested", "amd-pml-v5")]
    [InlineData("pml-dirty-logging", "intel-pml-v5")]
    public void Counterexample_ReplaysWithRun(string universe, string preset)
    {
        string f = Path.Combine(Directory.CreateTempSubdirectory().FullName, "trace.scn");
        var (o, e) = (new StringWriter(), new StringWriter());
        Assert.Equal(0, CheckCommand.Run([universe, "--policy", preset, "--threads", "1", "--save-trace", f], o, e));
        Assert.EndsWith("expect violated dirty-page-not-logged\n", File.ReadAllText(f));
        var (ro, re) = (new StringWriter(), new StringWriter());
        Assert.Equal(0, RunCommand.Run([f], ro, re));
        Assert.Contains("expect violated dirty-page-not-logged: ok", ro.ToString());
    }
}
