using NestedApic.Cli;
using NestedApic.Hypervisor;
using NestedApic.Scenarios;

namespace NestedApic.Tests.Scenarios;

public class ScenarioTests
{
    static string Dir() => Directory.CreateTempSubdirectory().FullName;

    static string Write(string dir, string name, string text)
    {
        string f = Path.Combine(dir, name);
        File.WriteAllText(f, text);
        return f;
    }

    static ScenarioResult Replay(string text, string? policy = null)
    {
        var sc = Scenario.Load(Write(Dir(), "t.scn", text));
        return ScenarioRunner.Run(sc, BuiltinUniverses.Load, policy is null ? null : Policies.Find(policy));
    }

    static string ErrorOf(string text, string? policy = null) =>
        Assert.Throws<InputException>(() => Replay(text, policy)).Message;

    [Fact]
    public void Parse_CommentsDirectivesAndEveryItemKind()
    {
        var sc = Scenario.Parse("""
            # a comment
            universe seed   # trailing comment
            policy linux-6.18
            vcpus 2
            vcpu0/L1: vmlaunch   no-tpr-shadow
            vcpu 1: run
            vcpu*/user: create-vcpu
            expect holds svi-stale
            expect violated pir-stranded
            expect vcpu0.apicv_active = 1
            expect inhibits = {BLOCKIRQ}
            """, "x.scn");
        Assert.Equal(("seed", 2), (sc.Universe!.Value, sc.Universe.Pos.Line));
        Assert.Equal("linux-6.18", sc.Policy!.Value);
        Assert.Equal(2, sc.Vcpus!.Value);
        Assert.Equal(7, sc.Items.Count);
        var label = Assert.IsType<StepItem>(sc.Items[0]);
        Assert.Equal(("0", "L1", "vmlaunch no-tpr-shadow"), (label.Vcpu, label.Lane, label.Body));
        var shortForm = Assert.IsType<StepItem>(sc.Items[1]);
        Assert.Equal(("1", null, "run"), (shortForm.Vcpu, shortForm.Lane, shortForm.Body));
        Assert.Equal("*", Assert.IsType<StepItem>(sc.Items[2]).Vcpu);
        Assert.Equal((true, Property.SviStale), (Assert.IsType<ExpectPropertyItem>(sc.Items[3]).Holds, ((ExpectPropertyItem)sc.Items[3]).Property));
        Assert.False(Assert.IsType<ExpectPropertyItem>(sc.Items[4]).Holds);
        Assert.Equal(("vcpu0.apicv_active", "1"), (((ExpectFieldItem)sc.Items[5]).Field, ((ExpectFieldItem)sc.Items[5]).Value));
        Assert.Equal("{BLOCKIRQ}", ((ExpectFieldItem)sc.Items[6]).Value);
    }

    [Theory]
    [InlineData("frobnicate", "t.scn:1:1: expected a step ('vcpuN/LANE: EVENT' or 'vcpu N: EVENT'), expect, include, universe, policy or vcpus; got 'frobnicate'")]
    [InlineData("vcpu0/L3: vmcall", "t.scn:1:7: unknown lane 'L3'; expected user, L0, L1 or L2")]
    [InlineData("vcpu 0: fly", "t.scn:1:9: unknown event 'fly'; known: create-vcpu")]
    [InlineData("expect holds no-such", "t.scn:1:14: unknown property 'no-such'; known: kvm-caused-vmentry-failure")]
    [InlineData("expect maybe", "t.scn:1:8: expected 'holds PROPERTY', 'violated PROPERTY' or 'FIELD = VALUE', got 'maybe'")]
    [InlineData("expect vcpu0.colour = 1", "t.scn:1:8: unknown field 'colour' in 'vcpu0.colour'; known: life, phase, level")]
    [InlineData("expect colour = 1", "t.scn:1:8: unknown field 'colour'; expected inhibits or vcpuN.FIELD")]
    [InlineData("vcpus 9", "t.scn:1:7: vcpus needs an integer in 1..4, got '9'")]
    [InlineData("policy", "t.scn:1:1: expected a preset name or 'universe'")]
    [InlineData("vcpu 0: create\nvcpus 2", "t.scn:2:1: directives go before the first step or expect")]
    [InlineData("vcpus 1\nvcpus 2", "t.scn:2:1: '2' contradicts '1' given at")]
    [InlineData("include missing.scn", "t.scn:1:1: cannot include")]
    [InlineData("include", "t.scn:1:1: include needs a file name")]
    public void ParseErrors_NameFileLineColumnAndWhatWasExpected(string text, string message)
    {
        string e = ErrorOf(text);
        Assert.Contains(message, e);
    }

