using System.Text.Json;
using NestedApic.Cli;

namespace NestedApic.Tests.Cli;

public class RunCommandTests
{
    static (int Code, string Out, string Err) Run(params string[] args)
    {
        var (o, e) = (new StringWriter(), new StringWriter());
        int code = RunCommand.Run(args, o, e);
        return (code, o.ToString(), e.ToString());
    }

    static (int Code, string Out, string Err) Check(params string[] args)
    {
        var (o, e) = (new StringWriter(), new StringWriter());
        int code = CheckCommand.Run(args, o, e);
        return (code, o.ToString(), e.ToString());
    }

    static string Example(string name) => Path.Combine(AppContext.BaseDirectory, "examples", name + ".scn");
    static string Universe(string name) => Path.Combine(AppContext.BaseDirectory, "universes", name + ".toml");
    static string Temp(string name) => Path.Combine(Directory.CreateTempSubdirectory().FullName, name);

    [Fact]
    public void Seed2022_Linux517_StopsAtTheBrokenExpect_ExitOne()
    {
        var (code, o, _) = Run(Example("seed-2022"), "--policy", "linux-5.17");
        Assert.Equal(1, code);
        Assert.Contains("scenario ", o);
        Assert.Contains("universe seed, policy linux-5.17, 2 vCPUs", o);
        // Lane column, then the event, then the changed fields under it.
        Assert.Matches(@"\d+  vcpu0 L1\s+vmlaunch no-tpr-shadow\n\s+vcpu0.phase: InGuest → InKernel", o);
        Assert.Matches(@"vcpu1 user\s+guest-debug-blockirq off", o);
        Assert.Contains("vcpu0.faults: - → BlamedL1", o);
        Assert.Contains("expect holds kvm-caused-vmentry-failure: FAILED (vcpu0: hardware VM entry of vmcs02 failed", o);
        Assert.Contains("result: FAILED at ", o);
        Assert.Contains("seed-2022.scn:26:1: expect holds kvm-caused-vmentry-failure", o);
    }

    [Fact]
    public void Seed2022_Linux619_Passes_ExitZero()
    {
        var (code, o, _) = Run(Example("seed-2022"), "--policy", "linux-6.19");
        Assert.Equal(0, code);
        Assert.Contains("expect holds kvm-caused-vmentry-failure: ok", o);
        Assert.Contains("result: passed, 3 expects held, 0 unexpected violations", o);
    }

    [Fact]
    public void ScenarioPolicy_IsUsedWithoutTheOption()
    {
        var (code, o, _) = Run(Example("vcpu-create-race"));
        Assert.Equal(1, code);
        Assert.Contains("policy linux-5.17", o);
    }

    [Fact]
    public void UnexpectedViolation_IsReported_ButDoesNotFail()
    {
        string f = Temp("u.scn");
        File.WriteAllText(f, string.Join('\n', File.ReadAllLines(Example("seed-2022"))
            .Where(l => !l.StartsWith("expect holds"))));
        var (code, o, _) = Run(f, "--policy", "linux-5.17");
        Assert.Equal(0, code);
        Assert.Contains("!  kvm-caused-vmentry-failure breaks at event 14 with no expect violated for it", o);
        Assert.Contains("1 unexpected violation", o);
    }

    [Fact]
    public void Json_HasStepsExpectsAndTheResult()
    {
        var (code, o, _) = Run(Example("vmx-apicv-updates"), "--policy", "linux-6.18", "--json");
        Assert.Equal(1, code);
        using var doc = JsonDocument.Parse(o);
        var r = doc.RootElement;
        Assert.False(r.GetProperty("passed").GetBoolean());
        Assert.Equal("linux-6.18", r.GetProperty("policy").GetString());
        Assert.Equal(1, r.GetProperty("vcpus").GetInt32());
        Assert.EndsWith("vmx-apicv-updates.scn:45:1", r.GetProperty("failed_at").GetString());
        var entries = r.GetProperty("entries").EnumerateArray().ToList();
        var first = entries.First(e => e.GetProperty("kind").GetString() == "step");
        Assert.Equal("vcpu0/user: create-vcpu", first.GetProperty("events")[0].GetProperty("event").GetString());
        Assert.Equal("user", first.GetProperty("events")[0].GetProperty("lane").GetString());
        var last = entries.Last(e => e.GetProperty("kind").GetString() == "expect");
        Assert.False(last.GetProperty("ok").GetBoolean());
        Assert.Contains("apicv_active=1", last.GetProperty("detail").GetString());
    }

