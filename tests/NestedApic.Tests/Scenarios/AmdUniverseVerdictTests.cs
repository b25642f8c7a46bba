using NestedApic.Hypervisor;
using NestedApic.Hypervisor.Svm;
using NestedApic.Scenarios;

namespace NestedApic.Tests.Scenarios;

/// <summary>The AMD universes found by exploration: why the nested AVIC inhibit exists, that the
/// real presets keep every AVIC property, and the KVM_SET_NESTED_STATE finding.</summary>
public class AmdUniverseVerdictTests
{
    static Universe Load(string name) => Universe.Load(Path.Combine(AppContext.BaseDirectory, "universes", name + ".toml"));

    static CheckReport Check(Universe u, Policy policy, int vcpus = 2) =>
        UniverseCheck.Run(u, policy, vcpus, new UniverseCheck.Settings(1));

    [Fact]
    public void NestedIpi_NoInhibit_DoorbellLandsInL2_ShortestStory()
    {
        var r = Check(Load("amd-nested-ipi"), Policies.NoNestedAvicInhibit);
        Assert.Equal("avic-doorbell-into-l2", r.Property);
        Assert.Equal(["vcpu0/L1: vmrun intercept-intr", "vcpu0/L0: vm-enter", "vcpu1/L1: ipi vcpu0 0xe0"], r.Trace.Select(t => t.Label));
        Assert.Equal(0, r.Vcpu);
        Assert.Contains("while it ran vmcb02", r.Explanation);
    }

    [Theory]
    // 5.18's VM-wide NESTED inhibit keeps AVIC off from the start: more interleavings of IPIs
    // through KVM. The counts are the naive reference search's too (below).
    [InlineData("linux-5.18-svm", 2817)]
    [InlineData("linux-5.19-svm", 2204)]
    [InlineData("linux-7.0-svm", 2204)]
    [InlineData("linux-7.1-svm", 2204)]
    public void NestedIpi_RealPresets_EveryAmdPropertyHolds(string preset, long states)
    {
        var u = Load("amd-nested-ipi");
        var all = u with { Config = u.Config with { CheckedProperties = uint.MaxValue } };
        var r = Check(all, Policies.Find(preset)!);
        Assert.Equal("holds", r.Verdict);
        Assert.StartsWith("no violation: all", r.VerdictLine); // complete, not cut by the depth bound
        Assert.Equal(states, r.Stats.States);
        var model = (SvmModel)UniverseCheck.Build(all, Policies.Find(preset)!, 2).Model;
        Assert.Equal((states, -1), NestedApic.Tests.Checking.ReferenceSearch.Run<SvmModel, KvmState, KvmStep>(model));
    }

    [Fact]
    public void NestedIpi_NoInhibit_WithEveryProperty_RunningInL2ComesFirst()
    {
        var u = Load("amd-nested-ipi");
        var r = Check(u with { Config = u.Config with { CheckedProperties = uint.MaxValue } }, Policies.NoNestedAvicInhibit);
        Assert.Equal("avic-running-in-l2", r.Property);
        Assert.Equal(2, r.Trace.Count);
    }

    [Fact]
    public void NestedIpi_ScanDesign_LosesTheIrrPendingHint()
    {
        var r = Check(Load("amd-nested-ipi"), Policies.Linux70Svm with { Name = "scan", IrrPendingUpdate = IrrPendingUpdate.Scan });
        Assert.Equal("irr-pending-hint-lost", r.Property);
        Assert.Equal(["vcpu0/L1: vmrun intercept-intr", "vcpu0/L0: service-request APICV_UPDATE", "vcpu1/L1: ipi vcpu0 0xe0"], r.Trace.Select(t => t.Label));
    }

    [Fact]
    public void SetNestedState_Linux70_RestoreAfterRunning_EntersL2WithAvicLive()
    {
        var r = Check(Load("amd-set-nested-state"), Policies.Linux70Svm);
        Assert.Equal("avic-running-in-l2", r.Property);
        Assert.Equal(["vcpu0/user: kvm-run", "vcpu0/L0: service-request APICV_UPDATE", "vcpu0/user: exit-to-userspace",
            "vcpu0/user: set-nested-state intercept-intr", "vcpu0/user: kvm-run", "vcpu0/L0: service-request GET_NESTED_STATE_PAGES",
            "vcpu0/L0: vm-enter"], r.Trace.Select(t => t.Label));
        // KVM's own WARN in vcpu_enter_guest fires on the same entry.
        Assert.Contains(r.Trace[^1].Changes, c => c.Contains("BeliefIncoherent"));
    }

    [Fact]
    public void SetNestedState_Linux70_OnlyTheWarn_IsFoundWhenChecked()
    {
        var u = Load("amd-set-nested-state");
        var only = u with { Config = u.Config with { CheckedProperties = 1u << (int)Property.ApicvBeliefIncoherent } };
        var r = Check(only, Policies.Linux70Svm);
        Assert.Equal("apicv-belief-incoherent", r.Property);
        Assert.Equal(7, r.Trace.Count);
    }

    [Theory]
    [InlineData("linux-7.0-svm", "avic-running-in-l2")]
    [InlineData("linux-7.1-svm", "holds")] // 24f7d36b824b: the fix upstream took
    public void SetNestedState_FixedIn71(string preset, string outcome)
    {
        var r = Check(Load("amd-set-nested-state"), Policies.Find(preset)!);
        Assert.Equal(outcome, r.Outcome);
    }

    [Fact]
    public void SetNestedState_DesignFix_Holds()
    {
        var r = Check(Load("amd-set-nested-state"), Policies.Linux70Svm with { Name = "fix", SetNestedStateRequestsApicvUpdate = true });
        Assert.Equal("holds", r.Verdict);
    }

    [Fact]
    public void IntelPresetOnAmdUniverse_IsAnInputError()
    {
        var e = Assert.Throws<InputException>(() => Check(Load("amd-nested-ipi"), Policies.Linux70));
        Assert.Contains("policy 'linux-7.0' describes kvm_intel but the universe is vendor = \"amd\"", e.Message);
    }
}
