using System.Text.Json;
using NestedApic.Cli;

namespace NestedApic.Tests.Cli;

public class CheckCommandTests
{
    static (int Code, string Out, string Err) Run(params string[] args)
    {
        var (o, e) = (new StringWriter(), new StringWriter());
        int code = CheckCommand.Run(args, o, e);
        return (code, o.ToString(), e.ToString());
    }

    static string Universe(string name) => Path.Combine(AppContext.BaseDirectory, "universes", name + ".toml");

    [Fact]
    public void Seed_Linux517_MeetsExpectation_PrintsTraceAndViolation()
    {
        var (code, o, _) = Run(Universe("seed"), "--policy", "linux-5.17", "--threads", "1");
        Assert.Equal(0, code);
        Assert.Contains("verdict: violated kvm-caused-vmentry-failure on vcpu0", o);
        Assert.Contains("trace (4 steps", o); // "; not known to be shortest" when the reduction pruned
        Assert.Contains("1. vcpu0/L1: vmlaunch no-tpr-shadow", o);
        Assert.Contains("violation: kvm-caused-vmentry-failure: vcpu0: hardware VM entry of vmcs02 failed", o);
    }

    [Fact]
    public void AmdUniverse_UnderAnIntelPreset_Exit2WithOneLine()
    {
        var (code, o, e) = Run("amd-nested-ipi", "--policy", "linux-6.19");
        Assert.Equal(2, code);
        Assert.Equal("", o);
        Assert.Single(e.Trim().Split('\n'));
        Assert.Contains("policy 'linux-6.19' describes kvm_intel but the universe is vendor = \"amd\"; use one of: linux-5.18-svm", e);
    }

    [Fact]
    public void Suite_UnderAnAmdPreset_RunsOnlyTheAmdUniverses()
    {
        var (code, o, _) = Run("--policy", "linux-7.0-svm", "--threads", "1");
        Assert.Equal(0, code);
        Assert.Contains("amd-nested-ipi", o);
        Assert.Contains("amd-set-nested-state", o);
        Assert.DoesNotContain("seed", o);
        Assert.Contains("suite: 6 runs, 6 as expected, 0 not", o); // amd-nested-ipi, amd-set-nested-state, amd-wide, the three amd-pml universes
    }

    [Fact]
    public void BuiltinName_Json_HasTheDocumentedFields()
    {
        var (code, o, _) = Run("seed", "--policy", "linux-6.18", "--json");
        Assert.Equal(0, code);
        using var doc = JsonDocument.Parse(o);
        var r = doc.RootElement;
        Assert.Equal("violated", r.GetProperty("verdict").GetString());
        Assert.Equal("vmcs01-apicv-stale", r.GetProperty("property").GetString());
        Assert.Equal(0, r.GetProperty("vcpu").GetInt32());
        Assert.Equal("linux-6.18", r.GetProperty("policy").GetString());
        Assert.True(r.GetProperty("stats").GetProperty("states").GetInt64() > 0);
        Assert.True(r.GetProperty("stats").TryGetProperty("seconds", out _));
        var trace = r.GetProperty("trace");
        Assert.Equal(7, trace.GetArrayLength());
        Assert.Equal("vcpu0/L1: vmlaunch no-tpr-shadow", trace[0].GetProperty("event").GetString());
        Assert.True(trace[0].GetProperty("changes").GetArrayLength() > 0);
    }

    [Fact]
    public void VerdictAgainstExpectation_ExitsOne()
    {
        // vmx-apicv-updates expects svi-stale under 5.17; checking only another property breaks that.
        string dir = Directory.CreateTempSubdirectory().FullName;
        string f = Path.Combine(dir, "u.toml");
        File.WriteAllText(f, File.ReadAllText(Universe("seed")).Replace("\"linux-6.19\" = \"holds\"", "\"linux-6.19\" = \"svi-stale\""));
        var (code, o, _) = Run(f, "--policy", "linux-6.19");
        Assert.Equal(1, code);
        Assert.Contains("expected: svi-stale — NOT met", o);
    }

