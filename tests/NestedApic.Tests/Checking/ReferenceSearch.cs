using System.Runtime.InteropServices;
using NestedApic.Checking;

namespace NestedApic.Tests.Checking;

/// <summary>
/// A deliberately naive breadth-first search over any model, independent of the engine: states are
/// keyed by their bytes in hex in a HashSet, levels are plain lists. Counts all reachable states and gives the least depth of a bad state (-1 when none): a
/// state is bad when it breaks an invariant, or, with deadlocks checked, when it has no step and is
/// not final. Each state is judged at its own level, so neither kind can hide a nearer one of the
/// other.
/// </summary>
static class ReferenceSearch
{
    public static (long States, int FirstBadDepth) Run<TModel, TState, TStep>(TModel model, bool checkDeadlock = true)
        where TModel : struct, IModel<TState, TStep> where TState : unmanaged where TStep : unmanaged
    {
        var seen = new HashSet<string>();
        var level = new List<TState> { model.Initial() };
        seen.Add(Key(level[0]));
        int firstBad = -1;
        var steps = new TStep[Math.Max(1, model.MaxSteps)];
        for (int depth = 0; level.Count > 0; depth++)
        {
            var next = new List<TState>();
            foreach (var s in level)
            {
                int n = model.Enabled(s, steps);
                bool bad = model.Violated(s) >= 0 || (n == 0 && checkDeadlock && !model.IsFinal(s));
                if (bad && (firstBad < 0 || depth < firstBad)) firstBad = depth;
                for (int k = 0; k < n; k++)
                {
                    var t = s;
                    model.Apply(ref t, steps[k]);
                    if (seen.Add(Key(t))) next.Add(t);
                }
            }
            level = next;
        }
        return (seen.Count, firstBad);
    }

    static string Key<TState>(TState s) where TState : unmanaged =>
        Convert.ToHexString(MemoryMarshal.AsBytes(MemoryMarshal.CreateReadOnlySpan(ref s, 1)));
}
