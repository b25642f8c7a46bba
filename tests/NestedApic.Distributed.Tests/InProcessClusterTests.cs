using NestedApic.Checking;
using NestedApic.Checking.Examples;
using NestedApic.Cli;
using NestedApic.Hypervisor;
using NestedApic.Hypervisor.Svm;
using NestedApic.Hypervisor.Vmx;
using NestedApic.Scenarios;

namespace NestedApic.Distributed.Tests;

/// <summary>
/// The cluster search on two in-process silos against the local engine: the same verdict, state
/// count, depth and trace length for the classic models (whose counts equal SPIN's, see
/// ClassicModelTests) and for the small built-in universes.
/// </summary>
public class InProcessClusterTests(InProcessCluster fixture) : IClassFixture<InProcessCluster>
{
    /// <summary>
    /// Equal verdicts, properties, depths and traces; equal state counts when the search ends without a
    /// violation. At a violation at depth d the local engine's count depends on how it cut level
    /// d - 1 into rounds (it stops mid-level); the cluster's is the states of depth below d (of
    /// depth up to d at a deadlock, found while expanding level d): the same when the local engine
    /// expanded that level in one round, never more.
    /// </summary>
    static void Same<S, T>(CheckResult<S, T> cluster, CheckResult<S, T> local, Func<int, long> through) where S : unmanaged where T : unmanaged
    {
        Assert.Equal(local.Verdict, cluster.Verdict);
        Assert.Equal(local.StopReason, cluster.StopReason);
        if (local.Verdict == Verdict.Violated)
        {
            Assert.Equal(local.Trace.Count == 0 ? 1 : through(local.Trace.Count - 1), cluster.Stats.States);
            Assert.True(cluster.Stats.States <= local.Stats.States);
        }
        else if (local.Verdict == Verdict.Deadlock)
        {
            Assert.Equal(through(local.Trace.Count), cluster.Stats.States);
            Assert.True(cluster.Stats.States <= local.Stats.States);
        }
        else Assert.Equal(local.Stats.States, cluster.Stats.States);
        Assert.Equal(local.Stats.Depth, cluster.Stats.Depth);
        Assert.Equal(local.Trace.Count, cluster.Trace.Count);
        Assert.Equal(local.InvariantName, cluster.InvariantName);
        // Not just as long: the same steps, the least path in the local engine's order.
        Assert.Equal(local.Trace.Select(t => t.Label), cluster.Trace.Select(t => t.Label));
        if (local.Verdict == Verdict.Holds) Assert.Equal(local.Stats.Transitions, cluster.Stats.Transitions);
    }

    [Theory]
    [InlineData(3, false, 417L)]
    [InlineData(2, true, 0L)]
    public async Task Peterson_matches_the_local_engine(int n, bool bug, long states)
    {
        var (c, l, t) = await fixture.Both<Peterson, Peterson.State, byte>(ClusterModels.Classic("peterson", n, bug), new Peterson(n, bug));
        Same(c, l, t);
        if (bug) Assert.Equal(6, c.Trace.Count);
        else Assert.Equal(states, c.Stats.States);
    }

    [Theory]
    [InlineData(4, false)]
    [InlineData(3, true)]
    public async Task Philosophers_match_the_local_engine(int n, bool bug)
    {
        var (c, l, t) = await fixture.Both<Philosophers, Philosophers.State, byte>(ClusterModels.Classic("philosophers", n, bug), new Philosophers(n, bug));
        Same(c, l, t);
        Assert.Equal(bug ? Verdict.Deadlock : Verdict.Holds, c.Verdict);
        if (!bug) Assert.Equal(81, c.Stats.States);
    }

    [Theory]
    [InlineData(2, false)]
    [InlineData(2, true)]
    public async Task Alternating_bit_matches_the_local_engine(int capacity, bool bug)
    {
        var (c, l, t) = await fixture.Both<AlternatingBit, AlternatingBit.State, byte>(ClusterModels.Classic("abp", capacity, bug), new AlternatingBit(capacity, 2, bug));
        Same(c, l, t);
        Assert.Equal(bug ? Verdict.Violated : Verdict.Holds, c.Verdict);
    }

