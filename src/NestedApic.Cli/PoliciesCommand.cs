using NestedApic.Hypervisor;

namespace NestedApic.Cli;

/// <summary>`nestedapic policies`: the presets and the switches a universe may override.</summary>
public static class PoliciesCommand
{
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr) =>
        Cli.Invoke(Define(new Io(TextReader.Null, stdout, stderr)), args, new Io(TextReader.Null, stdout, stderr));

    public static System.CommandLine.Command Define(Io io)
    {
        var cmd = new System.CommandLine.Command("policies", "List the presets (released kernels) and the switches a universe may override.");
        cmd.SetAction(_ => Execute(io.Out));
        return cmd;
    }

    static int Execute(TextWriter stdout)
    {
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
