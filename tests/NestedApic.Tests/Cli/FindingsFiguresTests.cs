using System.Text.Json;
using System.Text.RegularExpressions;
using NestedApic.Cli;

namespace NestedApic.Tests.Cli;

/// <summary>docs/findings.md says "every trace below was produced by the command shown": each
/// "`nestedapic check ...` — N states, depth D" line there is rerun and must give those figures
/// (they drift when the model or the engine changes; seed/linux-6.18 said 449 after 366).</summary>
public class FindingsFiguresTests
{
    static string RepoRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "NestedApic.sln"))) return d.FullName;
        throw new DirectoryNotFoundException("NestedApic.sln not found above " + AppContext.BaseDirectory);
    }

    static readonly Regex Figure = new(@"`nestedapic check ([^`]+)` — ([0-9,]+) states, depth ([0-9]+)");

    public static TheoryData<string, long, int> Figures()
    {
        var data = new TheoryData<string, long, int>();
        foreach (Match m in Figure.Matches(File.ReadAllText(Path.Combine(RepoRoot(), "docs", "findings.md"))))
            data.Add(m.Groups[1].Value, long.Parse(m.Groups[2].Value.Replace(",", "")), int.Parse(m.Groups[3].Value));
        return data;
    }

    [Fact]
    public void FindingsMd_HasFigures() => Assert.True(Figures().Count >= 5);

    [Theory]
    [MemberData(nameof(Figures))]
    public void Command_GivesTheStatesAndDepthFindingsMdStates(string command, long states, int depth)
    {
        var (o, e) = (new StringWriter(), new StringWriter());
        int code = CheckCommand.Run([.. command.Split(' ', StringSplitOptions.RemoveEmptyEntries), "--threads", "1", "--json"], o, e);
        Assert.True(code == 0, $"{command}: exit {code}: {e}");
        var stats = JsonDocument.Parse(o.ToString()).RootElement.GetProperty("stats");
        Assert.Equal((states, depth), (stats.GetProperty("states").GetInt64(), stats.GetProperty("depth").GetInt32()));
    }
}
