using NestedApic.Hypervisor;
using NestedApic.Hypervisor.Vmx;
using NestedApic.Scenarios;

namespace NestedApic.Tests.Hypervisor;

/// <summary>
/// The vCPU symmetry is tested, not assumed: in states sampled by seeded random walks through
/// every Intel built-in universe under every preset, renaming the vCPUs by every permutation maps
/// the enabled steps onto the renamed ones, each step's successor onto the renamed successor,
/// and keeps the verdict; the canonical state is the same for every renaming.
/// </summary>
public class KvmSymmetryTests
{
    public static TheoryData<string, string, int> Runs()
    {
        var data = new TheoryData<string, string, int>();
        foreach (var f in Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "universes"), "*.toml").Order())
        {
            var u = Universe.Load(f);
            if (u.Config.Vendor != CpuVendor.Intel) continue;
            foreach (var p in Policies.For(u.Config.Vendor))
                foreach (int n in new[] { 2, 3 })
                    data.Add(u.Name, p.Name, n);
        }
        return data;
    }

    static IEnumerable<byte[]> Permutations(int n) => n == 1 ? [[0]]
        : Permutations(n - 1).SelectMany(p => Enumerable.Range(0, n).Select(at => p.Take(at).Append((byte)(n - 1)).Concat(p.Skip(at)).ToArray()));

    [Theory]
    [MemberData(nameof(Runs))]
    public void RenamingVcpus_IsAnAutomorphism(string universe, string preset, int vcpus) => CheckRenamings(universe, preset, vcpus);

    [Fact]
    public void IntelWide_StatesWithAllVcpusPublishedAreChecked()
    {
        Assert.True(CheckRenamings("intel-wide", "linux-7.0", 2) > 100);
        Assert.True(CheckRenamings("seed", "linux-6.18", 3) > 100);
    }

    /// <summary>How many states had every vCPU published (the others are never renamed).</summary>
    static int CheckRenamings(string universe, string preset, int vcpus)
    {
        var u = Universe.Load(Path.Combine(AppContext.BaseDirectory, "universes", universe + ".toml"));
        VmxModel m;
        try { m = (VmxModel)UniverseCheck.Build(u, Policies.Find(preset)!, vcpus).Model; }
        catch (InputException) { return 0; } // a setup naming a vCPU this count leaves out
        if (!KvmSymmetry.Applies(m.Config)) return 0;
        var perms = Permutations(vcpus).ToArray();
        var rng = new Random(5);
        var steps = new KvmStep[m.MaxSteps];
        var renamed = new KvmStep[m.MaxSteps];
        Span<byte> canonPerm = stackalloc byte[vcpus];
        int checkedStates = 0;
        for (int walk = 0; walk < 25; walk++)
        {
            var s = m.Initial();
            for (int depth = 0; depth < 30; depth++)
            {
                int n = m.Enabled(s, steps);
                bool visible = Enumerable.Range(0, vcpus).All(v => s.Vcpus[v].Life == VcpuLife.Visible);
                if (visible)
                {
                    checkedStates++;
                    var canonical = s;
                    m.Canonicalize(ref canonical, canonPerm);
                    foreach (var p in perms)
                    {
                        var ps = KvmSymmetry.PermuteState(s, vcpus, p);
                        string where = $"{universe} {preset}, renaming [{string.Join(",", p)}] at depth {depth} of walk {walk}";
                        Assert.True(m.Violated(ps) == m.Violated(s), $"{where}: the verdict changes");
                        int pn = m.Enabled(ps, renamed);
                        var expected = steps.Take(n).Select(t => KvmSymmetry.Permute(t, p)).OrderBy(Key).ToArray();
                        Assert.True(expected.SequenceEqual(renamed.Take(pn).OrderBy(Key)), $"{where}: the enabled steps are not the renamed ones");
                        for (int k = 0; k < n; k++)
                        {
                            var a = s; m.Apply(ref a, steps[k]);
                            var b = ps; m.Apply(ref b, KvmSymmetry.Permute(steps[k], p));
                            Assert.True(KvmFootprints.Changed(KvmSymmetry.PermuteState(a, vcpus, p), b) == 0,
                                $"{where}: {m.Label(steps[k])} and its renaming end in states that are not renamings of each other");
                        }
                        var pc = ps;
                        m.Canonicalize(ref pc, canonPerm);
                        Assert.True(KvmFootprints.Changed(pc, canonical) == 0, $"{where}: two renamings have different canonical states");
                    }
                }
                if (n == 0 || m.Violated(s) >= 0) break;
                m.Apply(ref s, steps[rng.Next(n)]);
            }
        }
        return checkedStates;
    }

    static int Key(KvmStep t) => (int)t.Kind << 24 | t.Vcpu << 16 | t.Arg << 8 | t.Arg2;

    [Fact]
    public void Amd_NotApplied() =>
        Assert.False(KvmSymmetry.Applies(Universe.Load(Path.Combine(AppContext.BaseDirectory, "universes", "amd-nested-ipi.toml")).Config));

    [Fact]
    public void UnknownEvent_NotApplied()
    {
        var c = Universe.Load(Path.Combine(AppContext.BaseDirectory, "universes", "intel-wide.toml")).Config;
        Assert.True(KvmSymmetry.Applies(c));
        Assert.False(KvmSymmetry.Applies(c with { Vcpus = 1 }));
    }
}
