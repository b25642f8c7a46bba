using NestedApic.Hypervisor;

namespace NestedApic.Cli;

/// <summary>`nestedapic policies`: the presets and the switches a universe may override.</summary>
public static class PoliciesCommand
{
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        if (args.Length != 0)
        {
            stderr.WriteLine("usage: nestedapic policies");
            return 2;
        }
        stdout.WriteLine("presets:");
        foreach (var p in Policies.Presets)
            stdout.WriteLine($"  {p.Name,-12} {string.Join(" ", Policies.Switches.Select(s => $"{s.Key}={s.Get(p)}"))}");
        stdout.WriteLine();
        stdout.WriteLine("switches (override in a universe's [policy] table):");
        foreach (var s in Policies.Switches)
            stdout.WriteLine($"  {s.Key,-32} {s.Help} [{string.Join(" | ", s.Values)}]");
        return 0;
    }
}
