using NestedApic.Scenarios.Toml;

namespace NestedApic.Tests.Scenarios.Toml;

using Toml = NestedApic.Scenarios.Toml.Toml;

public class TomlAccessorTests
{
    private const string Universe = """
        name = "smoke"
        vcpus = 9
        trace = false

        [events]
        ipi = { weight = 2 }
        timer = "yes"
        kinds = ["ipi", "timer"]
        ratio = 3

        [[vm]]
        policy = "linux-9.9"
        vcpu = 2
        """;

    private static TomlTable U() => Toml.Parse(Universe, "u.toml");

    private static string Msg(Action a) => Assert.Throws<TomlException>(a).Message;

    [Fact]
    public void ValuesOfTheRightType()
    {
        var u = U();
        Assert.Equal("smoke", u.GetString("name"));
        Assert.Equal("smoke", u.GetStringOrNull("name"));
        Assert.Null(u.GetStringOrNull("missing"));
        Assert.Equal(9, u.GetInteger("vcpus", 1, 64));
        Assert.Equal(7, u.GetIntegerOr("missing", 7, 1, 64));
        Assert.False(u.GetBoolean("trace"));
        Assert.True(u.GetBooleanOr("missing", true));
        Assert.Equal(3.0, u.GetTable("events").GetFloat("ratio"));
        Assert.Equal(0.5, u.GetFloatOr("missing", 0.5));
        Assert.Null(u.GetTableOrNull("missing"));
        Assert.Null(u.GetArrayOrNull("missing"));
        Assert.Equal(2, u.GetTable("events").GetArray("kinds").Count);
        Assert.Equal(2, u.GetTable("events").GetTable("ipi").GetInteger("weight", 0, 10));
    }

    [Fact]
    public void OutOfRange() =>
        Assert.Equal("u.toml:2:9: key 'vcpus': 9 is out of range 1..4", Msg(() => U().GetInteger("vcpus", 1, 4)));

    [Fact]
    public void OutOfRangeWithDefaultAccessor() =>
        Assert.Equal("u.toml:2:9: key 'vcpus': 9 is out of range 1..4", Msg(() => U().GetIntegerOr("vcpus", 1, 1, 4)));

    [Fact]
    public void WrongTypes()
    {
        var u = U();
        var events = u.GetTable("events");
        Assert.Equal("u.toml:1:8: key 'name': expected an integer, found a string", Msg(() => u.GetInteger("name", 0, 1)));
        Assert.Equal("u.toml:7:9: key 'events.timer': expected a boolean, found a string", Msg(() => events.GetBoolean("timer")));
        Assert.Equal("u.toml:7:9: key 'events.timer': expected a boolean, found a string", Msg(() => events.GetBooleanOr("timer", true)));
        Assert.Equal("u.toml:6:7: key 'events.ipi': expected a string, found a table", Msg(() => events.GetString("ipi")));
        Assert.Equal("u.toml:6:7: key 'events.ipi': expected a string, found a table", Msg(() => events.GetStringOrNull("ipi")));
        Assert.Equal("u.toml:8:9: key 'events.kinds': expected a table, found an array", Msg(() => events.GetTable("kinds")));
        Assert.Equal("u.toml:8:9: key 'events.kinds': expected a table, found an array", Msg(() => events.GetTableOrNull("kinds")));
        Assert.Equal("u.toml:3:9: key 'trace': expected an array, found a boolean", Msg(() => u.GetArray("trace")));
        Assert.Equal("u.toml:3:9: key 'trace': expected an array, found a boolean", Msg(() => u.GetArrayOrNull("trace")));
        Assert.Equal("u.toml:1:8: key 'name': expected a float, found a string", Msg(() => u.GetFloat("name")));
    }

    [Fact]
    public void MissingRequiredKeys()
    {
        var u = U();
        Assert.Equal("u.toml:1:1: key 'seed': required key is missing", Msg(() => u.GetString("seed")));
        Assert.Equal("u.toml:5:1: key 'events.nmi': required key is missing from table 'events'",
            Msg(() => u.GetTable("events").GetInteger("nmi", 0, 1)));
        var vm = (TomlTable)u.GetArray("vm")[0];
        Assert.Equal("u.toml:11:1: key 'vm[0].mode': required key is missing from table 'vm[0]'", Msg(() => vm.GetBoolean("mode")));
        Assert.Equal("u.toml:5:1: key 'events.x': required key is missing from table 'events'", Msg(() => _ = u.GetTable("events")["x"]));
    }

    [Fact]
    public void RejectUnknownKeysNamesTheKeyAndTheAllowedOnes()
    {
        var vm = (TomlTable)U().GetArray("vm")[0];
        vm.RejectUnknownKeys("policy", "vcpu");
        Assert.Equal("u.toml:13:1: key 'vm[0].vcpu': unknown key; allowed keys: policy, vcpus",
            Msg(() => vm.RejectUnknownKeys("policy", "vcpus")));
        Assert.Equal("u.toml:1:1: key 'name': unknown key; allowed keys: none", Msg(() => U().RejectUnknownKeys()));
        // A table made by a header is reported at its header.
        Assert.Equal("u.toml:5:1: key 'events': unknown key; allowed keys: name, vcpus, trace, vm",
            Msg(() => U().RejectUnknownKeys("name", "vcpus", "trace", "vm")));
    }

    [Fact]
    public void ValueErrorForSemanticChecks()
    {
        var policy = ((TomlTable)U().GetArray("vm")[0])["policy"];
        var e = policy.Error("unknown policy 'linux-9.9'; known: linux-6.8");
        Assert.Equal("u.toml:12:10: key 'vm[0].policy': unknown policy 'linux-9.9'; known: linux-6.8", e.Message);
        Assert.Equal((12, 10, "vm[0].policy"), (e.Line, e.Column, e.Key));
        Assert.Null(U().Error("empty universe").Key);
    }
}
