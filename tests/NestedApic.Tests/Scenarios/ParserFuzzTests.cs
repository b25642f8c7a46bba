using CsCheck;
using NestedApic.Hardware.Svm;
using NestedApic.Hardware.Vmx;
using NestedApic.Hypervisor;
using NestedApic.Scenarios;
using NestedApic.Scenarios.Toml;

namespace NestedApic.Tests.Scenarios;

/// <summary>Random and mutated inputs at every parser: each answers with a positioned error of its
/// own kind or a result, never another exception.</summary>
public class ParserFuzzTests
{
    static readonly string[] Seeds = Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "universes"), "*.toml")
        .Select(File.ReadAllText).ToArray();

    /// <summary>A shipped universe with a few characters deleted, duplicated or replaced.</summary>
    static readonly Gen<string> MutatedUniverse =
        from seed in Gen.OneOfConst(Seeds)
        from edits in Gen.Select(Gen.Int[0, 3], Gen.Int, Gen.Char["=[]\"#{},.0x-\n abz9"]).Array[1, 6]
        select Mutate(seed, edits);

    static string Mutate(string text, (int Kind, int At, char C)[] edits)
    {
        var s = new System.Text.StringBuilder(text);
        foreach (var (kind, at, c) in edits)
        {
            if (s.Length == 0) break;
            int i = (int)((uint)at % (uint)s.Length);
            switch (kind)
            {
                case 0: s.Remove(i, 1); break;
                case 1: s.Insert(i, c); break;
                case 2: s[i] = c; break;
                default: s.Insert(i, s[i]); break;
            }
        }
        return s.ToString();
    }

    static void UniverseParsesOrFailsCleanly(string text)
    {
        try
        {
            var u = Universe.Parse(text, "fuzz.toml");
            foreach (int n in u.SuiteVcpus) Setup.Build(u, u.Config with { Vcpus = n });
        }
        catch (TomlException e) { Assert.StartsWith("fuzz.toml:", e.Message); }
        catch (InputException e) { Assert.StartsWith("fuzz.toml", e.Message); }
    }

    [Fact]
    public void Universe_MutatedFiles() => MutatedUniverse.SampleFixed(UniverseParsesOrFailsCleanly, iter: 3000, seed: "0N0XIzNsQ0O2");

    [Fact]
    public void Universe_RandomText() =>
        Gen.String[Gen.Char["[]=\"'#{},.\n abcdefxyz0123456789_-"], 0, 200].SampleFixed(UniverseParsesOrFailsCleanly, iter: 3000, seed: "0N0XIzNsQ0O2");

    static readonly string VectorLine = File.ReadLines(Path.Combine(AppContext.BaseDirectory, "data", "conformance", "vmentry-vectors.jsonl")).First();

    [Fact]
    public void VmentryLine_MutatedLines() =>
        Gen.Select(Gen.Int[0, 3], Gen.Int, Gen.Char["{}[]\":,0x7fn-l "]).Array[1, 6]
            .Select(edits => Mutate(VectorLine, edits))
            .SampleFixed(line =>
            {
                if (!VmEntryVector.TryParse(line, out _, out var error))
                    Assert.StartsWith("f.jsonl:3: field ", error.Format("f.jsonl", 3));
            }, iter: 3000, seed: "0N0XIzNsQ0O2");

    static readonly string[] ScenarioSeeds = Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "examples"), "*.scn")
        .Select(File.ReadAllText).ToArray();

    /// <summary>Mutated example scenarios, parsed and replayed (under the built-in minimal universe
    /// when their own is mangled): a positioned error or a result, nothing else.</summary>
    [Fact]
    public void Scenario_MutatedFiles() =>
        (from seed in Gen.OneOfConst(ScenarioSeeds)
         from edits in Gen.Select(Gen.Int[0, 3], Gen.Int, Gen.Char["#:/ \n0123vcpuL2-=xe"]).Array[1, 6]
         select Mutate(seed, edits))
        .SampleFixed(text =>
        {
            try
            {
                var sc = Scenario.Parse(text, Path.Combine(AppContext.BaseDirectory, "examples", "fuzz.scn"));
                ScenarioRunner.Run(sc, name => Universe.Load(Path.Combine(AppContext.BaseDirectory, "universes", name + ".toml")), Policies.Linux70);
            }
            // Every error names the file it is about: the scenario, an include or a universe.
            catch (InputException e) { Assert.Matches(@"\.(scn|toml)\b", e.Message); }
            catch (TomlException e) { Assert.Contains(".toml:", e.Message); }
        }, iter: 1500, seed: "0N0XIzNsQ0O2");

    static readonly string VmrunLine = File.ReadLines(Path.Combine(AppContext.BaseDirectory, "data", "conformance", "vmrun-vectors-svm.jsonl")).First();

    [Fact]
    public void VmrunLine_MutatedLines() =>
        Gen.Select(Gen.Int[0, 3], Gen.Int, Gen.Char["{}[]\":,0x7fn-l "]).Array[1, 6]
            .Select(edits => Mutate(VmrunLine, edits))
            .SampleFixed(line =>
            {
                if (!VmrunVector.TryParse(line, out _, out var error))
                    Assert.StartsWith("f.jsonl:3: field ", error.Format("f.jsonl", 3));
            }, iter: 3000, seed: "0N0XIzNsQ0O2");
}
