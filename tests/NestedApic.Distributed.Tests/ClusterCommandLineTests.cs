using NestedApic.Cli;

namespace NestedApic.Distributed.Tests;

/// <summary>Bad --cluster arguments: one line naming what is wrong, exit 2, before any silo starts.</summary>
public class ClusterCommandLineTests
{
    static (int Code, string Out, string Err) Run(params string[] args)
    {
        var (o, e) = (new StringWriter(), new StringWriter());
        var io = new Io(TextReader.Null, o, e);
        return (Cli.Cli.Invoke(Cli.Cli.Root(io), args, io), o.ToString(), e.ToString());
    }

    [Theory]
    [InlineData("local:0", "local:N needs N in 1..64")]
    [InlineData("dev:80", "dev:PORT needs PORT in 1024..65000")]
    [InlineData("redis://x", "expected local:N, dev:PORT or postgres://")]
    [InlineData("postgres://u@h/db?silo=2", "unknown parameter 'silo'")]
    [InlineData("postgres://u@h", "expected postgres://USER")]
    public void A_bad_spec_is_one_line_and_exit_2(string spec, string message)
    {
        var (code, output, err) = Run("check", "seed", "--cluster", spec);
        Assert.Equal(2, code);
        Assert.Equal("", output);
        Assert.Contains(message, err);
        Assert.Single(err.Trim().Split('\n'));
    }

    [Theory]
    [InlineData("--cluster needs a universe", "check", "--cluster", "local:2")]
    [InlineData("--from is not supported with --cluster", "check", "seed", "--from", "x.scn", "--cluster", "local:2")]
    [InlineData("no built-in universe 'nope'", "check", "nope", "--cluster", "local:2")]
    [InlineData("local:N is for `check`", "silo", "--cluster", "local:2")]
    [InlineData("--address 'x': not an IP address", "silo", "--cluster", "dev:20000", "--address", "x")]
    public void Arguments_the_cluster_cannot_take_are_exit_2(string message, params string[] args)
    {
        var (code, _, err) = Run(args);
        Assert.Equal(2, code);
        Assert.Contains(message, err);
        Assert.Single(err.Trim().Split('\n'));
    }
}
