using System.Text.Json;
using NestedApic.Hardware.Svm;

namespace NestedApic.Cli;

/// <summary>
/// <c>nestedapic vmrun FILE.jsonl|-</c>: evaluates each conformance line with the VMRUN consistency
/// checks and prints <c>{"id", "result", "exit_code", "rule"}</c> per line. Exit 0 when every line
/// was evaluated, 2 on usage errors or the first malformed line (reported as FILE:LINE: field X: ...).
/// The twin of <see cref="VmEntryCommand"/>.
/// </summary>
public static class VmrunCommand
{
    public const string Usage = "usage: nestedapic vmrun FILE.jsonl   (or - for stdin)";

    public static int Run(string[] args, TextReader stdin, TextWriter stdout, TextWriter stderr)
    {
        var io = new Io(stdin, stdout, stderr);
        return Cli.Invoke(Define(io), args, io);
    }

    public static System.CommandLine.Command Define(Io io)
    {
        var file = new System.CommandLine.Argument<string>("file") { Description = "a JSONL file, or - for standard input" };
        var cmd = new System.CommandLine.Command("vmrun", "Evaluate the VMRUN consistency checks (APM 15.5.1) on each line of a conformance-format JSONL file.") { file };
        Cli.RejectOptionLike(cmd, file);
        cmd.SetAction(r => Execute(r.GetValue(file)!, io.In, io.Out, io.Err));
        return cmd;
    }

    static int Execute(string file, TextReader stdin, TextWriter stdout, TextWriter stderr)
    {
        TextReader reader;
        if (file == "-") reader = stdin;
        else
        {
            try { reader = new StreamReader(file); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
            {
                stderr.WriteLine($"{file}: cannot open: {e.Message}");
                return 2;
            }
        }
        string name = file == "-" ? "<stdin>" : file;
        try
        {
            int lineNo = 0;
            string? line;
            while ((line = reader.ReadLine()) is not null)
            {
                lineNo++;
                if (string.IsNullOrWhiteSpace(line)) continue;
                if (!VmrunVector.TryParse(line, out var vector, out var error))
                {
                    stderr.WriteLine(error.Format(name, lineNo));
                    return 2;
                }
                stdout.WriteLine(FormatResult(vector!.Id, vector.Evaluate()));
            }
            return 0;
        }
        catch (IOException e)
        {
            stderr.WriteLine($"{name}: read error: {e.Message}");
            return 2;
        }
        finally
        {
            if (!ReferenceEquals(reader, stdin)) reader.Dispose();
        }
    }

    /// <summary>One output line, e.g. <c>{"id": "x", "result": "fail", "exit_code": "VMEXIT_INVALID", "rule": "svm-asid-nonzero"}</c>.</summary>
    public static string FormatResult(string id, VmrunRule rule)
    {
        string idJson = JsonSerializer.Serialize(id);
        return rule == VmrunRule.None
            ? $"{{\"id\": {idJson}, \"result\": \"ok\", \"exit_code\": null, \"rule\": null}}"
            : $"{{\"id\": {idJson}, \"result\": \"fail\", \"exit_code\": \"{SvmExitCode.Name(VmrunChecks.ExitCodeFor(rule))}\", \"rule\": \"{rule.Id()}\"}}";
    }
}