    [Theory]
    [InlineData(new[] { "--policy", "linux-9.9", "seed" }, "--policy: unknown policy 'linux-9.9'")]
    [InlineData(new[] { "--vcpus", "7", "seed" }, "--vcpus must be an integer in 1..4")]
    [InlineData(new[] { "--frobnicate" }, "unknown option '--frobnicate'")]
    [InlineData(new[] { "no-such-universe" }, "no built-in universe 'no-such-universe'")]
    [InlineData(new[] { "missing.toml" }, "missing.toml: cannot read the universe")]
    public void BadInput_ExitsTwo_WithOneClearLine(string[] args, string message)
    {
        var (code, _, e) = Run(args);
        Assert.Equal(2, code);
        Assert.Contains(message, e);
        Assert.DoesNotContain("   at ", e);
    }

    [Fact]
    public void MalformedUniverse_NamesFileLineAndKey()
    {
        string f = Path.Combine(Directory.CreateTempSubdirectory().FullName, "bad.toml");
        File.WriteAllText(f, "vcpus = 2\n[events]\nkvm-run = 99\n");
        var (code, _, e) = Run(f);
        Assert.Equal(2, code);
        Assert.Contains("bad.toml:3:11: key 'events.kvm-run': 99 is out of range 0..16", e);
    }

    [Fact]
    public void Suite_AllExpectationsMet()
    {
        var (code, o, _) = Run("--threads", "2", "--policy", "linux-5.17");
        Assert.Equal(0, code);
        Assert.Contains("seed", o);
        Assert.Matches(@"suite: \d+ runs, \d+ as expected, 0 not", o);
    }
}

public class CheckCommandExitAndReportTests
{
    static (int Code, string Out, string Err) Run(params string[] args)
    {
        var (o, e) = (new StringWriter(), new StringWriter());
        int code = CheckCommand.Run(args, o, e);
        return (code, o.ToString(), e.ToString());
    }

    [Fact]
    public void StateBound_StopsBeforeAVerdict_ExitsThree()
    {
        var (code, o, _) = Run("intel-wide", "--policy", "linux-7.0", "--max-states", "2000", "--threads", "1");
        Assert.Equal(3, code);
        Assert.Contains("verdict: bounded", o);
        Assert.Contains("state bound reached", o);
    }

    /// <summary>A depth bound that cuts the search is no "holds"; one that the reachable graph
    /// never reaches past is (the last level has no new successor). The graph's depth is the full
    /// search's: a reduced search's paths (and its chains) may be longer than the shortest.</summary>
    [Fact]
    public void DepthBound_CutsToHoldsToDepth_ExitsThree_UnlessTheGraphEndsThere()
    {
        var (full, o, _) = Run("seed", "--policy", "linux-7.0", "--threads", "1", "--json", "--no-reduce");
        Assert.Equal(0, full);
        int deepest = System.Text.Json.JsonDocument.Parse(o).RootElement.GetProperty("stats").GetProperty("depth").GetInt32();

        var (atDepth, exact, _) = Run("seed", "--policy", "linux-7.0", "--threads", "1", "--depth", deepest.ToString());
        Assert.Equal(0, atDepth);
        Assert.Contains("verdict: holds\n", exact.Replace("\r", ""));

        var (cut, text, _) = Run("seed", "--policy", "linux-7.0", "--threads", "1", "--depth", (deepest - 1).ToString());
        Assert.Equal(3, cut);
        Assert.Contains("verdict: holds-to-depth", text);
        Assert.Contains("expected: holds — unknown (stopped by the depth bound)", text);
    }

    [Fact]
    public void StateBound_SaysTheExpectationIsUnknown_NotUnmet()
    {
        var (code, o, _) = Run("seed", "--policy", "linux-7.0", "--max-states", "5", "--threads", "1");
        Assert.Equal(3, code);
        Assert.Contains("expected: holds — unknown (stopped by the state bound)", o);
        Assert.DoesNotContain("NOT met", o);
    }

