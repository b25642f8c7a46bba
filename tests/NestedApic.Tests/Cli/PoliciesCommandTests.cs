using NestedApic.Cli;
using NestedApic.Hypervisor;

namespace NestedApic.Tests.Cli;

public class PoliciesCommandTests
{
    [Fact]
    public void ListsEveryPresetAndSwitch_OneLineEach()
    {
        var (o, e) = (new StringWriter(), new StringWriter());
        Assert.Equal(0, PoliciesCommand.Run([], o, e));
        var lines = o.ToString().Split('\n');
        foreach (var p in Policies.Presets) Assert.Single(lines, l => l.TrimStart().StartsWith(p.Name + " "));
        foreach (var s in Policies.Switches) Assert.Single(lines, l => l.TrimStart().StartsWith(s.Key + " "));
        Assert.Contains("apicv-refresh=write-current-vmcs", o.ToString());
        // Each preset line shows its own vendor's switches and the common ones only.
        Assert.Single(lines, l => l.TrimStart().StartsWith("linux-5.18-svm ") && l.Contains("nested-avic-inhibit=vm-wide") && !l.Contains("apicv-refresh="));
        Assert.Single(lines, l => l.TrimStart().StartsWith("linux-7.0 ") && !l.Contains("nested-avic-inhibit="));
        Assert.Single(lines, l => l.TrimStart().StartsWith("no-nested-avic-inhibit ") && l.Contains("nested-avic-inhibit=none"));
    }

    [Fact]
    public void EveryPreset_RoundTripsThroughItsSwitches()
    {
        foreach (var p in Policies.Presets)
        {
            // The vendor is what the preset describes, not a switch.
            var rebuilt = Policies.Switches.Aggregate(Policies.Linux517 with { Name = p.Name, Vendor = p.Vendor }, (acc, s) => s.Set(acc, s.Get(p))!);
            Assert.Equal(p, rebuilt);
        }
    }
}
