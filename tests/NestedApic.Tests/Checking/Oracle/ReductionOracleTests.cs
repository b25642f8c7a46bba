using NestedApic.Checking;
using NestedApic.Checking.Reduction;

namespace NestedApic.Tests.Checking.Oracle;

/// <summary>
/// The partial-order reduction against a naive search (ReferenceSearch's, keyed by states) on random
/// systems of agents whose footprints are exact by construction (<see cref="RandomAgents"/>): a
/// reduced search, on 1 and 2 threads, says "holds" exactly when no state the full graph reaches
/// is bad; otherwise its trace replays step by step in the model and ends in a bad state of the
/// kind reported, as deep as the nearest one or deeper (breadth-first search over the reduced
/// graph need not give the shortest trace). It never stores more states than the full search,
/// and both thread counts give the same states, trace and (when it holds) every state's path.
/// The same holds without the single-step chains (one thread). The KVM model's own verdict tests
/// (ReductionVerdictTests, ReductionRandomTests) cover its footprints; this covers the engine's
/// use of any model's.
/// </summary>
[RunsLong(4)]
public class ReductionOracleTests
{
    /// <summary>The 1,200 systems in three parts, each a test class of its own (xUnit runs them
    /// side by side); each part must exercise the reduction, not only agree where it prunes nothing.</summary>
    internal static void Part(int part)
    {
        var counts = new int[4]; // systems, pruned (holds, fewer states), reaching a bad state, with a state SelectOne chains
        RandomGraphs.Fixed(RandomAgents.Systems, spec => Agrees(spec, counts), seed: "0000000000r1", count: 1200, part, 3);
        Assert.True(counts[1] * 10 >= counts[0], $"only {counts[1]} of {counts[0]} systems were pruned");
        Assert.True(counts[2] * 4 >= counts[0], $"only {counts[2]} of {counts[0]} systems reach a bad state");
        Assert.True(counts[3] * 4 >= counts[0], $"only {counts[3]} of {counts[0]} systems have a state with an ample set of one step");
    }

    [Fact]
    public void Reduced_search_agrees_with_the_full_graph() => Part(0);

    static void Agrees(AgentSpec spec, int[] counts)
    {
        var sys = spec.Build();
        var model = new AgentModel(sys);
        var (states, badDepth, singles) = Naive(model, spec.CheckDeadlock);
        counts[0]++;
        if (singles > 0) counts[3]++;
        if (badDepth >= 0) counts[2]++;
        CheckResult<AgentModel.State, byte>? first = null;
        List<int>[] firstPaths = [];
        // With single-step chains (the default) on 1 and 2 threads, and without them on 1.
        foreach (var (threads, chain) in new[] { (1, true), (2, true), (1, false) })
        {
            string run = $"{threads} thread(s){(chain ? "" : ", no chains")}";
            var checker = new Checker<AgentModel, AgentModel.State, byte>(model,
                new CheckOptions { Threads = threads, CheckDeadlock = spec.CheckDeadlock, Reduce = true, Chain = chain });
            var r = checker.Run();
            var paths = chain && r.Verdict == Verdict.Holds ? Enumerable.Range(0, (int)r.Stats.States).Select(id => checker.PathTo(id)).ToArray() : [];
            That(r.StopReason == StopReason.Complete || r.Verdict != Verdict.Holds, $"{run}: stopped by {r.StopReason}");
            That(badDepth >= 0 || r.Stats.States <= states, $"{run}: {r.Stats.States} states reduced, {states} in the full graph");
            if (badDepth < 0)
                That(r.Verdict == Verdict.Holds, $"{run}: {r.Verdict} after {r.Trace.Count} steps, but no reachable state is bad");
            else
            {
                That(r.Verdict != Verdict.Holds, $"{run}: holds after {r.Stats.States} of {states} states, but a bad state is {badDepth} steps deep");
                Replays(model, r, spec.CheckDeadlock, badDepth, run);
            }
            if (!chain) continue;
            if (first is { } f)
            {
                That(r.Stats.States == f.Stats.States && r.Stats.Transitions == f.Stats.Transitions,
                    $"{run}: {r.Stats.States} states, {r.Stats.Transitions} transitions; 1 thread: {f.Stats.States}, {f.Stats.Transitions}");
                That(r.Trace.Select(t => t.Step).SequenceEqual(f.Trace.Select(t => t.Step)),
                    $"{run}: trace [{string.Join(",", r.Trace.Select(t => t.Step))}], 1 thread: [{string.Join(",", f.Trace.Select(t => t.Step))}]");
                for (int id = 0; id < paths.Length; id++)
                    if (!paths[id].SequenceEqual(firstPaths[id]))
                        That(false, $"{run}: state {id} reached by [{string.Join(",", paths[id])}], 1 thread: [{string.Join(",", firstPaths[id])}]");
            }
            else
            {
                first = r;
                firstPaths = paths;
                if (r.Stats.States < states && badDepth < 0) counts[1]++;
            }
        }
    }

