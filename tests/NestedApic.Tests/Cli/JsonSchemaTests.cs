using System.Text.Json.Nodes;
using Json.Schema;
using NestedApic.Cli;
using NestedApic.Hypervisor;
using NestedApic.Scenarios;

namespace NestedApic.Tests.Cli;

/// <summary>`check --json` output against the schema documented in docs/check-report.schema.json.</summary>
[RunsLong(4)]
public class JsonSchemaTests
{
    static readonly JsonSchema Schema = JsonSchema.FromFile(Path.Combine(AppContext.BaseDirectory, "docs", "check-report.schema.json"));

    static JsonNode Check(params string[] args)
    {
        var (o, e) = (new StringWriter(), new StringWriter());
        CheckCommand.Run([.. args, "--json", "--threads", "1"], o, e);
        return JsonNode.Parse(o.ToString())!;
    }

    static void AssertValid(JsonNode report)
    {
        var result = Schema.Evaluate(report, new EvaluationOptions { OutputFormat = OutputFormat.List });
        Assert.True(result.IsValid, string.Join("\n", result.Details.Where(d => d.Errors is not null)
            .SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}"))));
    }

    [Theory]
    [InlineData("seed", "linux-5.17")]
    [InlineData("seed", "linux-7.0")]
    [InlineData("vmx-apicv-updates", "linux-6.18")]
    [InlineData("nested-posted-interrupts", "linux-6.19")]
    [InlineData("amd-nested-ipi", "no-nested-avic-inhibit")]
    [InlineData("amd-set-nested-state", "linux-7.0-svm")]
    public void Report_MatchesTheSchema(string universe, string policy) => AssertValid(Check(universe, "--policy", policy));

    /// <summary>The schema's enums are the model's own lists: a property added to the model
    /// without the schema fails here, naming it.</summary>
    [Fact]
    public void Schema_PropertyEnum_IsEveryPropertyOfBothVendors()
    {
        var listed = SchemaNode()["properties"]!["property"]!["enum"]!.AsArray().Where(n => n is not null).Select(n => (string)n!).ToHashSet();
        Assert.Equal(Properties.Ids.Order(), listed.Order());
        Assert.Contains(Properties.All, p => p.AppliesTo(CpuVendor.Amd) && !p.AppliesTo(CpuVendor.Intel));
    }

    [Fact]
    public void Schema_VerdictEnum_AndVcpuRange_AreTheModels()
    {
        var props = SchemaNode()["properties"]!;
        Assert.Equal(Verdicts.All.Order(), props["verdict"]!["enum"]!.AsArray().Select(n => (string)n!).Order());
        Assert.Equal(KvmState.MaxVcpus, (int)props["vcpus"]!["maximum"]!);
        Assert.Equal(KvmState.MaxVcpus - 1, (int)props["vcpu"]!["maximum"]!);
    }

    /// <summary>Every run of the built-in suite, under a state bound so the test stays cheap: the
    /// small universes finish, the large ones stop "bounded" (a report of its own shape).</summary>
    [Fact]
    public void EveryReportOfTheSuite_MatchesTheSchema()
    {
        var (o, e) = (new StringWriter(), new StringWriter());
        int code = CheckCommand.Run(["--json", "--threads", "1", "--max-states", "3000"], o, e);
        Assert.True(code is 0 or 3, e.ToString());
        var reports = JsonNode.Parse(o.ToString())!.AsArray();
        Assert.Equal(CheckCommand.SuiteRuns(null, null).Count, reports.Count);
        foreach (var r in reports) AssertValid(r!);
        Assert.Contains(reports, r => (string)r!["verdict"]! == "violated");
        Assert.Contains(reports, r => (string)r!["verdict"]! == "holds");
    }

    [Fact]
    public void DepthCutReport_IsHoldsToDepth_AndMatchesTheSchema()
    {
        var r = Check("seed", "--policy", "linux-7.0", "--depth", "2");
        Assert.Equal("holds-to-depth", (string)r["verdict"]!);
        Assert.Equal("the depth bound", (string)r["stopped_by"]!);
        AssertValid(r);
    }

    static JsonNode SchemaNode() => JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "docs", "check-report.schema.json")))!;

    [Fact]
    public void Schema_RejectsAReportMissingItsVerdict()
    {
        var report = Check("seed", "--policy", "linux-5.17").AsObject();
        report.Remove("verdict");
        Assert.False(Schema.Evaluate(report).IsValid);
    }

    [Fact]
    public void Schema_RejectsAnUnknownProperty()
    {
        var report = Check("seed", "--policy", "linux-5.17").AsObject();
        report["property"] = "made-up-property";
        Assert.False(Schema.Evaluate(report).IsValid);
    }
}
