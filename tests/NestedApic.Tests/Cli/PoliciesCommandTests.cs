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
    }

    [Fact]
    public void EveryPreset_RoundTripsThroughItsSwitches()
    {
        foreach (var p in Policies.Presets)
        {
            var rebuilt = Policies.Switches.Aggregate(Policies.Linux517 with { Name = p.Name }, (acc, s) => s.Set(acc, s.Get(p))!);
            Assert.Equal(p, rebuilt);
        }
    }
}
