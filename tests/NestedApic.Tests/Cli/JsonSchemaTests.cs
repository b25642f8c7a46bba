using System.Text.Json.Nodes;
using Json.Schema;
using NestedApic.Cli;

namespace NestedApic.Tests.Cli;

/// <summary>`check --json` output against the schema documented in docs/check-report.schema.json.</summary>
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
