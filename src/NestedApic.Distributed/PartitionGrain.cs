using Orleans.Concurrency;
using Orleans.Runtime;

namespace NestedApic.Distributed;

/// <summary>One partition of one search; key "JOB/INDEX". The coordinator (in the client) drives
/// the levels; partitions send each other successors with Receive.</summary>
public interface IPartitionGrain : IGrainWithStringKey
{
    Task<PartitionPlace> Start(JobSpec job, int index);
    Task<ExpandReport> Expand();
    /// <summary>The sender hands the batch over (a fresh buffer each time), so a call within one
    /// silo passes it without a copy.</summary>
    [AlwaysInterleave] Task Receive(int from, [Immutable] ReadOnlyMemory<byte> batch);
    Task<LevelReport> EndLevel();
    Task<ParentRef> Parent(int index);
    /// <summary>The client is still there: keeps the lease (see JobSpec.LeaseSeconds).</summary>
    [AlwaysInterleave] Task Heartbeat();
    Task Stop();
}

/// <summary>
/// Hosts a partition engine. A partition that hears nothing from its client for the job's lease
/// drops its states and deactivates, so a client that dies leaves its silos idle, not busy or full.
/// An activation that was never started (its first one died with its silo) refuses every call,
/// so a lost partition is reported, never silently replaced by an empty one.
/// </summary>
internal sealed class PartitionGrain(IModelCatalog catalog, ILocalSiloDetails silo) : Grain, IPartitionGrain
{
    IPartitionEngine? _engine;
    JobSpec? _job;
    int _index;
    DateTime _lastContact = DateTime.UtcNow;
    IGrainTimer? _lease;
    IPartitionGrain[] _peers = [];

    string Silo => silo.SiloAddress.ToString();

    public Task<PartitionPlace> Start(JobSpec job, int index)
    {
        if (_engine is not null) throw new InvalidOperationException($"partition {this.GetPrimaryKeyString()} already started");
        _job = job; _index = index;
        _engine = catalog.Create(job.Model).CreatePartition(job, index);
        _peers = Enumerable.Range(0, job.Partitions).Select(i => GrainFactory.GetGrain<IPartitionGrain>(Key(job.JobId, i))).ToArray();
        Touch();
        var period = TimeSpan.FromSeconds(Math.Max(1, job.LeaseSeconds / 4.0));
        _lease = this.RegisterGrainTimer(CheckLease, period, period);
        return Task.FromResult(new PartitionPlace(Silo, Environment.ProcessId));
    }

    public static string Key(string job, int index) => $"{job}/{index}";

    IPartitionEngine Engine => _engine ?? throw new InvalidOperationException(
        $"partition {this.GetPrimaryKeyString()} is not running on {Silo}: the silo that held it was lost or its lease ran out");

    void Touch() => _lastContact = DateTime.UtcNow;

    public async Task<ExpandReport> Expand()
    {
        var engine = Engine;
        Touch();
        var report = await engine.Expand((owner, batch) => _peers[owner].Receive(_index, batch));
        Touch();
        return report;
    }

    public Task Receive(int from, ReadOnlyMemory<byte> batch)
    {
        Engine.Receive(from, batch.Span);
        Touch();
        return Task.CompletedTask;
    }

    public Task<LevelReport> EndLevel() { Touch(); return Task.FromResult(Engine.EndLevel(Silo)); }

    public Task<ParentRef> Parent(int index) { Touch(); return Task.FromResult(Engine.Parent(index)); }

    public Task Heartbeat() { if (_engine is not null) Touch(); return Task.CompletedTask; }

    public Task Stop()
    {
        Drop();
        return Task.CompletedTask;
    }

    Task CheckLease(CancellationToken _)
    {
        if (_job is not null && DateTime.UtcNow - _lastContact > TimeSpan.FromSeconds(_job.LeaseSeconds)) Drop();
        return Task.CompletedTask;
    }

    void Drop()
    {
        _engine = null;
        _peers = [];
        _lease?.Dispose();
        _lease = null;
        DeactivateOnIdle();
    }
}
