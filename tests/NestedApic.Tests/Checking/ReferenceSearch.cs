using System.Runtime.InteropServices;
using NestedApic.Checking;

namespace NestedApic.Tests.Checking;

/// <summary>
/// A deliberately naive breadth-first search, independent of the engine: states are keyed by their
/// bytes in hex in a HashSet, levels are plain lists. Counts all reachable states and the depth of
/// the first invariant violation or deadlock (-1 when none).
/// </summary>
static class ReferenceSearch
{
    public static (long States, int FirstBadDepth) Run<TModel, TState, TStep>(TModel model, bool checkDeadlock = true)
        where TModel : struct, IModel<TState, TStep> where TState : unmanaged where TStep : unmanaged
    {
        var seen = new HashSet<string>();
        var level = new List<TState> { model.Initial() };
        seen.Add(Key(level[0]));
        int firstBad = model.Violated(level[0]) >= 0 ? 0 : -1;
        var steps = new TStep[model.MaxSteps];
        for (int depth = 0; level.Count > 0; depth++)
        {
            var next = new List<TState>();
            foreach (var s in level)
            {
                int n = model.Enabled(s, steps);
                if (n == 0 && checkDeadlock && !model.IsFinal(s) && firstBad < 0) firstBad = depth;
                for (int k = 0; k < n; k++)
                {
                    var t = s;
                    model.Apply(ref t, steps[k]);
                    if (!seen.Add(Key(t))) continue;
                    if (firstBad < 0 && model.Violated(t) >= 0) firstBad = depth + 1;
                    next.Add(t);
                }
            }
            level = next;
        }
        return (seen.Count, firstBad);
    }

    static string Key<TState>(TState s) where TState : unmanaged =>
        Convert.ToHexString(MemoryMarshal.AsBytes(MemoryMarshal.CreateReadOnlySpan(ref s, 1)));
}
