using NestedApic.Checking;
using NestedApic.Checking.Reduction;
using NestedApic.Hardware.Svm;
using NestedApic.Hypervisor;
using NestedApic.Hypervisor.Svm;
using NestedApic.Scenarios;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace NestedApic.Tests.Hypervisor;

/// <summary>
/// The vCPU symmetry is tested, not assumed: in states sampled by seeded random walks through
/// every built-in universe (both vendors) under every preset, renaming the vCPUs by every
/// permutation maps the enabled steps onto the renamed ones, each step's successor onto the
/// renamed successor, and keeps the verdict; the canonical state is the same for every renaming.
/// On AMD the renaming renames what kvm_amd's parts name (physical APIC ID entries, host APIC
/// IDs, incomplete-IPI destinations), and clearing the dead host APIC IDs keeps every future.
/// </summary>
[RunsLong(3)]
public class KvmSymmetryTests
{
    public static TheoryData<string, string, int> Runs()
    {
        var data = new TheoryData<string, string, int>();
        foreach (var f in Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "universes"), "*.toml").Order())
        {
            var u = Universe.Load(f);
            foreach (var p in Policies.For(u.Config.Vendor))
                foreach (int n in new[] { 2, 3 })
                    data.Add(u.Name, p.Name, n);
        }
        return data;
    }

    static IEnumerable<byte[]> Permutations(int n) => n == 1 ? [[0]]
        : Permutations(n - 1).SelectMany(p => Enumerable.Range(0, n).Select(at => p.Take(at).Append((byte)(n - 1)).Concat(p.Skip(at)).ToArray()));

    /// <summary>The rows of <see cref="Runs"/> for one vCPU count: xUnit runs one class's rows one
    /// after the other, so the 3-vCPU rows run side by side in their own class.</summary>
    public static TheoryData<string, string, int> RunsWith(int vcpus)
    {
        var data = new TheoryData<string, string, int>();
        foreach (var row in Runs())
            if ((int)row[2] == vcpus) data.Add((string)row[0], (string)row[1], vcpus);
        return data;
    }

    [Theory]
    [MemberData(nameof(RunsWith), 2)]
    public void RenamingVcpus_IsAnAutomorphism(string universe, string preset, int vcpus) => CheckRenamings(universe, preset, vcpus);

    [Fact]
    public void IntelWide_StatesWithAllVcpusPublishedAreChecked()
    {
        Assert.True(CheckRenamings("intel-wide", "linux-7.0", 2).Visible > 100);
        Assert.True(CheckRenamings("seed", "linux-6.18", 3).Visible > 100);
    }

    /// <summary>The AMD walks reach what names another vCPU: a pending AVIC_INCOMPLETE_IPI for
    /// another vCPU, and a host APIC ID left in an entry that is not running.</summary>
    [Fact]
    public void AmdWide_StatesThatNameOtherVcpusAreChecked()
    {
        var two = CheckRenamings("amd-wide", "linux-7.1-svm", 2);
        var three = CheckRenamings("amd-wide", "linux-7.1-svm", 3);
        Assert.True(two.Visible > 100 && three.Visible > 100, $"{two} {three}");
        Assert.True(two.IncompleteIpiToOther > 0 && three.IncompleteIpiToOther > 0, $"{two} {three}");
        Assert.True(two.IdleHostId > 0 && three.IdleHostId > 0, $"{two} {three}");
    }

    internal record struct Walked(int Visible, int IncompleteIpiToOther, int IdleHostId);

    /// <summary>How many states had every vCPU published (the others are never renamed), and of
    /// those how many had an AMD reference to another vCPU or a dead host APIC ID.</summary>
    internal static Walked CheckRenamings(string universe, string preset, int vcpus) =>
        CheckRenamings(Universe.Load(Path.Combine(AppContext.BaseDirectory, "universes", universe + ".toml")), preset, vcpus);

    /// <summary>amd-wide with every bounded AMD event allowed twice (the built-in universes leave
    /// some out: device-irq, synic-autoeoi, set-lapic, set-cpuid, dirty logging, guest-write).</summary>
    [Theory]
    [InlineData("linux-5.18-svm", 2)]
    [InlineData("linux-7.0-svm", 2)]
    [InlineData("linux-7.1-svm", 3)]
    [InlineData("amd-pml-v5", 3)]
    [InlineData("no-nested-avic-inhibit", 2)]
    public void Amd_EveryEventKind_RenamingIsAnAutomorphism(string preset, int vcpus)
    {
        var u = Universe.Load(Path.Combine(AppContext.BaseDirectory, "universes", "amd-wide.toml"));
        var budget = Enumerable.Range(0, (int)EventKind.Count)
            .Select(k => (byte)(((EventKind)k).IsBounded() && ((EventKind)k).AppliesTo(CpuVendor.Amd) ? 2 : 0)).ToArray();
        var every = u with { Config = u.Config with { Budget = budget } };
        Assert.True(KvmSymmetry.Applies(every.Config with { Vcpus = vcpus }));
        Assert.True(CheckRenamings(every, preset, vcpus).Visible > 100);
    }

    static Walked CheckRenamings(Universe u, string preset, int vcpus)
    {
        string universe = u.Name;
        IKvmModel m;
        try { m = UniverseCheck.Build(u, Policies.Find(preset)!, vcpus).Model; }
        catch (InputException) { return default; } // a setup naming a vCPU this count leaves out
        if (!KvmSymmetry.Applies(m.Config)) return default;
        var sym = (ISymmetricModel<KvmState, KvmStep>)m;
        bool amd = m.Config.Vendor == CpuVendor.Amd;
        int toOther = 0, idleHost = 0;
        var perms = Permutations(vcpus).ToArray();
        var rng = new Random(5);
        var steps = new KvmStep[m.MaxSteps];
        var renamed = new KvmStep[m.MaxSteps];
        Span<byte> canonPerm = stackalloc byte[vcpus];
        int checkedStates = 0;
        for (int walk = 0; walk < (vcpus == 3 ? 10 : 15); walk++) // 3 vCPUs: six renamings a state
        {
            var s = m.Initial();
            for (int depth = 0; depth < 30; depth++)
            {
                int n = m.Enabled(s, steps);
                bool visible = Enumerable.Range(0, vcpus).All(v => s.Vcpus[v].Life == VcpuLife.Visible);
                if (visible)
                {
                    checkedStates++;
                    if (Enumerable.Range(0, vcpus).Any(v => s.Vcpus[v].Svm.HasIncompleteIpi && s.Vcpus[v].Svm.IncompleteIpiDest != v)) toOther++;
                    if (Enumerable.Range(0, vcpus).Any(v => !s.Vcpus[v].Svm.IsRunning && s.Vcpus[v].Svm.Entry.HostApicId != 0)) idleHost++;
                    if (amd) CheckIdleHostIdsAreDead(m, s, steps, n, () => $"{universe} {preset} at depth {depth} of walk {walk}");
                    var canonical = s;
                    sym.Canonicalize(ref canonical, canonPerm);
                    foreach (var p in perms)
                    {
                        var ps = KvmSymmetry.PermuteState(s, vcpus, p);
                        // Messages are built only on a failure (most of the walk's time went into them).
                        string Where() => $"{universe} {preset}, renaming [{string.Join(",", p)}] at depth {depth} of walk {walk}";
                        if (m.Violated(ps) != m.Violated(s)) Assert.Fail($"{Where()}: the verdict changes");
                        int pn = m.Enabled(ps, renamed);
                        var expected = steps.Take(n).Select(t => KvmSymmetry.Permute(t, p)).OrderBy(Key).ToArray();
                        if (!expected.SequenceEqual(renamed.Take(pn).OrderBy(Key))) Assert.Fail($"{Where()}: the enabled steps are not the renamed ones");
                        for (int k = 0; k < n; k++)
                        {
                            var a = s; m.Apply(ref a, steps[k]);
                            var b = ps; m.Apply(ref b, KvmSymmetry.Permute(steps[k], p));
                            if (KvmFootprints.Changed(KvmSymmetry.PermuteState(a, vcpus, p), b) != 0)
                                Assert.Fail($"{Where()}: {m.Label(steps[k])} and its renaming end in states that are not renamings of each other");
                        }
                        var pc = ps;
                        sym.Canonicalize(ref pc, canonPerm);
                        if (KvmFootprints.Changed(pc, canonical) != 0) Assert.Fail($"{Where()}: two renamings have different canonical states: {string.Join("; ", m.Diff(pc, canonical))}");
                        // the reported renaming takes the state to its canonical one (up to dead host APIC IDs)
                        var viaPerm = KvmSymmetry.PermuteState(ps, vcpus, canonPerm);
                        SvmSymmetry.ClearIdleHostIds(ref viaPerm, vcpus);
                        if (KvmFootprints.Changed(viaPerm, canonical) != 0) Assert.Fail($"{Where()}: the canonical state is not the reported renaming of the state");
                    }
                }
                if (n == 0 || m.Violated(s) >= 0) break;
                m.Apply(ref s, steps[rng.Next(n)]);
            }
        }
        return new(checkedStates, toOther, idleHost);
    }

    /// <summary>SvmSymmetry.ClearIdleHostIds merges states: it must keep the enabled steps, the
    /// verdict and, after every step, the state up to the same clearing.</summary>
    static void CheckIdleHostIdsAreDead(IKvmModel m, in KvmState s, KvmStep[] steps, int n, Func<string> where)
    {
        int vcpus = m.Config.Vcpus;
        var cleared = s;
        SvmSymmetry.ClearIdleHostIds(ref cleared, vcpus);
        // and a state whose dead fields name the other pCPUs instead: the clearing must not care
        var scrambled = s;
        for (int v = 0; v < vcpus; v++)
        {
            var e = scrambled.Vcpus[v].Svm.Entry;
            if (e.Valid && !e.IsRunning) { e.HostApicId = (ushort)((v + 1) % vcpus); scrambled.Vcpus[v].Svm.PhysicalIdEntry = e.Value; }
        }
        var other = new KvmStep[m.MaxSteps];
        foreach (var t in new[] { cleared, scrambled })
        {
            if (m.Violated(t) != m.Violated(s)) Assert.Fail($"{where()}: clearing idle host APIC IDs changes the verdict");
            if (!(m.Enabled(t, other) == n && other.Take(n).SequenceEqual(steps.Take(n)))) Assert.Fail($"{where()}: clearing idle host APIC IDs changes the enabled steps");
            for (int k = 0; k < n; k++)
            {
                var a = s; m.Apply(ref a, steps[k]);
                var b = t; m.Apply(ref b, steps[k]);
                SvmSymmetry.ClearIdleHostIds(ref a, vcpus);
                SvmSymmetry.ClearIdleHostIds(ref b, vcpus);
                if (KvmFootprints.Changed(a, b) != 0) Assert.Fail($"{where()}: after {m.Label(steps[k])} the states differ beyond idle host APIC IDs");
            }
        }
    }

    static int Key(KvmStep t) => (int)t.Kind << 24 | t.Vcpu << 16 | t.Arg << 8 | t.Arg2;

    /// <summary>A counterexample found over AMD's canonical states (symmetry alone, not searched
    /// again in full) is rebuilt step by step with the renamings undone: each step is enabled in
    /// the real state before it and the last state breaks the property found.</summary>
    [Theory]
    [InlineData("amd-wide", "linux-7.0-svm", 3)]
    [InlineData("amd-wide", "no-nested-avic-inhibit", 3)]
    [InlineData("amd-nested-ipi", "no-nested-avic-inhibit", 2)]
    [InlineData("amd-set-nested-state", "linux-5.19-svm", 3)]
    public void Amd_TraceUnderSymmetry_IsAPathOfTheModel(string universe, string preset, int vcpus)
    {
        var u = Universe.Load(Path.Combine(AppContext.BaseDirectory, "universes", universe + ".toml"));
        var m = (SvmModel)UniverseCheck.Build(u, Policies.Find(preset)!, vcpus).Model;
        var r = Checker.Run<SvmModel, KvmState, KvmStep>(m, new CheckOptions { Threads = 1, MaxDepth = u.Depth, Symmetry = true });
        Assert.Equal(Verdict.Violated, r.Verdict);
        var s = m.Initial();
        var steps = new KvmStep[m.MaxSteps];
        foreach (var t in r.Trace)
        {
            int n = m.Enabled(s, steps);
            Assert.True(steps.Take(n).Contains(t.Step), $"{t.Label} is not enabled where the trace takes it");
            m.Apply(ref s, t.Step);
            Assert.True(KvmFootprints.Changed(s, t.After) == 0, $"{t.Label}: the trace's state is not the step's successor");
        }
        Assert.Equal(r.Invariant, m.Violated(s));
    }

    [Fact]
    public void Amd_Applied() =>
        Assert.True(KvmSymmetry.Applies(Universe.Load(Path.Combine(AppContext.BaseDirectory, "universes", "amd-nested-ipi.toml")).Config));

    /// <summary>An AMD state whose vCPUs' parts tie but for which other vCPU each one's pending
    /// AVIC_INCOMPLETE_IPI names: every renaming has the same canonical state. Three vCPUs each
    /// with an incomplete IPI to the next form a cycle (a renaming reverses it: one class), or
    /// all three name vCPU 0 (the two that name another sort first).</summary>
    [Fact]
    public void Amd_TiedPartsWithCrossReferences_OneCanonicalState()
    {
        var u = Universe.Load(Path.Combine(AppContext.BaseDirectory, "universes", "amd-wide.toml"));
        var m = (SvmModel)UniverseCheck.Build(u, Policies.Find("linux-7.1-svm")!, 3).Model;
        KvmState Pattern(Func<int, int> dest)
        {
            var s = m.Initial();
            for (int v = 0; v < 3; v++)
            {
                s.Vcpus[v].Phase = VcpuPhase.InKernel;
                s.Vcpus[v].Svm.IncompleteIpiCause = (byte)(1 + (int)IncompleteIpiCause.TargetNotRunning);
                s.Vcpus[v].Svm.IncompleteIpiDest = (byte)dest(v);
                s.Vcpus[v].Svm.IncompleteIpiVector = 0xE0;
            }
            return s;
        }
        Span<byte> perm = stackalloc byte[3];
        Func<int, int>[] patterns = [v => (v + 1) % 3, v => (v + 2) % 3, v => 0];
        for (int i = 0; i < patterns.Length; i++)
        {
            var s = Pattern(patterns[i]);
            var canonical = s;
            m.Canonicalize(ref canonical, perm);
            foreach (var p in Permutations(3))
            {
                var ps = KvmSymmetry.PermuteState(s, 3, p);
                m.Canonicalize(ref ps, perm);
                Assert.True(KvmFootprints.Changed(ps, canonical) == 0, $"pattern {i}, renaming [{string.Join(",", p)}]");
            }
        }
        byte[] Dests(int i) { var s = Pattern(patterns[i]); m.Canonicalize(ref s, new byte[3]); return Enumerable.Range(0, 3).Select(v => s.Vcpus[v].Svm.IncompleteIpiDest).ToArray(); }
        Assert.Equal(new byte[] { 1, 2, 0 }, Dests(0));
        Assert.Equal(new byte[] { 1, 2, 0 }, Dests(1));
        Assert.Equal(new byte[] { 2, 2, 2 }, Dests(2));
    }

    [Fact]
    public void UnknownEvent_NotApplied()
    {
        var c = Universe.Load(Path.Combine(AppContext.BaseDirectory, "universes", "intel-wide.toml")).Config;
        Assert.True(KvmSymmetry.Applies(c));
        Assert.False(KvmSymmetry.Applies(c with { Vcpus = 1 }));
    }
}