    [Theory]
    [InlineData(new string[0], "nestedapic run: Required argument missing for command: 'run'")]
    [InlineData(new[] { "a.scn", "b.scn" }, "nestedapic run: Unrecognized command or argument 'b.scn'")]
    [InlineData(new[] { "a.scn", "--fast" }, "nestedapic run: Unrecognized command or argument '--fast'")]
    [InlineData(new[] { "a.scn", "--policy" }, "nestedapic run: Required argument missing for option: '--policy'")]
    [InlineData(new[] { "a.scn", "--policy", "linux-9" }, "--policy: unknown policy 'linux-9'")]
    [InlineData(new[] { "missing.scn" }, "missing.scn: cannot read the scenario")]
    public void BadInput_ExitsTwo_OneCleanMessage(string[] args, string message)
    {
        var (code, _, e) = Run(args);
        Assert.Equal(2, code);
        Assert.Contains(message, e);
        Assert.DoesNotContain("   at ", e);
    }

    [Fact]
    public void RejectedVmlaunch_SaysVmfailValidAndTheRule()
    {
        string dir = Directory.CreateTempSubdirectory().FullName;
        File.WriteAllText(Path.Combine(dir, "bad.toml"), "name = \"bad\"\nvcpus = 1\n[[vmcs12]]\nname = \"bad\"\npin = 0x81\nprimary = 0\nexit = 0x8000\n[events]\nvmlaunch = 1\n");
        string scn = Path.Combine(dir, "bad.scn");
        File.WriteAllText(scn, "universe bad.toml\nvcpu 0: create\nvcpu 0: enter-guest\nvcpu0/L1: vmlaunch bad\n");
        var (code, o, e) = Run(scn);
        Assert.True(code == 0, e);
        Assert.Contains("rejected: VMfailValid(7) to L1, rule pi-requires-vid (nested_vmx_check_controls on vmcs12 'bad')", o);
    }

    [Fact]
    public void StepNotEnabled_ExitsTwo_AfterShowingTheStorySoFar()
    {
        string f = Temp("bad.scn");
        File.WriteAllText(f, "vcpus 1\nvcpu 0: create\nvcpu 0: vmcall\n");
        var (code, o, e) = Run(f);
        Assert.Equal(2, code);
        Assert.Contains("publish-vcpu", o);
        Assert.Contains("bad.scn:3:1: step 'vcpu 0: vmcall' is not enabled here", e);
        Assert.Single(e.Trim().Split('\n'));
    }

    [Theory]
    [InlineData("linux-5.17", "kvm-caused-vmentry-failure")]
    [InlineData("linux-6.18", "vmcs01-apicv-stale")]
    public void SaveTrace_RoundTrip_ReproducesTheViolation(string policy, string property)
    {
        string f = Temp("trace.scn");
        var (checkCode, o, _) = Check(Universe("seed"), "--policy", policy, "--threads", "1", "--save-trace", f);
        Assert.Equal(0, checkCode);
        Assert.Contains($"saved: {f}", o);
        string text = File.ReadAllText(f);
        Assert.Contains("vcpu*/user: create-vcpu", text);
        Assert.Contains($"policy {policy}\nvcpus 2\n", text);
        Assert.EndsWith($"expect violated {property}\n", text);

        var (runCode, ro, _) = Run(f);
        Assert.Equal(0, runCode);
        Assert.Contains($"expect violated {property}: ok", ro);

        File.WriteAllText(f, text.Replace($"expect violated {property}", $"expect holds {property}"));
        Assert.Equal(1, Run(f).Code);
    }

