using NestedApic.Checking.Reduction;
using NestedApic.Hypervisor;
using NestedApic.Hypervisor.Svm;
using NestedApic.Hypervisor.Vmx;
using NestedApic.Scenarios;

namespace NestedApic.Tests.Hypervisor;

/// <summary>
/// The footprints are tested, not assumed. In states sampled by seeded random walks through every
/// built-in universe under every preset: each step changes only what it declares it writes; every
/// pair of enabled steps the footprints call independent commutes and neither disables the other
/// (a shared budget counter may run out, nothing else); a step stays enabled after another
/// agent's step that writes none of its guards; what an agent does later on any walk stays within
/// the future footprint declared for it, and while only other agents move and write none of its
/// future's guards it gains no enabled step; an inhibit once pinned stays pinned and no step
/// flips the activation. A failure names the steps and the state.
/// </summary>
public class KvmFootprintTests
{
    public static TheoryData<string, string> Runs()
    {
        var data = new TheoryData<string, string>();
        foreach (var f in Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "universes"), "*.toml").Order())
        {
            var u = Universe.Load(f);
            foreach (var p in Policies.For(u.Config.Vendor)) data.Add(Path.GetFileNameWithoutExtension(f), p.Name);
        }
        return data;
    }

    /// <summary>Every other row of <see cref="Runs"/>: xUnit runs one class's rows one after the
    /// other, so the rows are split over two classes that run side by side.</summary>
    public static TheoryData<string, string> Half(int half)
    {
        var data = new TheoryData<string, string>();
        int i = 0;
        foreach (var row in Runs())
            if (i++ % 2 == half) data.Add((string)row[0], (string)row[1]);
        return data;
    }

    [Theory]
    [MemberData(nameof(Half), 0)]
    public void Footprints_HoldInSampledStates(string universe, string preset) => Footprints(universe, preset);

    internal static void Footprints(string universe, string preset)
    {
        var u = Universe.Load(Path.Combine(AppContext.BaseDirectory, "universes", universe + ".toml"));
        var (model, _) = UniverseCheck.Build(u, Policies.Find(preset)!, u.Config.Vcpus);
        switch (model)
        {
            case VmxModel vmx: Check(vmx, universe); break;
            case SvmModel svm: Check(svm, universe); break;
            default: Assert.Fail("unknown model"); break;
        }
    }

    /// <summary>The chains' shortcut (AmpleSets.SelectOne) picks the step Select picks when
    /// Select picks one step of several, and nothing otherwise.</summary>
    static void SelectOneAgrees<TModel>(TModel m, in KvmState s, ReadOnlySpan<KvmStep> steps, string universe) where TModel : struct, IKvmModel, IReducibleModel<KvmState, KvmStep>
    {
        var chosen = new int[steps.Length];
        int count = AmpleSets.Select<TModel, KvmState, KvmStep>(m, s, steps, chosen);
        int one = AmpleSets.SelectOne<TModel, KvmState, KvmStep>(m, s, steps);
        if (one == (count == 1 && steps.Length > 1 ? chosen[0] : -1)) return; // one step alone is no choice
        var labels = steps.ToArray().Select(t => m.Label(t)).ToArray();
        var state = s;
        Assert.Fail($"{universe}: SelectOne {one}, Select {count} step(s) [{string.Join(", ", chosen.Take(count).Select(i => labels[i]))}] in {string.Join("; ", m.Fields(state).Select(kv => $"{kv.Key}={kv.Value}"))}");
    }

    static void Check<TModel>(TModel m, string universe) where TModel : struct, IKvmModel, IReducibleModel<KvmState, KvmStep>
    {
        var rng = new Random(14);
        var steps = new KvmStep[m.MaxSteps];
        var after = new KvmStep[m.MaxSteps];
        int pairs = 0, walked = 0;
        for (int walk = 0; walk < 20; walk++)
        {
            var s = m.Initial();
            for (int depth = 0; depth < 40 && m.Violated(s) < 0; depth++)
            {
                int n = m.Enabled(s, steps);
                if (n == 0) break;
                pairs += CheckState(m, s, steps.AsSpan(0, n).ToArray(), after, universe);
                SelectOneAgrees(m, s, steps.AsSpan(0, n), universe);
                if (depth % 5 == 0) CheckFuture(m, s, rng, universe);
                if (depth % 5 == 2) CheckOthersOnly(m, s, rng, universe);
                var next = Step(m, s, steps[rng.Next(n)]);
                CheckPinned(m, s, next, universe);
                s = next;
                walked++;
            }
        }
        // A walk that takes no step checks nothing (single-vCPU universes may have no independent pairs).
        Assert.True(walked > 0, $"{universe}: the walks took no step ({pairs} independent pairs checked)");
    }

    static KvmState Step<TModel>(TModel m, KvmState s, KvmStep step) where TModel : struct, IKvmModel
    {
        m.Apply(ref s, step);
        return s;
    }

    static string Where<TModel>(TModel m, in KvmState s, string universe) where TModel : struct, IKvmModel =>
        $"{universe} under {m.Config.Policy.Name}, in the state\n  " + string.Join("\n  ", m.Fields(s).Select(kv => $"{kv.Key}: {kv.Value}"));

    static int CheckState<TModel>(TModel m, KvmState s, KvmStep[] enabled, KvmStep[] buffer, string universe)
        where TModel : struct, IKvmModel, IReducibleModel<KvmState, KvmStep>
    {
        ulong counters = m.Counters;
        var fp = enabled.Select(t => m.StepFootprint(s, t)).ToArray();
        var next = enabled.Select(t => Step(m, s, t)).ToArray();
        for (int i = 0; i < enabled.Length; i++)
        {
            ulong changed = KvmFootprints.Changed(s, next[i]);
            if ((changed & ~fp[i].Writes) != 0)
                Assert.Fail($"{m.Label(enabled[i])} changed components 0x{changed & ~fp[i].Writes:x} outside its write set; {Where(m, s, universe)}");
            if ((fp[i].Guards & ~fp[i].Reads) != 0) Assert.Fail($"{m.Label(enabled[i])}: guards outside its reads; {Where(m, s, universe)}");
        }
        // A step (the key step of AmpleSets' D2) stays enabled after another agent's step that
        // writes none of its guards, budget counters included.
        for (int i = 0; i < enabled.Length; i++)
            for (int j = 0; j < enabled.Length; j++)
                if (m.AgentOf(enabled[i]) != m.AgentOf(enabled[j]) && (fp[j].Writes & fp[i].Guards) == 0 && !Contains(m, next[j], enabled[i], buffer))
                    Assert.Fail($"{m.Label(enabled[j])} disables {m.Label(enabled[i])} but writes none of its guards; {Where(m, s, universe)}");
        int pairs = 0;
        for (int i = 0; i < enabled.Length; i++)
            for (int j = i + 1; j < enabled.Length; j++)
            {
                var a = new Footprint(fp[i].Reads & ~counters, fp[i].Writes & ~counters);
                var b = new Footprint(fp[j].Reads & ~counters, fp[j].Writes & ~counters);
                if (!a.IndependentOf(b)) continue;
                pairs++;
                // The messages are built only on a failure: Where formats every field of the state.
                string What() => $"{m.Label(enabled[i])} and {m.Label(enabled[j])}, called independent";
                bool jAfterI = Contains(m, next[i], enabled[j], buffer), iAfterJ = Contains(m, next[j], enabled[i], buffer);
                bool shareCounter = (fp[i].Writes & fp[j].Writes & counters) != 0;
                if (!(jAfterI || shareCounter)) Assert.Fail($"{What()}: the first disables the second; {Where(m, s, universe)}");
                if (!(iAfterJ || shareCounter)) Assert.Fail($"{What()}: the second disables the first; {Where(m, s, universe)}");
                if (jAfterI && iAfterJ && KvmFootprints.Changed(Step(m, next[i], enabled[j]), Step(m, next[j], enabled[i])) != 0)
                    Assert.Fail($"{What()}: the two orders end in different states; {Where(m, s, universe)}");
            }
        return pairs;
    }

    static bool Contains<TModel>(TModel m, in KvmState s, KvmStep step, KvmStep[] buffer) where TModel : struct, IKvmModel
    {
        int n = m.Enabled(s, buffer);
        for (int k = 0; k < n; k++)
            if (buffer[k].Equals(step)) return true;
        return false;
    }

    /// <summary>Once <see cref="KvmFootprints.InhibitPinned"/> holds it holds on, and then no step
    /// changes whether APICv is activated.</summary>
    static void CheckPinned<TModel>(TModel m, in KvmState s, in KvmState next, string universe) where TModel : struct, IKvmModel
    {
        if (!KvmFootprints.InhibitPinned(m.Config, s)) return;
        if (!KvmFootprints.InhibitPinned(m.Config, next)) Assert.Fail($"the inhibit was pinned and is no longer; {Where(m, s, universe)}");
        if ((KvmFootprints.Changed(s, next) & 1UL << KvmFootprints.Activation) != 0)
            Assert.Fail($"a step flipped the APICv activation while the inhibit was pinned; {Where(m, s, universe)}");
    }

    /// <summary>For each agent v, walks on from <paramref name="s"/> with other agents' steps
    /// only: while none of them writes the guards of v's future (counters aside: they only
    /// disable), v's enabled steps are among those it had before (AmpleSets, C1).</summary>
    static void CheckOthersOnly<TModel>(TModel m, KvmState s, Random rng, string universe)
        where TModel : struct, IKvmModel, IReducibleModel<KvmState, KvmStep>
    {
        var steps = new KvmStep[m.MaxSteps];
        for (int v = 0; v < m.Agents; v++)
        {
            ulong guards = m.Future(s, v).Guards & ~m.Counters;
            var before = Own(m, s, v, steps);
            var t = s;
            for (int depth = 0; depth < 20 && m.Violated(t) < 0; depth++)
            {
                var others = steps.AsSpan(0, m.Enabled(t, steps)).ToArray().Where(x => m.AgentOf(x) != v).ToArray();
                if (others.Length == 0) break;
                var u = others[rng.Next(others.Length)];
                if ((m.StepFootprint(t, u).Writes & guards) != 0) break;
                var prev = t;
                t = Step(m, t, u);
                var now = Own(m, t, v, steps);
                if (!now.IsSubsetOf(before))
                    Assert.Fail($"{m.Label(u)} gave agent {v} the step {m.Label(now.Except(before).First())} without writing its future's guards; after {Where(m, prev, universe)}");
            }
        }
    }

    static HashSet<KvmStep> Own<TModel>(TModel m, in KvmState s, int agent, KvmStep[] buffer) where TModel : struct, IKvmModel, IReducibleModel<KvmState, KvmStep>
    {
        int n = m.Enabled(s, buffer);
        var own = new HashSet<KvmStep>();
        for (int k = 0; k < n; k++)
            if (m.AgentOf(buffer[k]) == agent) own.Add(buffer[k]);
        return own;
    }

    /// <summary>Walks on from <paramref name="s"/>: every step, up to a violation, lies within
    /// the future footprint its agent had in <paramref name="s"/>.</summary>
    static void CheckFuture<TModel>(TModel m, KvmState s, Random rng, string universe)
        where TModel : struct, IKvmModel, IReducibleModel<KvmState, KvmStep>
    {
        var future = Enumerable.Range(0, m.Agents).Select(a => m.Future(s, a)).ToArray();
        var steps = new KvmStep[m.MaxSteps];
        var start = s;
        for (int walk = 0; walk < 4; walk++)
        {
            var t = start;
            for (int depth = 0; depth < 30 && m.Violated(t) < 0; depth++)
            {
                int n = m.Enabled(t, steps);
                if (n == 0) break;
                for (int k = 0; k < n; k++)
                {
                    var f = m.StepFootprint(t, steps[k]);
                    var fut = future[m.AgentOf(steps[k])];
                    if (!((f.Reads & ~fut.Reads) == 0 && (f.Writes & ~fut.Writes) == 0 && (f.Guards & ~fut.Guards) == 0))
                        Assert.Fail($"{m.Label(steps[k])} is outside the future footprint of its agent; from {Where(m, start, universe)}");
                }
                t = Step(m, t, steps[rng.Next(n)]);
            }
        }
    }
}

/// <summary>The other half of <see cref="KvmFootprintTests.Runs"/>.</summary>
public class KvmFootprintTestsOtherHalf
{
    [Theory]
    [MemberData(nameof(KvmFootprintTests.Half), 1, MemberType = typeof(KvmFootprintTests))]
    public void Footprints_HoldInSampledStates(string universe, string preset) => KvmFootprintTests.Footprints(universe, preset);
}