/// <summary>The 3-vCPU rows of <see cref="KvmSymmetryTests.Runs"/>.</summary>
public class KvmSymmetryTestsThreeVcpus
{
    [Theory]
    [MemberData(nameof(KvmSymmetryTests.RunsWith), 3, MemberType = typeof(KvmSymmetryTests))]
    public void RenamingVcpus_IsAnAutomorphism(string universe, string preset, int vcpus) => KvmSymmetryTests.CheckRenamings(universe, preset, vcpus);
}

/// <summary>The symmetric search against an independent full search (a class of its own so that
/// xUnit runs it beside the walks above).</summary>
[RunsLong(3)]
public class KvmSymmetryClassTests
{
    /// <summary>Five of the AMD presets, to keep the test short: the VM-wide and the per-vCPU
    /// NESTED inhibit, before and after 24f7d36b824b, no inhibit, and the PML design.</summary>
    static readonly string[] Presets = ["linux-5.18-svm", "linux-7.0-svm", "linux-7.1-svm", "no-nested-avic-inhibit", "amd-pml-v5"];

    /// <summary>The AMD built-in universes small enough to enumerate by hand, under the AMD
    /// presets with 2 and 3 vCPUs.</summary>
    public static TheoryData<string, string, int> SmallAmdRuns()
    {
        var data = new TheoryData<string, string, int>();
        foreach (var name in new[] { "amd-nested-ipi", "amd-set-nested-state", "amd-pml-create", "amd-pml-create-cpuid", "amd-pml-nested" })
            foreach (var p in Presets)
                foreach (int n in new[] { 2, 3 })
                    data.Add(name, p, n);
        return data;
    }

