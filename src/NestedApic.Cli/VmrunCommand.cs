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

    public static System.CommandLine.Command Define(Io io) =>
        JsonlCommand.Define("vmrun", "Evaluate the VMRUN consistency checks (APM 15.5.1) on each line of a conformance-format JSONL file.", io,
            line => VmrunVector.TryParse(line, out var v, out var e) ? (FormatResult(v!.Id, v.Evaluate()), null) : (null, e.Format));

    /// <summary>One output line, e.g. <c>{"id": "x", "result": "fail", "exit_code": "VMEXIT_INVALID", "rule": "svm-asid-nonzero"}</c>.</summary>
    public static string FormatResult(string id, VmrunRule rule)
    {
        string idJson = JsonSerializer.Serialize(id);
        return rule == VmrunRule.None
            ? $"{{\"id\": {idJson}, \"result\": \"ok\", \"exit_code\": null, \"rule\": null}}"
            : $"{{\"id\": {idJson}, \"result\": \"fail\", \"exit_code\": \"{SvmExitCode.Name(VmrunChecks.ExitCodeFor(rule))}\", \"rule\": \"{rule.Id()}\"}}";
    }
}