    [Fact]
    public void PolicySpec_KeepsTheUniversesOverrides_AndNamesTheEffectivePolicy()
    {
        string dir = Directory.CreateTempSubdirectory().FullName;
        string f = Path.Combine(dir, "u.toml");
        File.WriteAllText(f, File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "universes", "seed.toml"))
            .Replace("[policy]\npreset = \"linux-7.0\"", "[policy]\npreset = \"linux-7.0\"\nsvi-on-activation = false"));
        var (code, o, e) = Run(f, "--policy", "linux-6.18:apicv-refresh=vmcs01-on-demand", "--threads", "1");
        Assert.True(code is 0 or 1, e);
        // The universe's own switch survives the change of preset; the spec's switch comes after it.
        Assert.Contains("policy linux-6.18:svi-on-activation=false,apicv-refresh=vmcs01-on-demand,", o);
    }

    [Fact]
    public void Html_WritesTheTimelineWithTheReportEmbedded()
    {
        string f = Path.Combine(Directory.CreateTempSubdirectory().FullName, "seed.html");
        var (code, o, _) = Run("seed", "--policy", "linux-5.17", "--html", f);
        Assert.Equal(0, code);
        Assert.Contains($"html: {f}", o);
        string html = File.ReadAllText(f);
        Assert.StartsWith("<!DOCTYPE html>", html);
        Assert.Contains("\"verdict\":\"violated\"", html);
        Assert.Contains("\"event\":\"vcpu0/L1: vmlaunch no-tpr-shadow\"", html);
        Assert.DoesNotContain("http://", html.Replace("http://www.w3.org", ""));
        Assert.DoesNotContain("https://", html);
    }

    [Fact]
    public void Exact_CountsTheSameStates_AndRulesOutCollisions()
    {
        // Storage is exact either way now (a stored state is its compressed form); --exact stays accepted.
        var (_, plain, _) = Run("vmx-apicv-updates", "--policy", "linux-7.0", "--threads", "1", "--json");
        var (_, exact, _) = Run("vmx-apicv-updates", "--policy", "linux-7.0", "--threads", "1", "--json", "--exact");
        static (long, double) Stats(string json)
        {
            var s = System.Text.Json.JsonDocument.Parse(json).RootElement.GetProperty("stats");
            return (s.GetProperty("states").GetInt64(), s.GetProperty("collision_probability").GetDouble());
        }
        var (n1, p1) = Stats(plain);
        var (n2, p2) = Stats(exact);
        Assert.Equal(n1, n2);
        Assert.Equal(0, p1);
        Assert.Equal(0, p2);
    }

    [Fact]
    public void MemoryBudget_StopsBeforeAVerdict_ExitsThree_AndReportsTheBudget()
    {
        var (code, o, _) = Run("intel-wide", "--policy", "linux-7.0", "--vcpus", "3", "--max-memory", "1M", "--threads", "1", "--json");
        Assert.Equal(3, code);
        var root = System.Text.Json.JsonDocument.Parse(o).RootElement;
        Assert.Equal("bounded", root.GetProperty("verdict").GetString());
        var s = root.GetProperty("stats");
        Assert.Equal("the memory budget", root.GetProperty("stopped_by").GetString());
        Assert.Equal(1L << 20, s.GetProperty("memory_budget_bytes").GetInt64());
        Assert.True(s.GetProperty("peak_memory_bytes").GetInt64() > 0);
        Assert.Contains("memory budget of 1 MiB reached", root.GetProperty("verdict_line").GetString());
    }

    [Theory]
    [InlineData("12Q")]
    [InlineData("-1G")]
    [InlineData("G")]
    public void MemoryBudget_BadSize_ExitsTwo(string size)
    {
        var (code, _, e) = Run("seed", "--max-memory", size);
        Assert.Equal(2, code);
        Assert.Contains($"--max-memory: '{size}' is not a size", e);
    }

    [Fact]
    public void Report_PeakMemory_WithoutBytesPerStateForASmallSearch()
    {
        // A few thousand states: the runtime's fixed cost would make bytes/state meaningless (issue 12.15).
        var (code, o, _) = Run("seed", "--policy", "linux-7.0", "--threads", "1");
        Assert.Equal(0, code);
        Assert.Matches(@"peak memory [\d.]+ (MiB|GiB) \(the whole process\); budget", o);
        Assert.DoesNotContain("bytes/state", o);
    }

    [Fact]
    public void Help_ListsTheOptions_ExitsZero()
    {
        var (o, e) = (new StringWriter(), new StringWriter());
        var io = new NestedApic.Cli.Io(TextReader.Null, o, e);
        int code = NestedApic.Cli.Cli.Invoke(NestedApic.Cli.Cli.Root(io), ["check", "--help"], io);
        Assert.Equal(0, code);
        foreach (var opt in new[] { "--policy", "--vcpus", "--threads", "--json", "--html", "--save-trace", "--from", "--max-states", "--max-memory" })
            Assert.Contains(opt, o.ToString());
    }
}
