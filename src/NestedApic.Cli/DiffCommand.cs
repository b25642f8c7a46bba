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

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr) =>
        Cli.Invoke(Define(new Io(TextReader.Null, stdout, stderr)), args, new Io(TextReader.Null, stdout, stderr));

    public static System.CommandLine.Command Define(Io io)
    {
        var universe = new System.CommandLine.Argument<string>("universe") { Description = "a universe file (.toml) or a built-in name" };
        var policies = new System.CommandLine.Option<string[]>("--policy") { Description = "the two policies to compare, PRESET[:switch=value,...] (give it twice)", Arity = System.CommandLine.ArgumentArity.OneOrMore };
        policies.Validators.Add(r => { if (r.GetValueOrDefault<string[]>() is not { Length: 2 }) r.AddError("diff needs exactly two --policy options"); });
        var vcpus = Cli.IntOption("--vcpus", "number of vCPUs; default: the universe's", 1, KvmState.MaxVcpus);
        var threads = Cli.IntOption("--threads", "worker threads; default: all cores", 1, 1024);
        var cmd = new System.CommandLine.Command("diff", "Check each property under two policies and show where the verdicts differ, with each side's shortest trace.")
        { universe, policies, vcpus, threads };
        Cli.RejectOptionLike(cmd, universe);
        cmd.SetAction(r => Execute(r.GetValue(universe)!, r.GetValue(policies)!, r.GetValue(vcpus), r.GetValue(threads) ?? Environment.ProcessorCount, io.Out, io.Err));
        return cmd;
    }

    static int Execute(string universe, string[] policies, int? vcpus, int threads, TextWriter stdout, TextWriter stderr)
    {
        using var ctrlC = CtrlC.Install(new Io(TextReader.Null, stdout, stderr));
        try
        {
            var u = BuiltinUniverses.Resolve(universe);
            var a = u.PolicyFor(policies[0]);
            var b = u.PolicyFor(policies[1]);
            int n = vcpus ?? u.Config.Vcpus;
            stdout.WriteLine($"universe {u.Name} ({u.File}), {n} vCPU{(n == 1 ? "" : "s")}: {a.Name} vs {b.Name}");
            int differ = 0;
            var settings = new UniverseCheck.Settings(threads, Cancel: ctrlC.Token);
            ctrlC.Searching = true;
            foreach (var p in Properties.All.Where(p => p.AppliesTo(u.Config.Vendor)))
            {
                var only = u with { Config = u.Config with { CheckedProperties = 1u << (int)p }, Expect = new Dictionary<string, string>() };
                var ra = UniverseCheck.Run(only, a, n, settings);
                var rb = UniverseCheck.Run(only, b, n, settings);
                if (ctrlC.Token.IsCancellationRequested)
                {
                    stdout.WriteLine($"stopped by Ctrl-C at {p.Id()}: {differ} propert{(differ == 1 ? "y differs" : "ies differ")} so far");
                    return 3;
                }
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

}
