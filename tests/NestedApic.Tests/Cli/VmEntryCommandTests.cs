using System.Text.Json;
using NestedApic.Cli;
using NestedApic.Tests.Hardware.Vmx;

namespace NestedApic.Tests.Cli;

public class VmEntryCommandTests
{
    private const string Good =
        """{"id": "t-1", "pin": "0x0000003f", "primary": "0x04386172", "secondary": "0x00000000", "exit_controls": "0x002b6ffb", "tpr_threshold": "0x00000000", "vtpr": null, "virtual_apic_addr": "0x1", "apic_access_addr": "0x0", "pi_nv": "0x0000", "pi_desc_addr": "0x0", "maxphyaddr": 46}""";

    private static (int Rc, string Out, string Err) Run(params string[] args) => RunWithStdin("", args);

    private static (int Rc, string Out, string Err) RunWithStdin(string stdin, params string[] args)
    {
        var o = new StringWriter(); var e = new StringWriter();
        int rc = VmEntryCommand.Run(args, new StringReader(stdin), o, e);
        return (rc, o.ToString(), e.ToString());
    }

    [Fact]
    public void ConformanceFileGivesOneLinePerCase()
    {
        var (rc, output, err) = Run(ConformanceData.VmEntryPath);
        Assert.Equal(0, rc);
        Assert.Equal("", err);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(965, lines.Length);
        foreach (var line in lines)
        {
            using var doc = JsonDocument.Parse(line);
            var r = doc.RootElement;
            var expected = ConformanceData.Get(r.GetProperty("id").GetString()!);
            Assert.Equal(expected.Expect, r.GetProperty("result").GetString());
            if (expected.Error is int err7) Assert.Equal(err7, r.GetProperty("error").GetInt32());
            else Assert.Equal(JsonValueKind.Null, r.GetProperty("error").ValueKind);
        }
    }

    [Fact]
    public void StdinAndOutputFormat()
    {
        string ok = Good.Replace("\"0x1\"", "\"0x1000\"").Replace("t-1", "t-2");
        var (rc, output, _) = RunWithStdin(Good + "\n\n" + ok + "\n", "-");
        Assert.Equal(0, rc);
        Assert.Equal(
            "{\"id\": \"t-1\", \"result\": \"fail\", \"error\": 7, \"rule\": \"vapic-addr-valid\"}\n" +
            "{\"id\": \"t-2\", \"result\": \"ok\", \"error\": null, \"rule\": null}\n",
            output.ReplaceLineEndings("\n"));
    }

    [Theory]
    [InlineData("{not json", "(line)")]
    [InlineData("[1,2]", "(line)")]
    [InlineData("""{"id": "x"}""", "pin")]
    [InlineData("@\"pin\": \"0x0000003f\"|\"pin\": \"0x3g\"", "pin")]
    [InlineData("@\"pin\": \"0x0000003f\"|\"pin\": 63", "pin")]
    [InlineData("@\"pin\": \"0x0000003f\"|\"pin\": \"0x100000000\"", "pin")]
    [InlineData("@\"pi_nv\": \"0x0000\"|\"pi_nv\": \"0x10000\"", "pi_nv")]
    [InlineData("@\"maxphyaddr\": 46|\"maxphyaddr\": 53", "maxphyaddr")]
    [InlineData("@\"maxphyaddr\": 46|\"maxphyaddr\": 31", "maxphyaddr")]
    [InlineData("@\"maxphyaddr\": 46|\"maxphyaddr\": \"46\"", "maxphyaddr")]
    [InlineData("@\"pi_desc_addr\": \"0x0\"|\"pi_desc_addr\": \"0x10000000000000000\"", "pi_desc_addr")]
    [InlineData("@\"virtual_apic_addr\": \"0x1\", |", "virtual_apic_addr")]
    [InlineData("@\"id\": \"t-1\"|\"id\": 5", "id")]
    [InlineData("@\"maxphyaddr\": 46|\"maxphyaddr\": 46, \"expect\": \"maybe\"", "expect")]
    public void MalformedLineIsReportedWithFileLineAndField(string bad, string field)
    {
        // "@old|new" edits the good line; anything else replaces it.
        string line = bad.StartsWith('@') ? Good.Replace(bad[1..bad.IndexOf('|')], bad[(bad.IndexOf('|') + 1)..]) : bad;
        Assert.NotEqual(Good, line);
        string path = Path.Combine(Path.GetTempPath(), $"nestedapic-bad-{Guid.NewGuid():N}.jsonl");
        File.WriteAllText(path, Good + "\n" + line + "\n" + Good + "\n");
        try
        {
            var (rc, output, err) = Run(path);
            Assert.Equal(2, rc);
            Assert.StartsWith($"{path}:2: field {field}: ", err);
            Assert.DoesNotContain("   at ", err); // no stack trace
            Assert.Single(output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void UsageAndMissingFileExitTwo()
    {
        Assert.Equal(2, Run().Rc);
        Assert.Equal(2, Run("a", "b").Rc);
        var (rc, _, err) = Run("/nonexistent/nestedapic.jsonl");
        Assert.Equal(2, rc);
        Assert.StartsWith("/nonexistent/nestedapic.jsonl: cannot open", err);
    }
}