    [Fact]
    public void Include_IsRelativeToTheIncludingFile_AndInlinedInPlace()
    {
        string dir = Dir();
        Directory.CreateDirectory(Path.Combine(dir, "lib"));
        Write(dir, "lib/prelude.scn", "universe seed\nvcpus 2\nvcpu *: create\ninclude more.scn\n");
        Write(dir, "lib/more.scn", "vcpu 1: guest-debug-blockirq on\n");
        var sc = Scenario.Load(Write(dir, "main.scn", "include lib/prelude.scn\nvcpu 0: enter-guest\nexpect vcpu0.apicv_active = 0\n"));
        Assert.Equal("seed", sc.Universe!.Value);
        Assert.Equal(["vcpu *: create", "vcpu 1: guest-debug-blockirq on", "vcpu 0: enter-guest"], sc.Items.OfType<StepItem>().Select(s => s.Text));
        Assert.EndsWith("more.scn", sc.Items[1].Pos.File);
        var r = ScenarioRunner.Run(sc, BuiltinUniverses.Load);
        Assert.True(r.Passed);
    }

    [Fact]
    public void Include_Cycle_IsAnErrorNamingTheChain()
    {
        string dir = Dir();
        Write(dir, "a.scn", "include b.scn\n");
        Write(dir, "b.scn", "\ninclude a.scn\n");
        var e = Assert.Throws<InputException>(() => Scenario.Load(Path.Combine(dir, "a.scn")));
        Assert.Contains("b.scn:2:1: include cycle: a.scn → b.scn → a.scn", e.Message);
    }

    [Fact]
    public void Defaults_MinimalUniverse_Linux517_ItsVcpuCount()
    {
        var r = Replay("vcpu 0: create\n");
        Assert.Equal("minimal", r.Universe.Name);
        Assert.Equal("linux-5.17", r.Policy.Name);
        Assert.Equal(2, r.Vcpus);
        Assert.Equal(["no-tpr-shadow", "apic-passthrough"], r.Universe.Config.Vmcs12s.Select(v => v.Name));
    }

    [Fact]
    public void PolicyUniverse_TakesTheUniversesPolicy_AndTheOverrideWins()
    {
        Assert.Equal("linux-7.0", Replay("universe seed\npolicy universe\n").Policy.Name);
        Assert.Equal("linux-6.18", Replay("universe seed\npolicy universe\n", "linux-6.18").Policy.Name);
    }

    [Fact]
    public void ShortForms_ExpandToTheModelsEvents()
    {
        var r = Replay("vcpus 1\nvcpu 0: create\nvcpu 0: run\nvcpu 0: exit\nvcpu 0: enter-guest\nvcpu 0: vmlaunch no-tpr-shadow\nexpect vcpu0.level = L2 (vmcs12 no-tpr-shadow)\n");
        Assert.True(r.Passed, r.Failed?.Detail);
        var labels = r.Entries.OfType<StepEntry>().SelectMany(s => s.Events).Select(e => e.Label).ToArray();
        Assert.Equal(["vcpu0/user: create-vcpu", "vcpu0/user: publish-vcpu", "vcpu0/user: kvm-run", "vcpu0/user: exit-to-userspace",
            "vcpu0/user: kvm-run", "vcpu0/L0: service-request APIC_PAGE_RELOAD", "vcpu0/L0: vm-enter", "vcpu0/L1: vmlaunch no-tpr-shadow"], labels);
    }

