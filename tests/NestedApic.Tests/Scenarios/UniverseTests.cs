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
        Assert.Equal("linux-6.18:apicv-refresh=vmcs01-on-demand", u.Config.Policy.Name);
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
    [InlineData("vendor = \"arm\"\n", "t.toml:1:10: key 'vendor': unknown vendor 'arm'; known: intel, amd")]
    [InlineData("vendor = \"amd\"\n[policy]\npreset = \"linux-7.0\"\n", "t.toml:3:10: key 'policy.preset': policy 'linux-7.0' describes kvm_intel but vendor = \"amd\"; use one of: linux-5.18-svm")]
    [InlineData("[policy]\npreset = \"linux-7.0-svm\"\n", "t.toml:2:10: key 'policy.preset': policy 'linux-7.0-svm' describes kvm_amd but vendor = \"intel\"; use one of: linux-5.17")]
    [InlineData("vendor = \"amd\"\n[[vmcs12]]\nname = \"x\"\n", "t.toml:2:1: key 'vmcs12': an AMD universe describes L2 with [[vmcb12]]")]
    [InlineData("vendor = \"amd\"\n[events]\nvmlaunch = 1\n", "t.toml:3:12: key 'events.vmlaunch': unknown event 'vmlaunch' for vendor amd; known: create-vcpu")]
    [InlineData("vendor = \"amd\"\nproperties = [\"svi-stale\"]\n", "t.toml:2:15: key 'properties[0]': unknown property for vendor amd; known: kvm-caused-vmentry-failure")]
    [InlineData("vendor = \"amd\"\n[policy]\napicv-refresh = \"defer-direct-call\"\n", "t.toml:3:17: key 'policy.apicv-refresh': unknown policy switch 'apicv-refresh' for vendor amd")]
    [InlineData("vendor = \"amd\"\n[expect]\n\"linux-7.0\" = \"holds\"\n", "t.toml:3:15: key 'expect.\"linux-7.0\"': unknown preset 'linux-7.0' for vendor amd")]
    [InlineData("vendor = \"amd\"\n[[vmcb12]]\nname = \"x\"\nintercept-intr = true\nintercept-misc1 = 1\n", "t.toml:4:18: key 'vmcb12[0].intercept-intr': give intercept-intr or intercept-misc1, not both")]
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
