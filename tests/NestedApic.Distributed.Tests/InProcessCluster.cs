using Microsoft.Extensions.DependencyInjection;
using NestedApic.Checking;
using NestedApic.Cli;
using Orleans.TestingHost;

namespace NestedApic.Distributed.Tests;

/// <summary>Two silos in this process (Orleans' testing host), each able to rebuild the CLI's models.</summary>
public sealed class InProcessCluster : IAsyncLifetime
{
    public TestCluster Cluster { get; private set; } = null!;
    public IGrainFactory Grains => Cluster.GrainFactory;

    sealed class Models : ISiloConfigurator
    {
        public void Configure(ISiloBuilder silo) => silo.Services.AddSingleton<IModelCatalog, ClusterModels>();
    }

    public async Task InitializeAsync()
    {
        var builder = new TestClusterBuilder(2);
        builder.AddSiloBuilderConfigurator<Models>();
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
    }

    /// <summary>The cluster's search and the local engine's, and the local engine's count of the
    /// states up to a depth (what the cluster reports at a violation: see Same).</summary>
    public async Task<(CheckResult<S, T> Cluster, CheckResult<S, T> Local, Func<int, long> Through)> Both<M, S, T>(ModelSpec spec, M model,
        ClusterSearchOptions? options = null, CheckOptions? local = null)
        where M : struct, IModel<S, T> where S : unmanaged where T : unmanaged
    {
        options ??= new ClusterSearchOptions { CheckDeadlock = true, Silos = 2 };
        local ??= new CheckOptions { Threads = 1, CheckDeadlock = options.CheckDeadlock, MaxDepth = options.MaxDepth, Exact = options.Exact };
        var onCluster = await ClusterSearch.Run<M, S, T>(Grains, spec, model, options);
        var bounded = local;
        return (onCluster, Checker.Run<M, S, T>(model, local), depth => Checker.Run<M, S, T>(model, bounded with { MaxDepth = depth }).Stats.States);
    }
}
