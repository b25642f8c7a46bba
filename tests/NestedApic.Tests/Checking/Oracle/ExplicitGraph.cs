using NestedApic.Checking;

namespace NestedApic.Tests.Checking.Oracle;

/// <summary>
/// A finite graph written out in full: node 0 is initial, <see cref="Successors"/> lists each
/// node's out-edges in order (repeats and self-loops allowed), <see cref="Violating"/> holds the
/// index of the invariant a node breaks (-1 for none) and <see cref="Final"/> says whether a node
/// without successors is a legitimate end.
/// </summary>
sealed class ExplicitGraph(int[][] successors, sbyte[] violating, bool[] final)
{
    public readonly int[][] Successors = successors;
    public readonly sbyte[] Violating = violating;
    public readonly bool[] Final = final;
    public int Nodes => Successors.Length;
    public int MaxFanOut { get; } = successors.Length == 0 ? 0 : successors.Max(s => s.Length);

    /// <summary>Whether <paramref name="node"/> is a deadlock: no successor and not final.</summary>
    public bool Deadlocked(int node) => Successors[node].Length == 0 && !Final[node];

    public override string ToString()
    {
        var w = new System.Text.StringBuilder($"{Nodes} nodes, max fan-out {MaxFanOut}");
        if (Nodes <= 40)
            for (int v = 0; v < Nodes; v++)
                w.Append($"\n  {v}{(Violating[v] >= 0 ? $" !{Violating[v]}" : "")}{(Final[v] ? " final" : "")} -> {string.Join(",", Successors[v])}");
        return w.ToString();
    }
}

/// <summary>An <see cref="ExplicitGraph"/> seen by the engine: the state is a node, a step the
/// node it leads to.</summary>
readonly struct GraphModel(ExplicitGraph g) : IModel<GraphModel.Node, int>
{
    public struct Node { public int Id; }

    public ExplicitGraph Graph => g;
    public Node Initial() => default;
    public int MaxSteps => g.MaxFanOut;
    public IReadOnlyList<string> Invariants => ["first", "second"];

    public int Enabled(in Node s, Span<int> steps)
    {
        var succ = g.Successors[s.Id];
        succ.CopyTo(steps);
        return succ.Length;
    }

    public void Apply(ref Node s, in int step) => s.Id = step;
    public int Violated(in Node s) => g.Violating[s.Id];
    public bool IsFinal(in Node s) => g.Final[s.Id];
    public string Label(in int step) => $"to {step}";
    public string Explain(int invariant, in Node s) => $"node {s.Id}";
    public IReadOnlyList<string> Diff(in Node before, in Node after) => [$"node: {before.Id} → {after.Id}"];
}