    [Fact]
    public void LabelForm_Wildcards_EveryVcpuAndTheLast()
    {
        var r = Replay("vcpus 3\nvcpu*/user: create-vcpu\nvcpu*/user: publish-vcpu\nvcpu$/user: guest-debug-blockirq on\nexpect vcpu2.blockirq = 1\nexpect vcpu0.blockirq = 0\nvcpu*/L0: enter-guest\nexpect vcpu1.phase = InGuest\n");
        Assert.True(r.Passed, r.Failed?.Detail);
        Assert.Equal(3, r.Entries.OfType<StepEntry>().First().Events.Count);
    }

    [Fact]
    public void NotEnabledStep_ListsTheEnabledSteps()
    {
        string e = ErrorOf("vcpus 1\nvcpu 0: create\nvcpu0/L1: vmlaunch no-tpr-shadow\n");
        Assert.Contains("t.scn:3:1: step 'vcpu0/L1: vmlaunch no-tpr-shadow' is not enabled here; enabled: vcpu0/user: kvm-run;", e);
        string s = ErrorOf("vcpus 1\nvcpu 0: vmcall\n");
        Assert.Contains("t.scn:2:1: step 'vcpu 0: vmcall' is not enabled here ('vmcall' on vcpu0); enabled: vcpu0/user: create-vcpu", s);
    }

    [Theory]
    [InlineData("vcpus 1\nvcpu 3: create\n", "t.scn:2:1: vcpu3 does not exist; this replay has 1 vCPU")]
    [InlineData("vcpus 1\nexpect vcpu2.life = Absent\n", "t.scn:2:1: vcpu2.life: vcpu2 does not exist; this replay has 1 vCPUs")]
    [InlineData("vcpu 0: enter-guest\n", "t.scn:1:1: vcpu0 cannot enter the guest: it is Absent")]
    [InlineData("policy linux-1.0\n", "t.scn:1:1: unknown policy 'linux-1.0'; known: linux-5.17")]
    [InlineData("universe nowhere\n", "t.scn:1:1: universe 'nowhere': no built-in universe 'nowhere'; built in:")]
    [InlineData("universe nowhere.toml\n", "t.scn:1:1: universe 'nowhere.toml':")]
    public void ReplayErrors_AreInputErrors(string text, string message) => Assert.Contains(message, ErrorOf(text));

    [Fact]
    public void FieldExpect_Fails_WithTheActualValue_AndStopsTheReplay()
    {
        var r = Replay("vcpus 1\nvcpu 0: create\nexpect vcpu0.apicv_active = 0\nvcpu 0: run\n");
        Assert.False(r.Passed);
        Assert.Equal(3, r.Failed!.Item.Pos.Line);
        Assert.Equal("vcpu0.apicv_active = 1", r.Failed.Detail);
        Assert.DoesNotContain(r.Entries.OfType<StepEntry>(), s => s.Item.Text == "vcpu 0: run");
    }

    [Fact]
    public void FieldExpect_OnAnAbsentVcpu_Fails()
    {
        var r = Replay("expect vcpu1.apicv_active = 1\n");
        Assert.Equal("vcpu1.apicv_active has no value: vcpu1 is Absent", r.Failed!.Detail);
        Assert.True(Replay("expect vcpu1.life = Absent\nexpect inhibits = {}\n").Passed);
    }