    [Fact]
    public void SaveTrace_BuiltinUniverse_IsNamedByName_AndNothingSavedWhenItHolds()
    {
        string f = Temp("t.scn");
        Assert.Equal(0, Check("vcpu-create-race", "--policy", "linux-5.17", "--threads", "1", "--save-trace", f).Code);
        Assert.Contains("universe vcpu-create-race\n", File.ReadAllText(f));
        Assert.Equal(0, Run(f).Code);

        string g = Temp("none.scn");
        var (code, o, _) = Check("vcpu-create-race", "--policy", "linux-7.0", "--threads", "1", "--save-trace", g);
        Assert.Equal(0, code);
        Assert.Contains($"no violation: nothing saved to {g}", o);
        Assert.False(File.Exists(g));
    }

    [Fact]
    public void From_ExploresFromTheScenariosEndState()
    {
        // seed-2022 ends with L2 running after a deferred refresh: under 6.18 the stale vmcs01 is
        // three steps away (vmcall, the no-op request, the entry), not seven.
        var (code, o, _) = Check(Universe("seed"), "--policy", "linux-6.18", "--threads", "1", "--from", Example("seed-2022"));
        Assert.Equal(0, code);
        Assert.Contains("verdict: violated vmcs01-apicv-stale on vcpu0", o);
        Assert.Contains("trace (3 steps):", o);
        Assert.Contains("1. vcpu0/L2: vmcall", o);

        var fixedPolicy = Check(Universe("seed"), "--policy", "linux-7.0", "--threads", "1", "--from", Example("seed-2022"));
        Assert.Equal(0, fixedPolicy.Code);
        Assert.Contains("verdict: holds", fixedPolicy.Out);
    }

    [Fact]
    public void From_WithSaveTrace_InlinesTheScenariosSteps()
    {
        string f = Temp("from.scn");
        Check(Universe("seed"), "--policy", "linux-6.18", "--threads", "1", "--from", Example("seed-2022"), "--save-trace", f);
        string text = File.ReadAllText(f);
        Assert.Contains("# the steps of ", text);
        Assert.Contains("vcpu *: create\n", text);
        Assert.Equal(0, Run(f).Code);
    }

    [Theory]
    [InlineData(new[] { "--save-trace", "x.scn" }, "--save-trace needs a universe")]
    [InlineData(new[] { "--from", "x.scn" }, "--from needs a universe")]
    [InlineData(new[] { "seed", "--from", "missing.scn" }, "missing.scn: cannot read the scenario")]
    public void CheckOptions_BadInput_ExitsTwo(string[] args, string message)
    {
        var (code, _, e) = Check(args);
        Assert.Equal(2, code);
        Assert.Contains(message, e);
    }

    [Fact]
    public void From_AScenarioThatDoesNotFitTheUniverse_ExitsTwo()
    {
        var (code, _, e) = Check(Universe("vmx-apicv-updates"), "--from", Example("seed-2022"));
        Assert.Equal(2, code);
        Assert.Contains("seed-2022.scn:22:1: step 'vcpu0/L1: vmlaunch no-tpr-shadow' is not enabled here", e);

        string f = Temp("x.scn");
        File.WriteAllText(f, "vcpu 0: create\nexpect vcpu0.apicv_active = 0\n");
        var bad = Check(Universe("seed"), "--from", f);
        Assert.Equal(2, bad.Code);
        Assert.Contains("x.scn:2:1: --from: 'expect vcpu0.apicv_active = 0' does not hold under linux-7.0", bad.Err);
    }
}

public class RunCommandHtmlTests
{
    [Fact]
    public void Html_OfAFailedReplay_HighlightsWhereItStopped()
    {
        string f = Path.Combine(Directory.CreateTempSubdirectory().FullName, "seed-run.html");
        var (o, e) = (new StringWriter(), new StringWriter());
        int code = RunCommand.Run([Path.Combine(AppContext.BaseDirectory, "examples", "seed-2022.scn"), "--policy", "linux-5.17", "--html", f], o, e);
        Assert.Equal(1, code);
        string html = File.ReadAllText(f);
        Assert.Contains("\"verdict\":\"violated\"", html);
        Assert.Contains("scenario FAILED at", html);
    }
}
