using NestedApic.Cli;

namespace NestedApic.Tests.Cli;

public class DiffCommandTests
{
    static (int Code, string Out, string Err) Run(params string[] args)
    {
        var (o, e) = (new StringWriter(), new StringWriter());
        int code = DiffCommand.Run(args, o, e);
        return (code, o.ToString(), e.ToString());
    }

    [Fact]
    public void Bug2Fix_ChangesExactlyTheVmcs01Property()
    {
        var (code, o, _) = Run("seed", "--policy", "linux-6.18", "--policy", "linux-6.19", "--threads", "1");
        Assert.Equal(1, code);
        Assert.Matches(@"vmcs01-apicv-stale +linux-6.18: violated \(7 steps\) +linux-6.19: holds +DIFFERENT", o);
        Assert.Contains("linux-6.18, shortest trace to vmcs01-apicv-stale:", o);
        Assert.Contains("1 property differs", o);
    }

    [Fact]
    public void SameDesign_AgreesEverywhere()
    {
        var (code, o, _) = Run("vcpu-create-race", "--policy", "linux-6.19", "--policy", "linux-7.0");
        Assert.Equal(0, code);
        Assert.Contains("the two designs agree on every property", o);
    }

    [Theory]
    [InlineData(new[] { "seed", "--policy", "linux-6.18" }, "exactly two --policy")]
    [InlineData(new[] { "seed", "--policy", "linux-6.18", "--policy", "linux-0" }, "unknown policy 'linux-0'")]
    public void BadInput_ExitsTwo(string[] args, string message)
    {
        var (code, _, e) = Run(args);
        Assert.Equal(2, code);
        Assert.Contains(message, e);
    }
}
