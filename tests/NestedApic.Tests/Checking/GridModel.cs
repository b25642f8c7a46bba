using NestedApic.Checking;

namespace NestedApic.Tests.Checking;

/// <summary>
/// A W×H grid walked from (0,0) by "x+1" and "y+1": exactly W·H states, (0,0) at depth 0 and
/// (x,y) at depth x+y, the far corner the only state without steps (final unless told otherwise).
/// Invariant "sum" breaks where x+y == BadSum, so its shortest trace has BadSum steps.
/// </summary>
readonly struct GridModel(int w, int h, int badSum = -1, bool cornerIsFinal = true) : IModel<GridModel.State, byte>
{
    public struct State { public ushort X, Y; }

    public State Initial() => default;
    public int MaxSteps => 2;
    public IReadOnlyList<string> Invariants => ["sum"];

    public int Enabled(in State s, Span<byte> steps)
    {
        int n = 0;
        if (s.X < w - 1) steps[n++] = 0;
        if (s.Y < h - 1) steps[n++] = 1;
        return n;
    }

    public void Apply(ref State s, in byte step)
    {
        if (step == 0) s.X++; else s.Y++;
    }

    public int Violated(in State s) => s.X + s.Y == badSum ? 0 : -1;
    public bool IsFinal(in State s) => cornerIsFinal;
    public string Label(in byte step) => step == 0 ? "x+1" : "y+1";
    public string Explain(int invariant, in State s) => $"x+y = {s.X + s.Y}";
    public IReadOnlyList<string> Diff(in State before, in State after) => [$"x: {before.X} → {after.X}", $"y: {before.Y} → {after.Y}"];
}