    /// <summary>Every built-in universe under three presets of its vendor (the oldest, one in the
    /// middle and the newest of the list) whose reachable states the local engine counts under
    /// 10,000 (the larger ones: the process tests and the bench). The cluster passes the preset's
    /// name to the silos, which rebuild the model with the CLI's own code (ClusterModels); nothing
    /// in the distributed search depends on the preset, and every preset under every universe
    /// took a seventh of the suite's CPU time.</summary>
    public static TheoryData<string, string> SmallUniverses()
    {
        var data = new TheoryData<string, string>();
        foreach (var name in BuiltinUniverses.Names)
        {
            var u = BuiltinUniverses.Load(name);
            var presets = Policies.For(u.Config.Vendor).ToArray();
            foreach (var policy in new[] { presets[0], presets[presets.Length / 2], presets[^1] }.Distinct())
            {
                var r = UniverseCheck.Run(u, policy, u.Config.Vcpus, new UniverseCheck.Settings(1, MaxStates: 10_000));
                if (r.StoppedBy != "the state bound") data.Add(name, policy.Name);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(SmallUniverses))]
    public async Task Universes_match_the_local_engine(string name, string policy)
    {
        var (c, l, t) = await Universe(name, null, new ClusterSearchOptions { Silos = 2 }, policy);
        Same(c, l, t);
    }

    [Fact]
    public async Task More_vcpus_match_the_local_engine()
    {
        var (c, l, t) = await Universe("apic-access-page", 2, new ClusterSearchOptions { Silos = 2 });
        Same(c, l, t);
    }

    [Fact]
    public async Task Bounds_and_exact_mode_match_the_local_engine()
    {
        var (c, l, t) = await Universe("seed", null, new ClusterSearchOptions { Silos = 2, MaxDepth = 5 });
        Same(c, l, t);
        Assert.Equal(StopReason.DepthBound, c.StopReason);
        (c, l, t) = await Universe("apic-access-page", null, new ClusterSearchOptions { Silos = 2, Exact = true });
        Same(c, l, t);
        Assert.Equal(0, c.Stats.CollisionProbability);
        (c, _, _) = await Universe("seed", null, new ClusterSearchOptions { Silos = 2, MemoryBudgetPerSilo = 1 << 20 });
        Assert.Equal(Verdict.Bounded, c.Verdict);
        Assert.Equal(StopReason.MemoryBudget, c.StopReason);
        (c, _, _) = await Universe("seed", null, new ClusterSearchOptions { Silos = 2, MaxStates = 100 });
        Assert.Equal(Verdict.Bounded, c.Verdict);
        Assert.Equal(StopReason.StateBound, c.StopReason);
        Assert.True(c.Stats.States > 100);
    }

    [Fact]
    public async Task Partition_count_does_not_change_the_result()
    {
        foreach (int k in new[] { 1, 3, 5 })
        {
            var (c, l, t) = await Universe("tpr-threshold-ppr", null, new ClusterSearchOptions { Silos = 2, PartitionsPerSilo = k });
            Same(c, l, t);
        }
    }

    [Fact]
    public async Task A_model_the_silos_cannot_build_is_one_line_naming_the_partition()
    {
        var spec = new ModelSpec("no-such-kind", "x", "", new Dictionary<string, string>());
        var e = await Assert.ThrowsAsync<ClusterLostException>(() => ClusterSearch.Run<Peterson, Peterson.State, byte>(fixture.Grains, spec, new Peterson(2), new ClusterSearchOptions { Silos = 2 }));
        Assert.Contains("unknown model kind 'no-such-kind'", e.Message);
        Assert.StartsWith("cluster: partition", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public async Task A_partition_whose_client_went_silent_drops_its_states()
    {
        // What a dead client leaves behind: partitions that hear nothing for the lease let go.
        var job = new JobSpec(Guid.NewGuid().ToString("N"), ClusterModels.Classic("peterson", 3), 1, false, false, long.MaxValue, LeaseSeconds: 1);
        var partition = fixture.Grains.GetGrain<IPartitionGrain>(PartitionGrain.Key(job.JobId, 0));
        await partition.Start(job, 0);
        Assert.True((await partition.Expand()).Transitions > 0);
        await Task.Delay(TimeSpan.FromSeconds(3));
        var e = await Assert.ThrowsAnyAsync<Exception>(() => partition.EndLevel());
        Assert.Contains("is not running", e.Message);
    }

    async Task<(CheckResult<KvmState, KvmStep>, CheckResult<KvmState, KvmStep>, Func<int, long>)> Universe(string name, int? vcpus, ClusterSearchOptions options, string? policy = null)
    {
        var u = BuiltinUniverses.Load(name);
        string text = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "universes", name + ".toml"));
        var spec = ClusterModels.ForUniverse(text, u.File, policy, vcpus ?? u.Config.Vcpus);
        var model = ClusterModels.UniverseModel(spec);
        options = options with { MaxDepth = Math.Min(options.MaxDepth, u.Depth) };
        var local = new CheckOptions { Threads = 1, MaxDepth = options.MaxDepth, Exact = options.Exact };
        return model switch
        {
            VmxModel vmx => await fixture.Both<VmxModel, KvmState, KvmStep>(spec, vmx, options, local),
            SvmModel svm => await fixture.Both<SvmModel, KvmState, KvmStep>(spec, svm, options, local),
            _ => throw new InvalidOperationException(),
        };
    }
}
