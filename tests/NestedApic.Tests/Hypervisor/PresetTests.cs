using NestedApic.Cli;
using NestedApic.Hypervisor;

namespace NestedApic.Tests.Hypervisor;

/// <summary>The presets as the releases have them, and retired preset names.</summary>
public class PresetTests
{
    [Fact]
    public void Linux71_Is70ForEveryModelledIntelField_Linux72AddsBb365a506b1e()
    {
        Assert.Equal(Policies.Linux70 with { Name = "linux-7.1" }, Policies.Linux71);
        Assert.False(Policies.Linux71.Cr8InterceptOnPprUpdate); // 7.1.3 lacks it
        Assert.Equal(Policies.Linux71 with { Name = "linux-7.2", Cr8InterceptOnPprUpdate = true }, Policies.Linux72);
    }

    [Fact]
    public void Linux71Svm_Is70SvmWith24f7d36b824b()
    {
        Assert.Equal(Policies.Linux70Svm with { Name = "linux-7.1-svm", SetNestedStateRequestsApicvUpdate = true }, Policies.Linux71Svm);
        Assert.False(Policies.Linux519Svm.LeaveNestedRequestsApicvUpdate);
        Assert.True(Policies.Linux70Svm.LeaveNestedRequestsApicvUpdate);
    }

    [Fact]
    public void OldPresetName_IsGone_AndTheErrorNamesTheNewOne()
    {
        Assert.Null(Policies.Find("linux-7.1.y"));
        Assert.Equal("policy 'linux-7.1.y' was renamed 'linux-7.2' (bb365a506b1e is mainline 7.2; 7.1.3 does not have it)", Policies.Unknown("linux-7.1.y"));
    }

    [Fact]
    public void Check_WithTheOldPresetName_Exit2NamingTheNewOne()
    {
        var (o, e) = (new StringWriter(), new StringWriter());
        int code = CheckCommand.Run(["seed", "--policy", "linux-7.1.y"], o, e);
        Assert.Equal(2, code);
        Assert.Single(e.ToString().Trim().Split('\n'));
        Assert.Contains("'linux-7.2'", e.ToString());
    }

    [Fact]
    public void Universe_ExpectingTheOldPresetName_IsAnInputErrorNamingTheNewOne()
    {
        var e = Assert.Throws<NestedApic.Scenarios.Toml.TomlException>(() => NestedApic.Scenarios.Universe.Parse(
            "name = \"t\"\nvendor = \"intel\"\n[expect]\n\"linux-7.1.y\" = \"holds\"\n", "t.toml"));
        Assert.Contains("renamed 'linux-7.2'", e.Message);
    }
}
