namespace NestedApic.Tests.Checking.Oracle;

/// <summary>What a plain breadth-first search over an <see cref="ExplicitGraph"/> says the engine
/// must report. It shares nothing with the engine: an int queue and a depth array.</summary>
sealed record Expected(
    long States, long Transitions, int Depth, bool DepthBoundHit,
    int BadDepth, bool ViolationAtBadDepth, int[] NodeDepth)
{
    public bool Holds => BadDepth < 0;
}

static class Bfs
{
    /// <summary>Depths from node 0; with <paramref name="maxDepth"/>, nodes deeper are ignored and
    /// nodes at that depth are reached but not expanded (so they cannot deadlock). A bad node is
    /// a violating node, or with <paramref name="checkDeadlock"/> a deadlocked one; BadDepth is the
    /// least depth of a bad node (-1 when there is none). At equal depth the engine reports a
    /// violation before a deadlock, so ViolationAtBadDepth says which kind it must report.</summary>
    public static Expected Run(ExplicitGraph g, bool checkDeadlock, int maxDepth = int.MaxValue)
    {
        var depth = new int[g.Nodes];
        Array.Fill(depth, -1);
        var queue = new Queue<int>();
        depth[0] = 0;
        queue.Enqueue(0);
        long states = 0, transitions = 0;
        int deepest = 0, bad = -1;
        bool boundHit = false;
        while (queue.Count > 0)
        {
            int v = queue.Dequeue();
            states++;
            deepest = Math.Max(deepest, depth[v]);
            bool expanded = depth[v] < maxDepth;
            if (!expanded) boundHit = true;
            bool isBad = g.Violating[v] >= 0 || (expanded && checkDeadlock && g.Deadlocked(v));
            if (isBad && (bad < 0 || depth[v] < bad)) bad = depth[v];
            if (!expanded) continue;
            transitions += g.Successors[v].Length;
            foreach (int w in g.Successors[v])
                if (depth[w] < 0) { depth[w] = depth[v] + 1; queue.Enqueue(w); }
        }
        bool violation = false;
        for (int v = 0; v < g.Nodes; v++)
            violation |= depth[v] == bad && bad >= 0 && g.Violating[v] >= 0;
        return new(states, transitions, deepest, boundHit, bad, violation, depth);
    }
}