    [Fact]
    public void PropertyExpects_ViolatedClaimsTheBreak_OtherwiseItIsReported()
    {
        const string trace = "universe seed\nvcpu *: create\nvcpu 1: guest-debug-blockirq on\nvcpu 0: enter-guest\nvcpu0/L1: vmlaunch no-tpr-shadow\nvcpu1/user: guest-debug-blockirq off\nvcpu0/L0: service-request APICV_UPDATE\nvcpu0/L0: vm-enter\n";
        var claimed = Replay(trace + "expect violated kvm-caused-vmentry-failure\n");
        Assert.True(claimed.Passed);
        Assert.DoesNotContain(claimed.Entries, e => e is UnexpectedEntry { Property: Property.KvmCausedVmentryFailure });

        var silent = Replay(trace);
        Assert.True(silent.Passed);
        var u = Assert.Single(silent.Entries.OfType<UnexpectedEntry>(), e => e.Property == Property.KvmCausedVmentryFailure);
        Assert.Equal(0, u.Vcpu);
        Assert.Contains("VMfailValid(7)", u.Explanation);

        var holds = Replay(trace + "expect holds kvm-caused-vmentry-failure\n");
        Assert.False(holds.Passed);
        Assert.Contains("rule apicv-requires-tpr-shadow", holds.Failed!.Detail);

        var notBroken = Replay(trace + "expect violated svi-stale\n", "linux-7.0");
        Assert.Equal("svi-stale holds", notBroken.Failed!.Detail);
    }

    [Fact]
    public void Replay_IsDeterministic_AndEndsWithUnusedBudgets()
    {
        string f = Path.Combine(AppContext.BaseDirectory, "examples", "seed-2022.scn");
        var a = ScenarioRunner.Run(Scenario.Load(f), BuiltinUniverses.Load, Policies.Linux70);
        var b = ScenarioRunner.Run(Scenario.Load(f), BuiltinUniverses.Load, Policies.Linux70);
        var model = new NestedApic.Hypervisor.Vmx.VmxModel(a.Universe.Config with { Policy = a.Policy, Vcpus = a.Vcpus }, default);
        Assert.Equal(model.Fields(a.Final), model.Fields(b.Final));
        Assert.Equal(0, a.Final.Used[(int)EventKind.VmLaunch]);
    }

    [Theory]
    [InlineData("seed-2022", "linux-5.17", false)]
    [InlineData("seed-2022", "linux-5.18", true)]
    [InlineData("seed-2022", "linux-6.18", true)]
    [InlineData("seed-2022", "linux-6.19", true)]
    [InlineData("seed-2022", "linux-7.0", true)]
    [InlineData("vmx-apicv-updates", "linux-5.17", false)]
    [InlineData("vmx-apicv-updates", "linux-5.18", false)]
    [InlineData("vmx-apicv-updates", "linux-6.18", false)]
    [InlineData("vmx-apicv-updates", "linux-6.19", true)]
    [InlineData("vmx-apicv-updates", "linux-7.0", true)]
    [InlineData("vcpu-create-race", "linux-5.17", false)]
    [InlineData("vcpu-create-race", "linux-5.18", true)]
    [InlineData("vcpu-create-race", "linux-6.18", true)]
    [InlineData("vcpu-create-race", "linux-6.19", true)]
    [InlineData("vcpu-create-race", "linux-7.0", true)]
    public void Examples_PassOrFailPerPreset(string example, string policy, bool passes)
    {
        var sc = Scenario.Load(Path.Combine(AppContext.BaseDirectory, "examples", example + ".scn"));
        var r = ScenarioRunner.Run(sc, BuiltinUniverses.Load, Policies.Find(policy));
        Assert.Equal(passes, r.Passed);
    }

    [Fact]
    public void Examples_FailWhereTheirCommentsSay()
    {
        string Failed(string ex, string p) => ScenarioRunner.Run(Scenario.Load(Path.Combine(AppContext.BaseDirectory, "examples", ex + ".scn")),
            BuiltinUniverses.Load, Policies.Find(p)).Failed!.Item.Text;
        Assert.Equal("expect holds kvm-caused-vmentry-failure", Failed("seed-2022", "linux-5.17"));
        Assert.Equal("expect holds vmcs01-apicv-stale", Failed("vmx-apicv-updates", "linux-6.18"));
        Assert.Equal("expect vcpu0.apicv_active = 0", Failed("vmx-apicv-updates", "linux-5.17"));
        Assert.Equal("expect holds apicv-belief-incoherent", Failed("vcpu-create-race", "linux-5.17"));
    }
}
