using System.Text.Json;
using NestedApic.Cli;
using NestedApic.Tests.Hardware.Svm;

namespace NestedApic.Tests.Cli;

public class VmrunCommandTests
{
    private const string Good =
        """{"id": "t-1", "asid": 0, "intercept_vmrun": true, "intercept_nmi": false, "int_ctl": "0x00000000", "msrpm_base_pa": "0x4d8000", "iopm_base_pa": "0x4dc000", "intercept_msr_prot": false, "intercept_ioio_prot": false, "maxphyaddr": 46}""";

    private static (int Rc, string Out, string Err) Run(params string[] args) => RunWithStdin("", args);

    private static (int Rc, string Out, string Err) RunWithStdin(string stdin, params string[] args)
    {
        var o = new StringWriter(); var e = new StringWriter();
        int rc = VmrunCommand.Run(args, new StringReader(stdin), o, e);
        return (rc, o.ToString(), e.ToString());
    }

    [Fact]
    public void ConformanceFileGivesOneAgreeingLinePerCase()
    {
        var (rc, output, err) = Run(SvmConformanceData.VmrunPath);
        Assert.Equal(0, rc);
        Assert.Equal("", err);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(SvmConformanceData.All.Count, lines.Length);
        foreach (var line in lines)
        {
            using var doc = JsonDocument.Parse(line);
            var r = doc.RootElement;
            var expected = SvmConformanceData.Get(r.GetProperty("id").GetString()!);
            Assert.Equal(expected.Expect, r.GetProperty("result").GetString());
            if (expected.ExitCode is { } code) Assert.Equal(code, r.GetProperty("exit_code").GetString());
            else Assert.Equal(JsonValueKind.Null, r.GetProperty("exit_code").ValueKind);
        }
    }

    [Fact]
    public void StdinAndOutputFormat()
    {
        string ok = Good.Replace("\"asid\": 0", "\"asid\": 1").Replace("t-1", "t-2");
        var (rc, output, _) = RunWithStdin(Good + "\n\n" + ok + "\n", "-");
        Assert.Equal(0, rc);
        Assert.Equal(
            "{\"id\": \"t-1\", \"result\": \"fail\", \"exit_code\": \"VMEXIT_INVALID\", \"rule\": \"svm-asid-nonzero\"}\n" +
            "{\"id\": \"t-2\", \"result\": \"ok\", \"exit_code\": null, \"rule\": null}\n",
            output.ReplaceLineEndings("\n"));
    }

    [Theory]
    [InlineData("{not json", "(line)")]
    [InlineData("[1,2]", "(line)")]
    [InlineData("""{"id": "x"}""", "asid")]
    [InlineData("@\"asid\": 0|\"asid\": -1", "asid")]
    [InlineData("@\"asid\": 0|\"asid\": \"1\"", "asid")]
    [InlineData("@\"intercept_vmrun\": true|\"intercept_vmrun\": 1", "intercept_vmrun")]
    [InlineData("@\"int_ctl\": \"0x00000000\"|\"int_ctl\": \"0x100000000\"", "int_ctl")]
    [InlineData("@\"msrpm_base_pa\": \"0x4d8000\"|\"msrpm_base_pa\": \"4d8000\"", "msrpm_base_pa")]
    [InlineData("@\"iopm_base_pa\": \"0x4dc000\", |", "iopm_base_pa")]
    [InlineData("@\"maxphyaddr\": 46|\"maxphyaddr\": 53", "maxphyaddr")]
    [InlineData("@\"id\": \"t-1\"|\"id\": 5", "id")]
    [InlineData("@\"maxphyaddr\": 46|\"maxphyaddr\": 46, \"expect\": \"maybe\"", "expect")]
    [InlineData("@\"maxphyaddr\": 46|\"maxphyaddr\": 46, \"exit_code\": \"VMEXIT_NPF\"", "exit_code")]
    [InlineData("@\"maxphyaddr\": 46|\"maxphyaddr\": 46, \"avic_backing_page\": 4096", "avic_backing_page")]
    public void MalformedLineIsReportedWithFileLineAndField(string bad, string field)
    {
        string line = bad.StartsWith('@') ? Good.Replace(bad[1..bad.IndexOf('|')], bad[(bad.IndexOf('|') + 1)..]) : bad;
        Assert.NotEqual(Good, line);
        string path = Path.Combine(Path.GetTempPath(), $"nestedapic-vmrun-bad-{Guid.NewGuid():N}.jsonl");
        File.WriteAllText(path, Good + "\n" + line + "\n" + Good + "\n");
        try
        {
            var (rc, output, err) = Run(path);
            Assert.Equal(2, rc);
            Assert.StartsWith($"{path}:2: field {field}: ", err);
            Assert.DoesNotContain("   at ", err);
            Assert.Single(output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void AvicFieldsAreChecked()
    {
        string avic = Good.Replace("\"asid\": 0", "\"asid\": 1").Replace("\"int_ctl\": \"0x00000000\"", "\"int_ctl\": \"0x80000000\"")
            .Replace("\"maxphyaddr\": 46", "\"maxphyaddr\": 46, \"avic_backing_page\": \"0x1008\", \"avic_physical_table\": \"0x3000\"");
        var (rc, output, _) = RunWithStdin(avic, "-");
        Assert.Equal(0, rc);
        Assert.Contains("\"rule\": \"svm-avic-backing-page-addr\"", output);
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
