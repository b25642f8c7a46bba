using System.Text;
using NestedApic.Scenarios.Toml;

namespace NestedApic.Tests.Scenarios.Toml;

using Toml = NestedApic.Scenarios.Toml.Toml;

/// <summary>
/// Random and mutated inputs must either parse or throw TomlException: never another exception,
/// never a hang. Seeded, so a failure reproduces; the failing input is in the message.
/// </summary>
public class TomlFuzzTests
{
    private static readonly string[] Seeds =
    [
        "name = \"smoke\"\nvcpus = 4\n[events]\nipi = { weight = 2, on = true }\nlist = [1, 2.5, 'x', [0x1F, 0o7, 0b1]]\n",
        "[[vm]]\nid = 1\n[vm.apic]\nmode = \"x2\\u00e9\"\n[[vm]]\nid = -2_000\n# end\n",
        "a.b.c = 1\n\"q k\".'l' = 1e-3\ns = \"\"\"\nmulti \\\n  line\"\"\"\nt = '''raw'''\n",
        "xs = [\n  1, # c\n  2,\n]\ninf = -inf\nnan = nan\n[t]\nk = { a.b = 1, c = [] }\r\n",
    ];

    // Characters that matter to the grammar, plus a few that must be rejected.
    private const string Alphabet = "[]{}\"'=.,#\n\r\t \\_+-:0123456789abexoifnlsrtuTUEZ\u0001\u00e9\uD800";

    [Fact]
    public async Task RandomAndMutatedInputsNeverCrash()
    {
        var rng = new Random(20240611);
        var cases = new List<string>();
        for (int i = 0; i < 4000; i++) cases.Add(Mutate(rng, Seeds[rng.Next(Seeds.Length)]));
        for (int i = 0; i < 1000; i++) cases.Add(RandomText(rng, rng.Next(0, 60)));

        // A hang fails the test instead of stalling the run.
        int parsed = 0;
        var run = Task.Run(() => { foreach (var text in cases) if (Check(text)) parsed++; });
        var first = await Task.WhenAny(run, Task.Delay(TimeSpan.FromSeconds(60)));
        Assert.True(first == run, "the parser hung on one of the fuzz inputs");
        await run;
        // Both outcomes must be common, or the mutations are not exercising the parser.
        Assert.InRange(parsed, cases.Count / 20, cases.Count - cases.Count / 20);
    }

    [Fact]
    public void SeedsParse()
    {
        foreach (var s in Seeds) Toml.Parse(s, "seed.toml");
    }

    /// <summary>True when the text parsed; false when it gave a positioned TomlException.</summary>
    private static bool Check(string text)
    {
        TomlTable t;
        try
        {
            t = Toml.Parse(text, "f.toml");
        }
        catch (TomlException e)
        {
            Assert.True(e.Line >= 1 && e.Column >= 1, $"no position in '{e.Message}' for {Show(text)}");
            return false;
        }
        catch (Exception e)
        {
            Assert.Fail($"{e.GetType().Name} for input {Show(text)}: {e}");
            return false;
        }
        int lines = text.Count(c => c == '\n') + 1;
        CheckPositions(t, lines, text);
        return true;
    }

    private static void CheckPositions(TomlValue v, int lines, string text)
    {
        Assert.True(v.Line >= 1 && v.Line <= lines && v.Column >= 1, $"bad position {v.Line}:{v.Column} of '{v.Path}' in {Show(text)}");
        if (v is TomlTable t) foreach (var (_, child) in t.Entries) CheckPositions(child, lines, text);
        if (v is TomlArray a) foreach (var item in a.Items) CheckPositions(item, lines, text);
    }

    private static string Mutate(Random rng, string s)
    {
        var sb = new StringBuilder(s);
        int edits = rng.Next(1, 5);
        for (int i = 0; i < edits; i++)
        {
            int at = rng.Next(sb.Length + 1);
            switch (rng.Next(5))
            {
                case 0 when sb.Length > 0 && at < sb.Length: sb.Remove(at, 1); break;
                case 1: sb.Insert(at, Alphabet[rng.Next(Alphabet.Length)]); break;
                case 2: sb.Length = Math.Min(sb.Length, at); break;
                case 3 when at < sb.Length:
                    int len = rng.Next(1, Math.Min(12, sb.Length - at) + 1);
                    sb.Insert(rng.Next(sb.Length + 1), sb.ToString(at, len));
                    break;
                default: if (at < sb.Length) sb[at] = Alphabet[rng.Next(Alphabet.Length)]; break;
            }
        }
        return sb.ToString();
    }

    private static string RandomText(Random rng, int length)
    {
        var sb = new StringBuilder(length);
        for (int i = 0; i < length; i++) sb.Append(Alphabet[rng.Next(Alphabet.Length)]);
        return sb.ToString();
    }

    private static string Show(string s) => "\"" + s.Replace("\\", "\\\\").Replace("\n", "\\n").Replace("\r", "\\r") + "\"";
}
