using NestedApic.Hypervisor;
using NestedApic.Scenarios;

namespace NestedApic.Tests.Scenarios;

/// <summary>Issue 7: each vmcs01 field's universe, checked under the rungs KVM did not ship (or
/// shipped before our presets), finds the bug the field's history describes; the shipped rungs hold.</summary>
public class LadderDesignTests
{
    static Universe Load(string name) => Universe.Load(Path.Combine(AppContext.BaseDirectory, "universes", name + ".toml"));

    static CheckReport Run(string universe, Policy policy, int vcpus) =>
        UniverseCheck.Run(Load(universe), policy with { Name = "design" }, vcpus, new UniverseCheck.Settings(1));

    [Theory]
    // Before 2019 vmx_update_cr8_intercept wrote vmcs02: L1 came back with a low threshold and
    // lowered its TPR without the exit KVM needed to inject.
    [InlineData("tpr-threshold-l2", "tpr-threshold", "write-current-vmcs", 2, "interrupt-not-delivered")]
    [InlineData("tpr-threshold-l2", "tpr-threshold", "defer-direct-call", 2, "holds")]
    // Before eb90f3417a0c the TPR-below-threshold exit always raised KVM_REQ_EVENT: no stale threshold.
    [InlineData("tpr-threshold-ppr", "tpr-below-threshold-exit", "request-event", 2, "holds")]
    // vmcs01 written on demand but flushed with KVM_REQ_TLB_FLUSH_CURRENT: L2's context is flushed.
    [InlineData("apic-mode-tlb", "mode-change-tlb-flush", "flush-current", 1, "stale-l1-apic-translation")]
    [InlineData("apic-mode-tlb", "virtual-apic-mode", "write-current-vmcs", 1, "apic-mode-controls-stale")]
    [InlineData("apic-access-page", "apic-access-page", "write-current-vmcs", 2, "vmcs02-not-owned-by-vmcs12")]
    [InlineData("apic-access-page", "apic-access-page", "defer-direct-call", 2, "holds")]
    [InlineData("pml-dirty-logging", "cpu-dirty-logging", "write-current-vmcs", 2, "dirty-page-not-logged")]
    public void Rung_OnTopOfLinux70(string universe, string key, string value, int vcpus, string outcome)
    {
        var sw = Policies.Switches.Single(s => s.Key == key);
        var policy = sw.Set(Policies.Linux70, value)!;
        Assert.Equal(outcome, Run(universe, policy, vcpus).Outcome);
    }

    [Fact]
    public void ApicAccessPage_WriteCurrent_WithoutVmcs12Page_LeavesVmcs01Stale()
    {
        var u = Load("apic-access-page");
        u = u with { Config = u.Config with { Vmcs12s = [u.Config.Vmcs12s[0]] } };
        var policy = Policies.Linux70 with { ApicAccessPage = Vmcs01Update.WriteCurrentVmcs, Name = "design" };
        var r = UniverseCheck.Run(u, policy, 1, new UniverseCheck.Settings(1));
        Assert.Equal("apic-access-addr-stale", r.Outcome);
    }

    [Fact]
    public void TprThresholdPpr_Linux70_TraceEndsInTheStaleEntry()
    {
        var r = UniverseCheck.Run(Load("tpr-threshold-ppr"), Policies.Linux70, 2, new UniverseCheck.Settings(1));
        Assert.Equal("tpr-threshold-stale", r.Property);
        Assert.Equal("vcpu0/L1: cr8-write 0x3", r.Trace[^2].Label);
        Assert.Equal("vcpu0/L0: vm-enter", r.Trace[^1].Label);
        Assert.Contains("TPR_THRESHOLD=5 above VTPR[7:4]=3", r.Explanation);
    }

    [Fact]
    public void ActivationInService_VectoringExit_IsExplored()
    {
        // Variant B of bug #1: with the re-injection path available the search still finds SVI stale
        // under 6.18 and still proves 6.19 clean.
        var u = Load("activation-in-service");
        Assert.True(u.Config.Budget[(int)EventKind.VectoringExit] > 0);
        Assert.Equal("svi-stale", UniverseCheck.Run(u, Policies.Linux618, 2, new UniverseCheck.Settings(1)).Property);
        Assert.Equal("holds", UniverseCheck.Run(u, Policies.Linux619, 2, new UniverseCheck.Settings(1)).Verdict);
    }
}