    /// <summary>The symmetric search stores exactly one state per class: an independent
    /// breadth-first search of the full graph, canonicalizing every successor it meets, finds
    /// the same set of canonical states (plus the initial state) as the checker with symmetry,
    /// which expands canonical states only. A canonical form that depended on the class member,
    /// or a renaming that were not an automorphism, would make the sets differ.</summary>
    [Theory]
    [MemberData(nameof(SmallAmdRuns))]
    public void Amd_SymmetricSearch_StoresOneStatePerClassOfTheFullGraph(string universe, string preset, int vcpus) =>
        SymmetricSearchAgainstFullGraph(universe, preset, vcpus);

    [Fact]
    public void Amd_SymmetricSearch_MergesStates()
    {
        var (classes, states) = SymmetricSearchAgainstFullGraph("amd-nested-ipi", "linux-7.1-svm", 3);
        Assert.True(2 * classes < states, $"{classes} classes of {states} states"); // 7,204 of 15,438: its setup tells vCPU 2 apart
    }

    /// <summary>The classes the checker stored and the states of the full graph.</summary>
    static (int Classes, int States) SymmetricSearchAgainstFullGraph(string universe, string preset, int vcpus)
    {
        var u = Universe.Load(Path.Combine(AppContext.BaseDirectory, "universes", universe + ".toml"));
        SvmModel m;
        try { m = (SvmModel)UniverseCheck.Build(u, Policies.Find(preset)!, vcpus).Model; }
        catch (InputException) { return default; } // a setup naming a vCPU this count leaves out
        static string Key(in KvmState s) => Convert.ToBase64String(SHA256.HashData(MemoryMarshal.AsBytes(MemoryMarshal.CreateReadOnlySpan(in s, 1))));
        var init = m.Initial();
        var seen = new HashSet<string> { Key(init) };
        var classes = new HashSet<string> { Key(init) };
        var level = new List<KvmState> { init };
        var steps = new KvmStep[m.MaxSteps];
        Span<byte> perm = stackalloc byte[vcpus];
        bool violated = false;
        for (int depth = 0; depth < u.Depth && level.Count > 0 && !violated; depth++)
        {
            var next = new List<KvmState>();
            foreach (var s in level)
            {
                int n = m.Enabled(s, steps);
                for (int k = 0; k < n; k++)
                {
                    var t = s; m.Apply(ref t, steps[k]);
                    var c = t; m.Canonicalize(ref c, perm);
                    classes.Add(Key(c));
                    if (seen.Add(Key(t))) { next.Add(t); violated |= m.Violated(t) >= 0; }
                }
            }
            level = next;
        }
        var r = Checker.Run<SvmModel, KvmState, KvmStep>(m, new CheckOptions { Threads = 1, MaxDepth = u.Depth, Symmetry = true });
        if (violated) { Assert.Equal(Verdict.Violated, r.Verdict); return default; }
        Assert.Equal(Verdict.Holds, r.Verdict);
        Assert.Equal(StopReason.Complete, r.StopReason);
        Assert.Equal(classes.Count, r.Stats.States);
        return (classes.Count, seen.Count);
    }
}
