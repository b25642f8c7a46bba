using NestedApic.Hypervisor;

namespace NestedApic.Scenarios;

/// <summary>Writes a counterexample as a scenario that `run` replays to the same violation.</summary>
public static class ScenarioWriter
{
    /// <param name="universeRef">What the `universe` directive says: a path relative to the
    /// scenario, or a built-in name.</param>
    /// <param name="prelude">Steps that build the check's initial state: the universe's setup lines,
    /// or the steps of the `--from` scenario.</param>
    public static string CounterExample(CheckReport report, string universeRef, Policy policy, IEnumerable<string> prelude, string preludeNote)
    {
        if (report.Verdict != "violated") throw new InvalidOperationException("only a violation has a counterexample");
        var w = new StringWriter { NewLine = "\n" };
        w.WriteLine(Comment($"Counterexample saved by `nestedapic check`: universe {report.Universe}, policy {report.Policy}, {report.Vcpus} vCPU{(report.Vcpus == 1 ? "" : "s")}."));
        w.WriteLine(Comment($"{report.Property} on vcpu{report.Vcpu}: {report.Explanation}"));
        w.WriteLine($"# `nestedapic run` on this file exits 0 while the violation reproduces.");
        w.WriteLine($"universe {universeRef}");
        // The policy's name is its spec (PRESET[:switch=value,...]), which the policy line reads back.
        w.WriteLine($"policy {(Policies.Find(policy.Name.Split(':')[0]) is not null ? policy.Name : Scenario.UniversePolicy)}");
        w.WriteLine($"vcpus {report.Vcpus}");
        w.WriteLine();
        w.WriteLine(Comment(preludeNote));
        foreach (var line in prelude) w.WriteLine(line);
        w.WriteLine();
        w.WriteLine($"# the counterexample ({report.Trace.Count} step{(report.Trace.Count == 1 ? "" : "s")})");
        foreach (var step in report.Trace) w.WriteLine(step.Label);
        w.WriteLine($"expect violated {report.Property}");
        return w.ToString();
    }

    /// <summary>A comment line: text from a universe (its name) or the model stays on one line,
    /// so it cannot add steps to the scenario.</summary>
    static string Comment(string text) => "# " + string.Join(' ', text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries));
}
