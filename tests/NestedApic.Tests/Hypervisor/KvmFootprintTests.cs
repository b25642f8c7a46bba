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
/// (a shared budget counter may run out, nothing else); and what an agent does later on any walk
/// stays within the future footprint declared for it. A failure names the steps and the state.
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

    [Theory]
    [MemberData(nameof(Runs))]
    public void Footprints_HoldInSampledStates(string universe, string preset)
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

    static void Check<TModel>(TModel m, string universe) where TModel : struct, IKvmModel, IReducibleModel<KvmState, KvmStep>
    {
        var rng = new Random(14);
        var steps = new KvmStep[m.MaxSteps];
        var after = new KvmStep[m.MaxSteps];
        int pairs = 0;
        for (int walk = 0; walk < 40; walk++)
        {
            var s = m.Initial();
            for (int depth = 0; depth < 40 && m.Violated(s) < 0; depth++)
            {
                int n = m.Enabled(s, steps);
                if (n == 0) break;
                pairs += CheckState(m, s, steps.AsSpan(0, n).ToArray(), after, universe);
                if (depth % 5 == 0) CheckFuture(m, s, rng, universe);
                s = Step(m, s, steps[rng.Next(n)]);
            }
        }
        Assert.True(pairs >= 0);
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
            Assert.True((changed & ~fp[i].Writes) == 0,
                $"{m.Label(enabled[i])} changed components 0x{changed & ~fp[i].Writes:x} outside its write set; {Where(m, s, universe)}");
        }
        int pairs = 0;
        for (int i = 0; i < enabled.Length; i++)
            for (int j = i + 1; j < enabled.Length; j++)
            {
                var a = new Footprint(fp[i].Reads & ~counters, fp[i].Writes & ~counters);
                var b = new Footprint(fp[j].Reads & ~counters, fp[j].Writes & ~counters);
                if (!a.IndependentOf(b)) continue;
                pairs++;
                string what = $"{m.Label(enabled[i])} and {m.Label(enabled[j])}, called independent";
                bool jAfterI = Contains(m, next[i], enabled[j], buffer), iAfterJ = Contains(m, next[j], enabled[i], buffer);
                bool shareCounter = (fp[i].Writes & fp[j].Writes & counters) != 0;
                Assert.True(jAfterI || shareCounter, $"{what}: the first disables the second; {Where(m, s, universe)}");
                Assert.True(iAfterJ || shareCounter, $"{what}: the second disables the first; {Where(m, s, universe)}");
                if (jAfterI && iAfterJ)
                    Assert.True(KvmFootprints.Changed(Step(m, next[i], enabled[j]), Step(m, next[j], enabled[i])) == 0,
                        $"{what}: the two orders end in different states; {Where(m, s, universe)}");
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
                    Assert.True((f.Reads & ~fut.Reads) == 0 && (f.Writes & ~fut.Writes) == 0,
                        $"{m.Label(steps[k])} is outside the future footprint of its agent; from {Where(m, start, universe)}");
                }
                t = Step(m, t, steps[rng.Next(n)]);
            }
        }
    }
}
