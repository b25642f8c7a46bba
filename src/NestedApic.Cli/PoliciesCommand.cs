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
        foreach (var vendor in new[] { CpuVendor.Intel, CpuVendor.Amd })
        {
            stdout.WriteLine($"presets (vendor = \"{vendor.Name()}\"):");
            foreach (var p in Policies.For(vendor))
                stdout.WriteLine($"  {p.Name,-22} {string.Join(" ", Policies.Switches.Where(s => s.AppliesTo(vendor)).Select(s => $"{s.Key}={s.Get(p)}"))}");
            stdout.WriteLine();
        }
        stdout.WriteLine("switches (override in a universe's [policy] table; common to both vendors unless marked):");
        foreach (var s in Policies.Switches)
            stdout.WriteLine($"  {s.Key,-38} {(s.Vendor is { } v ? $"({v.Name()}) " : "")}{s.Help} [{string.Join(" | ", s.Values)}]");
        return 0;
    }
}
