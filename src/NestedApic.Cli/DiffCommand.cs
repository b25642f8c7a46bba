using NestedApic.Hypervisor;
using NestedApic.Scenarios;
using NestedApic.Scenarios.Toml;

namespace NestedApic.Cli;

/// <summary>
/// `nestedapic diff UNIVERSE --policy A --policy B [--vcpus N] [--threads T]`: "what does this
/// patch change?" Each property is checked on its own under both policies; the properties whose
/// verdicts differ are printed with each side's shortest trace. Exit 0 when the designs agree on
/// every property, 1 when they differ, 2 on bad input.
/// </summary>
public static class DiffCommand
{
    public const string Usage = "usage: nestedapic diff UNIVERSE.toml|NAME --policy A --policy B [--vcpus N] [--threads T]";

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        try
        {
            var (universe, policies, vcpus, threads) = Parse(args);
            var u = BuiltinUniverses.Resolve(universe);
            var a = Policies.Find(policies[0]) ?? throw Unknown(policies[0]);
            var b = Policies.Find(policies[1]) ?? throw Unknown(policies[1]);
            int n = vcpus ?? u.Config.Vcpus;
            stdout.WriteLine($"universe {u.Name} ({u.File}), {n} vCPU{(n == 1 ? "" : "s")}: {a.Name} vs {b.Name}");
            int differ = 0;
            foreach (var p in Properties.All)
            {
                var only = u with { Config = u.Config with { CheckedProperties = 1u << (int)p }, Expect = new Dictionary<string, string>() };
                var ra = UniverseCheck.Run(only, a, n, new UniverseCheck.Settings(threads));
                var rb = UniverseCheck.Run(only, b, n, new UniverseCheck.Settings(threads));
                bool same = ra.Verdict == rb.Verdict;
                stdout.WriteLine($"  {p.Id(),-28} {a.Name}: {Short(ra),-22} {b.Name}: {Short(rb),-22} {(same ? "same" : "DIFFERENT")}");
                if (same) continue;
                differ++;
                foreach (var (name, r) in new[] { (a.Name, ra), (b.Name, rb) })
                    if (r.Verdict == "violated")
                    {
                        stdout.WriteLine($"    {name}, shortest trace to {p.Id()}:");
                        foreach (var t in r.Trace) stdout.WriteLine($"      {t.Index,3}. {t.Label}");
                        stdout.WriteLine($"      {r.Explanation}");
                    }
            }
            stdout.WriteLine(differ == 0 ? "the two designs agree on every property" : $"{differ} propert{(differ == 1 ? "y differs" : "ies differ")}");
            return differ == 0 ? 0 : 1;
        }
        catch (Exception e) when (e is TomlException or InputException)
        {
            stderr.WriteLine(e.Message);
            return 2;
        }
    }

    static string Short(CheckReport r) => r.Verdict == "violated" ? $"violated ({r.Trace.Count} steps)" : r.Verdict;

    static InputException Unknown(string p) =>
        new($"--policy: unknown policy '{p}'; known: {string.Join(", ", Policies.Presets.Select(x => x.Name))}");

    static (string Universe, List<string> Policies, int? Vcpus, int Threads) Parse(string[] args)
    {
        string? universe = null;
        var policies = new List<string>();
        int? vcpus = null;
        int threads = Environment.ProcessorCount;
        for (int i = 0; i < args.Length; i++)
        {
            string a = args[i];
            string Value() => i + 1 < args.Length ? args[++i] : throw new InputException($"{a} needs a value\n{Usage}");
            switch (a)
            {
                case "--policy": policies.Add(Value()); break;
                case "--vcpus": vcpus = int.TryParse(Value(), out int v) && v is >= 1 and <= KvmState.MaxVcpus ? v : throw new InputException($"--vcpus must be an integer in 1..{KvmState.MaxVcpus}"); break;
                case "--threads": threads = int.TryParse(Value(), out int t) && t >= 1 ? t : throw new InputException("--threads must be a positive integer"); break;
                default:
                    if (a.StartsWith('-') || universe is not null) throw new InputException($"unexpected argument '{a}'\n{Usage}");
                    universe = a;
                    break;
            }
        }
        if (universe is null || policies.Count != 2) throw new InputException($"diff needs a universe and exactly two --policy options\n{Usage}");
        return (universe, policies, vcpus, threads);
    }
}
