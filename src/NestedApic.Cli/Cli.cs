using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Parsing;
using NestedApic.Scenarios;
using NestedApic.Scenarios.Toml;

namespace NestedApic.Cli;

/// <summary>Where a command reads and writes: the console, or string writers in tests.</summary>
public sealed record Io(TextReader In, TextWriter Out, TextWriter Err)
{
    public static Io Console => new(System.Console.In, System.Console.Out, System.Console.Error);
}

/// <summary>The exit codes every command shares (README "Exit codes").</summary>
public static class ExitCodes
{
    public const int AsExpected = 0;
    public const int Violation = 1;
    public const int BadInput = 2;
    public const int Stopped = 3;
    /// <summary>A bug in NestedApic itself (EX_SOFTWARE of sysexits.h), never confused with a verdict.</summary>
    public const int InternalError = 70;
}

/// <summary>
/// The command line, parsed by System.CommandLine (help, suggestions, POSIX conventions). A parse
/// error is one line naming the command and what was wrong; exit 2. Whatever a command throws
/// ends as one line too: bad input 2, an unwritable output 2, a bug in the tool 70.
/// </summary>
public static class Cli
{
    /// <summary>Set (to anything) in the environment, makes the tool fail as a bug would: the
    /// process tests check that an internal error exits 70 with one line.</summary>
    public const string FaultVariable = "NESTEDAPIC_TEST_INTERNAL_ERROR";

    public static Command Root(Io io)
    {
        // A plain command named as the installed tool, so help says `nestedapic`, not the assembly name.
        var root = new Command("nestedapic", "NestedApic: an executable model of x86 interrupt virtualization under nested " +
            "virtualization (KVM on Intel VMX/APICv and AMD SVM/AVIC), and a model checker that explores every interleaving.")
        {
            new HelpOption(), new VersionOption(),
        };
        foreach (var c in new[] { ClusterCheck.Extend(CheckCommand.Define(io), io), RunCommand.Define(io), DiffCommand.Define(io),
                     PoliciesCommand.Define(io), VmEntryCommand.Define(io), VmrunCommand.Define(io), SiloCommand.Define(io) })
            root.Subcommands.Add(c);
        root.SetAction(_ =>
        {
            io.Err.WriteLine("nestedapic: no command given; commands: " + string.Join(", ", root.Subcommands.Select(c => c.Name)) + " (see 'nestedapic --help')");
            return ExitCodes.BadInput;
        });
        return root;
    }

    public static int Start(string[] args)
    {
        // A worker thread's exception would otherwise print a stack trace and abort (134).
        AppDomain.CurrentDomain.UnhandledException += (_, e) =>
        {
            TryWrite(Console.Error, Internal(e.ExceptionObject as Exception));
            Environment.Exit(ExitCodes.InternalError);
        };
        return Invoke(Root(Io.Console), args, Io.Console);
    }

    /// <summary>Parses <paramref name="args"/> against <paramref name="command"/> and runs its action.</summary>
    public static int Invoke(Command command, string[] args, Io io)
    {
        try
        {
            var result = command.Parse(args);
            if (result.Errors.Count > 0)
            {
                var failed = result.CommandResult.Command;
                string name = failed.Name == "nestedapic" ? "nestedapic" : "nestedapic " + failed.Name;
                io.Err.WriteLine($"{name}: {Describe(result, command)} (see '{name} --help')");
                return ExitCodes.BadInput;
            }
            if (Environment.GetEnvironmentVariable(FaultVariable) is { Length: > 0 })
                throw new InvalidOperationException($"fault injected by {FaultVariable}");
            return result.Invoke(new InvocationConfiguration { Output = io.Out, Error = io.Err, EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (e is InputException or TomlException)
        {
            TryWrite(io.Err, e.Message);
            return ExitCodes.BadInput;
        }
        catch (IOException e)
        {
            // Output that cannot be written (a full disk, /dev/full, a closed pipe) is the user's environment, not a bug.
            TryWrite(io.Err, $"nestedapic: cannot write the output: {e.Message}");
            return ExitCodes.BadInput;
        }
        catch (OperationCanceledException)
        {
            TryWrite(io.Err, "nestedapic: stopped by Ctrl-C");
            return ExitCodes.Stopped;
        }
        catch (Exception e)
        {
            TryWrite(io.Err, Internal(e));
            return ExitCodes.InternalError;
        }
    }

    /// <summary>One line; with NESTEDAPIC_DEBUG set, the whole exception (for the bug report).</summary>
    static string Internal(Exception? e) =>
        Environment.GetEnvironmentVariable("NESTEDAPIC_DEBUG") is { Length: > 0 } ? $"nestedapic: internal error: {e}"
        : $"nestedapic: internal error (a bug in NestedApic, please report it; NESTEDAPIC_DEBUG=1 shows where): {e?.GetType().Name}: {OneLine(e?.Message ?? "unknown")}";

    static string OneLine(string s) => string.Join(' ', s.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries));

    static void TryWrite(TextWriter w, string line)
    {
        try { w.WriteLine(line); } catch (IOException) { } catch (ObjectDisposedException) { }
    }

    /// <summary>An unknown command is named as one; otherwise the parser's first error.</summary>
    static string Describe(ParseResult result, Command root)
    {
        if (result.CommandResult.Command == root && root.Subcommands.Count > 0 && result.UnmatchedTokens.Count > 0 && !result.UnmatchedTokens[0].StartsWith('-'))
            return $"unknown command '{result.UnmatchedTokens[0]}'; commands: {string.Join(", ", root.Subcommands.Select(c => c.Name))}";
        return OneLine(result.Errors[0].Message.TrimEnd('.'));
    }

    /// <summary>A positional argument that looks like an option is an unknown option, not a file
    /// name ("-" alone still means standard input).</summary>
    public static void RejectOptionLike<T>(Command command, Argument<T> argument) =>
        command.Validators.Add(r =>
        {
            if (r.GetValue(argument) is string v && v.StartsWith('-') && v != "-") r.AddError($"unknown option '{v}'");
        });

    /// <summary>An integer option whose every bad value (not a number, too large for any integer,
    /// out of range) is one error naming the option and its range.</summary>
    public static Option<int?> IntOption(string name, string description, int min, int max)
    {
        var o = new Option<int?>(name) { Description = $"{description} ({min}..{max})" };
        o.CustomParser = r => (int?)ParseInteger(r, name, min, max);
        return o;
    }

    /// <summary>As IntOption, for counts that may exceed 2^31.</summary>
    public static Option<long?> LongOption(string name, string description, long min, long max)
    {
        var o = new Option<long?>(name) { Description = description };
        o.CustomParser = r => ParseInteger(r, name, min, max);
        return o;
    }

    static long? ParseInteger(ArgumentResult r, string name, long min, long max)
    {
        string text = r.Tokens.Count > 0 ? r.Tokens[0].Value : "";
        string range = max == long.MaxValue ? $"{min} or more" : $"in {min}..{max}";
        if (long.TryParse(text, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out long v)
            && v >= min && v <= max)
            return v;
        r.AddError($"{name} must be an integer {range}, got '{text}'");
        return null;
    }
}