    /// <summary>ReferenceSearch's plain level-by-level search, with the states themselves as keys
    /// (hex strings cost most of this test's time): the least depth of a state that breaks an
    /// invariant or, with deadlocks checked, has no step and is not final (the search stops at
    /// that level), or -1 and every reachable state. Every state it meets also checks the chains'
    /// shortcut: AmpleSets.SelectOne picks the step Select picks when Select picks one step of
    /// several, and nothing otherwise (Singles: how often it picks one).</summary>
    static (long States, int FirstBadDepth, int Singles) Naive(AgentModel model, bool checkDeadlock)
    {
        int singles = 0;
        var seen = new HashSet<AgentModel.State>(BytesComparer<AgentModel.State>.Instance) { model.Initial() };
        var level = new List<AgentModel.State> { model.Initial() };
        var steps = new byte[Math.Max(1, model.MaxSteps)];
        var chosen = new int[steps.Length];
        int firstBad = -1;
        for (int depth = 0; level.Count > 0 && firstBad < 0; depth++)
        {
            var next = new List<AgentModel.State>();
            foreach (var s in level)
            {
                int n = model.Enabled(s, steps);
                int ample = AmpleSets.Select<AgentModel, AgentModel.State, byte>(model, s, steps.AsSpan(0, n), chosen);
                int one = AmpleSets.SelectOne<AgentModel, AgentModel.State, byte>(model, s, steps.AsSpan(0, n));
                That(one == (ample == 1 && n > 1 ? chosen[0] : -1), $"SelectOne {one}, Select {ample} of {n} step(s), first {chosen[0]}");
                if (one >= 0) singles++;
                if (model.Violated(s) >= 0 || (n == 0 && checkDeadlock && !model.IsFinal(s))) firstBad = depth;
                for (int k = 0; k < n; k++)
                {
                    var t = s;
                    model.Apply(ref t, steps[k]);
                    if (seen.Add(t)) next.Add(t);
                }
            }
            level = next;
        }
        return (seen.Count, firstBad, singles);
    }

    /// <summary>The trace is a path of the model from its initial state, each step enabled where it
    /// is taken, ending in a state of the reported kind.</summary>
    static void Replays(AgentModel model, CheckResult<AgentModel.State, byte> r, bool checkDeadlock, int nearest, string run)
    {
        That(r.Trace.Count >= nearest, $"{run}: a trace of {r.Trace.Count} steps, shorter than the nearest bad state ({nearest})");
        var s = model.Initial();
        var steps = new byte[Math.Max(1, model.MaxSteps)];
        for (int i = 0; i < r.Trace.Count; i++)
        {
            var step = r.Trace[i].Step;
            int n = model.Enabled(s, steps);
            That(steps.AsSpan(0, n).Contains(step), $"{run}: step {i + 1} (move {step}) is not enabled there");
            model.Apply(ref s, step);
            That(BytesComparer<AgentModel.State>.Instance.Equals(s, r.Trace[i].After), $"{run}: step {i + 1} records another state than it leads to");
        }
        if (r.Verdict == Verdict.Violated)
            That(model.Violated(s) == r.Invariant, $"{run}: reports inv{r.Invariant}, the trace's end breaks {model.Violated(s)}");
        else
        {
            That(r.Verdict == Verdict.Deadlock && checkDeadlock, $"{run}: {r.Verdict}");
            That(model.Enabled(s, steps) == 0 && !model.IsFinal(s), $"{run}: a deadlock reported in a state with steps or final");
        }
    }

    static void That(bool ok, string message)
    {
        if (!ok) throw new Xunit.Sdk.XunitException(message);
    }

    /// <summary>Bernstein's conditions, which the KVM footprint tests rely on.</summary>
    [Theory]
    [InlineData(0b0011, 0b0001, 0b1100, 0b0100, true)]   // disjoint
    [InlineData(0b0011, 0b0001, 0b0010, 0b0000, true)]   // both only read component 1
    [InlineData(0b0011, 0b0001, 0b0001, 0b0000, false)]  // the second reads what the first writes
    [InlineData(0b0010, 0b0000, 0b0011, 0b0001, true)]   // the second writes component 0, which the first does not touch
    [InlineData(0b0001, 0b0000, 0b0000, 0b0001, false)]  // the second writes what the first reads
    [InlineData(0b0001, 0b0000, 0b0010, 0b0010, true)]
    [InlineData(0b0001, 0b0001, 0b0010, 0b0001, false)]  // both write component 0
    public void Independence_is_Bernsteins(ulong reads1, ulong writes1, ulong reads2, ulong writes2, bool independent)
    {
        var a = new Footprint(reads1, writes1);
        var b = new Footprint(reads2, writes2);
        Assert.Equal(independent, a.IndependentOf(b));
        Assert.Equal(independent, b.IndependentOf(a));
    }
}

/// <summary>The other parts of <see cref="ReductionOracleTests"/>' sample, one class each.</summary>
[RunsLong(4)]
public class ReductionOracleTestsSecondPart
{
    [Fact]
    public void Reduced_search_agrees_with_the_full_graph() => ReductionOracleTests.Part(1);
}

/// <inheritdoc cref="ReductionOracleTestsSecondPart"/>
[RunsLong(4)]
public class ReductionOracleTestsThirdPart
{
    [Fact]
    public void Reduced_search_agrees_with_the_full_graph() => ReductionOracleTests.Part(2);
}
