using NestedApic.Hypervisor;
using NestedApic.Scenarios;

namespace NestedApic.Tests.Scenarios;

/// <summary>The universes added for issue 11, under the presets that decide them.</summary>
public class FidelityUniverseVerdictTests
{
    static CheckReport Check(string universe, string preset) =>
        UniverseCheck.Run(Universe.Load(Path.Combine(AppContext.BaseDirectory, "universes", universe + ".toml")),
            Policies.Find(preset)!, 2, new UniverseCheck.Settings(1));

    [Theory]
    [InlineData("l2-irq-injection", "linux-5.17", "interrupt-not-delivered")]
    [InlineData("l2-irq-injection", "linux-5.18", "interrupt-not-delivered")]
    [InlineData("l2-irq-injection", "linux-6.18", "holds")] // 982caaa11504
    [InlineData("l2-irq-injection", "linux-7.2", "holds")]
    [InlineData("set-lapic-restore", "linux-6.18", "svi-stale")]
    [InlineData("set-lapic-restore", "linux-6.19", "holds")]
    [InlineData("vm-wide-before-vcpu", "linux-5.17", "holds")]
    [InlineData("vm-wide-before-vcpu", "linux-7.2", "holds")]
    [InlineData("ipi-virtualization", "linux-5.18", "holds")]
    [InlineData("ipi-virtualization", "linux-6.18", "interrupt-to-disabled-apic")]
    [InlineData("ipi-virtualization", "linux-7.2", "interrupt-to-disabled-apic")]
    [InlineData("init-reset", "linux-5.17", "holds")]
    [InlineData("init-reset", "linux-7.2", "holds")]
    public void NewUniverse_GivesTheReleasesVerdict(string universe, string preset, string outcome)
    {
        var r = Check(universe, preset);
        Assert.Equal(outcome, r.Outcome);
        Assert.True(r.MeetsExpectation);
    }

    [Fact]
    public void InitReset_ADesignThatDropsTheResetsSviUpdate_IsCaught()
    {
        var u = Universe.Load(Path.Combine(AppContext.BaseDirectory, "universes", "init-reset.toml"));
        var r = UniverseCheck.Run(u with { Expect = new Dictionary<string, string>() },
            Policies.Linux70 with { Name = "drop-reset-svi", LapicResetUpdatesSvi = false }, 2, new UniverseCheck.Settings(1));
        Assert.Equal("svi-stale", r.Outcome);
        Assert.Contains(r.Trace, t => t.Label == "vcpu0/L1: vmx off");
        Assert.Contains(r.Trace, t => t.Label == "vcpu1/L1: init vcpu0");
    }

    [Theory]
    [InlineData("linux-6.18")]
    [InlineData("linux-7.2")]
    public void IpiVirtualization_WithoutApicModeChanges_TheL2PathsHold(string preset)
    {
        var u = Universe.Load(Path.Combine(AppContext.BaseDirectory, "universes", "ipi-virtualization.toml"));
        var r = UniverseCheck.Run(u with { Config = u.Config.WithBudget(NestedApic.Hypervisor.EventKind.ApicModeSwitch, 0), Expect = new Dictionary<string, string>() },
            Policies.Find(preset)!, 2, new UniverseCheck.Settings(1));
        Assert.Equal("holds", r.Outcome);
        Assert.True(r.Stats.States > 100);
    }

    [Fact]
    public void L2IrqInjection_517_TheShortestTraceLosesTheWindowAtTheNestedExit()
    {
        var r = Check("l2-irq-injection", "linux-5.17");
        Assert.Equal(7, r.Trace.Count);
        Assert.Contains(r.Trace, t => t.Label == "vcpu0/L2: vmcall");
        Assert.Contains(r.Trace[3].Changes, ch => ch.StartsWith("vcpu0.vmcs02.irq_window: 0 → 1"));
    }
}
