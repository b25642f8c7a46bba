using System.CommandLine;
using System.CommandLine.Parsing;

namespace NestedApic.Cli;

/// <summary>Where a command reads and writes: the console, or string writers in tests.</summary>
public sealed record Io(TextReader In, TextWriter Out, TextWriter Err)
{
    public static Io Console => new(System.Console.In, System.Console.Out, System.Console.Error);
}

/// <summary>
/// The command line, parsed by System.CommandLine (help, suggestions, POSIX conventions). A parse
/// error is one line naming the command and what was wrong, then a pointer to --help; exit 2.
/// </summary>
public static class Cli
{
    public static RootCommand Root(Io io)
    {
        var root = new RootCommand("NestedApic: an executable model of x86 interrupt virtualization under nested " +
            "virtualization (KVM on Intel VMX/APICv), and a model checker that explores every interleaving.");
        foreach (var c in new[] { ClusterCheck.Extend(CheckCommand.Define(io), io), RunCommand.Define(io), DiffCommand.Define(io),
                     PoliciesCommand.Define(io), VmEntryCommand.Define(io), VmrunCommand.Define(io), SiloCommand.Define(io) })
            root.Subcommands.Add(c);
        return root;
    }

    public static int Start(string[] args) => Invoke(Root(Io.Console), args, Io.Console);

    /// <summary>Parses <paramref name="args"/> against <paramref name="command"/> and runs its action.</summary>
    public static int Invoke(Command command, string[] args, Io io)
    {
        var result = command.Parse(args);
        if (result.Errors.Count > 0)
        {
            var failed = result.CommandResult.Command;
            string name = failed is RootCommand ? "nestedapic" : "nestedapic " + failed.Name;
            io.Err.WriteLine($"{name}: {Describe(result.Errors[0])}");
            io.Err.WriteLine($"Run '{name} --help' for usage.");
            return 2;
        }
        return result.Invoke(new InvocationConfiguration { Output = io.Out, Error = io.Err });
    }

    static string Describe(ParseError e) => e.Message.TrimEnd('.');

    /// <summary>A positional argument that looks like an option is an unknown option, not a file
    /// name ("-" alone still means standard input).</summary>
    public static void RejectOptionLike<T>(Command command, Argument<T> argument) =>
        command.Validators.Add(r =>
        {
            if (r.GetValue(argument) is string v && v.StartsWith('-') && v != "-") r.AddError($"unknown option '{v}'");
        });

    public static Option<int?> IntOption(string name, string description, int min, int max)
    {
        var o = new Option<int?>(name) { Description = description };
        o.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int?>() is { } v && (v < min || v > max)) r.AddError($"{name} must be an integer in {min}..{max}");
        });
        return o;
    }
}
