using System.Text.Json;
using NestedApic.Hardware.Vmx;

namespace NestedApic.Cli;

/// <summary>
/// <c>nestedapic vmentry FILE.jsonl|-</c>: evaluates each conformance line with the architectural
/// VM-entry checks and prints <c>{"id", "result", "error", "rule"}</c> per line. Exit 0 when every
/// line was evaluated, 2 on usage errors or the first malformed line (reported as FILE:LINE: field X: ...).
/// </summary>
public static class VmEntryCommand
{
    public const string Usage = "usage: nestedapic vmentry FILE.jsonl   (or - for stdin)";

    public static int Run(string[] args, TextReader stdin, TextWriter stdout, TextWriter stderr)
    {
        var io = new Io(stdin, stdout, stderr);
        return Cli.Invoke(Define(io), args, io);
    }

    public static System.CommandLine.Command Define(Io io) =>
        JsonlCommand.Define("vmentry", "Evaluate the VM-entry control checks (SDM 26.2.1.1) on each line of a conformance-format JSONL file.", io,
            line => VmEntryVector.TryParse(line, out var v, out var e) ? (FormatResult(v!.Id, v.Evaluate()), null) : (null, e.Format));

    /// <summary>One output line, e.g. <c>{"id": "x", "result": "fail", "error": 7, "rule": "pi-nv-range"}</c>.</summary>
    public static string FormatResult(string id, VmEntryRule rule)
    {
        string idJson = JsonSerializer.Serialize(id);
        return rule == VmEntryRule.None
            ? $"{{\"id\": {idJson}, \"result\": \"ok\", \"error\": null, \"rule\": null}}"
            : $"{{\"id\": {idJson}, \"result\": \"fail\", \"error\": {VmEntryChecks.ErrorFor(rule)}, \"rule\": \"{rule.Id()}\"}}";
    }
}
