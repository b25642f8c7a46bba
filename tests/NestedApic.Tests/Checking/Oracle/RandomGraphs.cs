using CsCheck;

namespace NestedApic.Tests.Checking.Oracle;

/// <summary>How a random graph is drawn. The graph itself is built from <see cref="Seed"/> by
/// <see cref="Build"/>, so a failing case prints as this one line. A node has no successor with
/// chance <see cref="DeadEnd"/>, else 1 to <see cref="MaxFanOut"/>, or <see cref="HubFanOut"/>
/// with chance <see cref="HubChance"/>. About <see cref="Violating"/> nodes break an invariant
/// and about <see cref="NotFinal"/> are not final, drawn among the reachable nodes at least
/// <see cref="BadFrom"/> of the way down the BFS depth, so that a search meets them after
/// levels have grown wide.</summary>
sealed record GraphSpec(
    GraphShape Shape, int Nodes, double DeadEnd, int MaxFanOut, double HubChance, int HubFanOut,
    double Violating, double NotFinal, double BadFrom, bool CheckDeadlock, int MaxDepth, ulong Seed)
{
    public ExplicitGraph Build()
    {
        var rng = new Random(unchecked((int)Seed ^ (int)(Seed >> 32)));
        int n = Nodes;
        var succ = new int[n][];
        var violating = new sbyte[n];
        var final = new bool[n];
        // Layered: width nodes a level, edges mostly to the next level, some back or sideways.
        int width = Math.Max(1, (int)Math.Sqrt(n));
        for (int v = 0; v < n; v++)
        {
            bool hub = rng.NextDouble() < HubChance;
            int k = hub ? HubFanOut : rng.NextDouble() < DeadEnd ? 0 : 1 + rng.Next(MaxFanOut);
            var s = new int[k];
            for (int i = 0; i < k; i++)
                s[i] = Shape switch
                {
                    GraphShape.Layered when rng.Next(8) != 0 => Math.Min(n - 1, (v / width + 1) * width + rng.Next(width)),
                    GraphShape.Chain when rng.Next(4) != 0 => Math.Min(n - 1, v + 1 + rng.Next(3)),
                    _ => rng.Next(n),
                };
            succ[v] = s;
        }
        var depth = Bfs.Run(new ExplicitGraph(succ, violating, final), checkDeadlock: false).NodeDepth;
        int from = (int)Math.Ceiling(BadFrom * depth.Max());
        int deep = Math.Max(1, depth.Count(d => d >= from));
        for (int v = 0; v < n; v++)
        {
            bool eligible = depth[v] >= from;
            violating[v] = eligible && rng.NextDouble() * deep < Violating ? (sbyte)rng.Next(2) : (sbyte)-1;
            final[v] = !eligible || rng.NextDouble() * deep >= NotFinal;
        }
        return new ExplicitGraph(succ, violating, final);
    }
}

enum GraphShape { Uniform, Layered, Chain }

static class RandomGraphs
{
    static Gen<GraphSpec> Spec(Gen<int> nodes, Gen<double> deadEnd, Gen<int> fanOut, Gen<double> hubChance, Gen<int> hubFanOut, Gen<double> badFrom) =>
        from shape in Gen.Enum<GraphShape>()
        from n in nodes
        from dead in deadEnd
        from k in fanOut
        from hub in hubChance
        from hubK in hubFanOut
        // Sometimes no bad node at all (the search must then see every state), else from a
        // tenth of a node (often none) to a thousand nodes.
        from bad in Gen.Frequency((1, Gen.Const(0.0)), (4, Gen.Double[-1, 3].Select(x => Math.Pow(10, x))))
        from notFinal in Gen.Frequency((1, Gen.Const(0.0)), (4, Gen.Double[-1, 3].Select(x => Math.Pow(10, x))))
        from from_ in badFrom
        from deadlock in Gen.Frequency((2, Gen.Const(true)), (1, Gen.Const(false)))
        from maxDepth in Gen.Frequency((6, Gen.Const(int.MaxValue)), (1, Gen.Int[0, 12]))
        from seed in Gen.ULong
        select new GraphSpec(shape, n, dead, k, hub, hubK, bad, notFinal, from_, deadlock, maxDepth, seed);

    /// <summary>Up to 60 nodes, many dead ends, many violating and non-final nodes, deadlocks
    /// checked: a deadlock and a violation a level apart, in either order of discovery.</summary>
    static readonly Gen<GraphSpec> Dense =
        from shape in Gen.Enum<GraphShape>()
        from n in Gen.Int[2, 60]
        from dead in Gen.Double[0.2, 0.6]
        from k in Gen.Int[1, 4]
        from bad in Gen.Double[1, 20]
        from notFinal in Gen.Double[5, 60]
        from seed in Gen.ULong
        select new GraphSpec(shape, n, dead, k, 0, 0, bad, notFinal, 0, true, int.MaxValue, seed);

    /// <summary>Up to 300 nodes, fan-out 0 to 5: corner cases, ties between kinds at one depth;
    /// a quarter of them dense with bad nodes of both kinds.</summary>
    public static readonly Gen<GraphSpec> Small = Gen.Frequency(
        (3, Spec(Gen.Int[1, 300], Gen.Double[0, 0.6], Gen.Int[1, 5], Gen.Const(0.0), Gen.Const(0), Gen.Frequency((1, Gen.Const(0.0)), (1, Gen.Double[0, 1])))),
        (1, Dense));

    /// <summary>Thousands to tens of thousands of nodes with fan-out at most 4, so that levels pass
    /// the engine's 512-state threshold and a round is split into slices across threads; bad
    /// states mostly past the wide levels.</summary>
    public static readonly Gen<GraphSpec> Wide =
        Spec(Gen.Int[2_000, 40_000], Gen.Double[0, 0.2], Gen.Int[1, 4], Gen.Const(0.0), Gen.Const(0), Gen.Double[0.4, 1]);

    /// <summary>Hubs of 255 to 400 successors among nodes of small fan-out: step ordinals and
    /// new-successor counts that escape ParentLinks' one-byte encoding.</summary>
    public static readonly Gen<GraphSpec> Hubs =
        Spec(Gen.Int[300, 3_000], Gen.Double[0, 0.3], Gen.Int[1, 3], Gen.Double[0.001, 0.02], Gen.Int[255, 400], Gen.Double[0, 1]);

    /// <summary>Runs <paramref name="assert"/> on <paramref name="count"/> cases drawn from fixed
    /// seeds (see <see cref="FixedSample"/>), so CI sees the same cases every run; a failure
    /// names the case's CsCheck seed. Set ORACLE_CASES to run more (or fewer) cases. With
    /// <paramref name="parts"/> &gt; 1, only part <paramref name="part"/> of those cases: the
    /// parts are tests of their own, which xUnit runs side by side.</summary>
    public static void Fixed<T>(Gen<T> gen, Action<T> assert, string seed, int count, int part = 0, int parts = 1)
    {
        if (int.TryParse(Environment.GetEnvironmentVariable("ORACLE_CASES"), out int n)) count = n;
        // bench/run-mutation.sh runs a share of each seed's cases: every mutant reruns the oracle.
        else if (double.TryParse(Environment.GetEnvironmentVariable("ORACLE_SHARE"), System.Globalization.CultureInfo.InvariantCulture, out double share) && share is > 0 and <= 1)
            count = Math.Max(1, (int)Math.Ceiling(count * share));
        gen.SampleFixed(assert, seed, (long)count * part / parts, (long)count * (part + 1) / parts);
    }
}
