using NestedApic.Hypervisor;
using NestedApic.Scenarios;
using NestedApic.Scenarios.Toml;

namespace NestedApic.Tests.Scenarios;

public class UniverseTests
{
    const string Minimal = """
        name = "t"
        vcpus = 2
        setup = ["vcpu*/user: create-vcpu", "vcpu*/user: publish-vcpu", "vcpu0/L0: enter-guest"]

        [policy]
        preset = "linux-6.18"
        apicv-refresh = "vmcs01-on-demand"

        [[vmcs12]]
        name = "plain"

        [events]
        vmlaunch = 1

        [expect]
        "linux-6.18" = "holds"
        "linux-5.17@1" = "svi-stale"
        """;

    [Fact]
    public void Parses_PolicyOverride_Vmcs12_Budget_Expectations()
    {
        var u = Universe.Parse(Minimal, "t.toml");
        Assert.Equal("t", u.Name);
        Assert.Equal(Vmcs01Update.OnDemandVmcs01, u.Config.Policy.ApicvRefresh);
        Assert.Equal(Vmcs01Update.DeferDirectCall, u.Config.Policy.SviUpdate);
        Assert.Equal("linux-6.18+overrides", u.Config.Policy.Name);
        Assert.Equal("plain", Assert.Single(u.Config.Vmcs12s).Name);
        Assert.Equal(1, u.Config.Budget[(int)EventKind.VmLaunch]);
        Assert.Equal("holds", u.ExpectationFor("linux-6.18", 2));
        Assert.Equal("svi-stale", u.ExpectationFor("linux-5.17", 1));
        Assert.Null(u.ExpectationFor("linux-5.17", 2));
    }

    [Fact]
    public void Setup_BuildsTheInitialState()
    {
        var u = Universe.Parse(Minimal, "t.toml");
        var s = Setup.Build(u, u.Config);
        Assert.Equal(VcpuLife.Visible, s.Vcpus[1].Life);
        Assert.Equal(VcpuPhase.InGuest, s.Vcpus[0].Phase);
        Assert.Equal(VcpuPhase.Userspace, s.Vcpus[1].Phase);
        Assert.Equal(0, s.Used[(int)EventKind.KvmRun]);
    }

    [Theory]
    [InlineData("[policy]\npreset = \"linux-9.9\"\n", "t.toml:2:10: key 'policy.preset': unknown policy 'linux-9.9'")]
    [InlineData("[policy]\napicv-refresh = \"sometimes\"\n", "t.toml:2:17: key 'policy.apicv-refresh': 'sometimes' is not a value of apicv-refresh")]
    [InlineData("[policy]\nturbo = true\n", "t.toml:2:9: key 'policy.turbo': unknown policy switch 'turbo'")]
    [InlineData("vcpus = 9\n", "t.toml:1:9: key 'vcpus': 9 is out of range 1..4")]
    [InlineData("[events]\nteleport = 1\n", "t.toml:2:12: key 'events.teleport': unknown event 'teleport'")]
    [InlineData("[events]\nvm-enter = 1\n", "unknown event 'vm-enter'")]
    [InlineData("[expect]\n\"linux-7.0\" = \"works\"\n", "unknown expectation 'works'")]
    [InlineData("vendor = \"amd\"\n", "t.toml:1:10: key 'vendor': vendor 'amd' is not modelled yet")]
    [InlineData("colour = 1\n", "t.toml:1:1: key 'colour': unknown key")]
    public void BadInput_NamesFileLineAndKey(string text, string expected)
    {
        var e = Assert.Throws<TomlException>(() => Universe.Parse(text, "t.toml"));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void SetupStepNotEnabled_NamesLineAndListsEnabledSteps()
    {
        var u = Universe.Parse("setup = [\n  \"vcpu0/user: kvm-run\",\n]\n", "t.toml");
        var e = Assert.Throws<InputException>(() => Setup.Build(u, u.Config));
        Assert.StartsWith("t.toml:2: step 'vcpu0/user: kvm-run' is not enabled here; enabled: vcpu0/user: create-vcpu", e.Message);
    }

    [Fact]
    public void ShippedUniverses_AllLoadAndBuild()
    {
        var dir = Path.Combine(AppContext.BaseDirectory, "universes");
        var files = Directory.GetFiles(dir, "*.toml");
        Assert.NotEmpty(files);
        foreach (var f in files)
        {
            var u = Universe.Load(f);
            foreach (int n in u.SuiteVcpus) Setup.Build(u, u.Config with { Vcpus = n });
        }
    }
}
