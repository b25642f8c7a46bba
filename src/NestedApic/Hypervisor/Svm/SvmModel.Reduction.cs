using NestedApic.Checking.Reduction;

namespace NestedApic.Hypervisor.Svm;

/// <summary>Footprints for partial-order reduction (KvmFootprints).</summary>
public readonly partial struct SvmModel : IReducibleModel<KvmState, KvmStep>
{
    public int Agents => _c.Vcpus + 1;
    public int AgentOf(in KvmStep step) => KvmFootprints.AgentOf(_c, step);
    public Footprint StepFootprint(in KvmState state, in KvmStep step) => KvmFootprints.Step(_c, state, step);
    public Footprint Future(in KvmState state, int agent) => KvmFootprints.Future(_c, state, agent);
    public ulong Counters => KvmFootprints.BudgetCounters;
    public int PropertyScopes => KvmFootprints.Scopes(_c);
    public ulong PropertyScope(int scope) => KvmFootprints.Scope(_c, scope);
    /// <summary>No: the one AMD property scope reads every vCPU, so no ample set is ever smaller
    /// than the enabled steps, and chains would pass only states with one enabled step: measured
    /// on amd-wide under linux-7.1-svm, 3 % fewer states with 3 vCPUs (15 % with 2) for 40 % more
    /// time and no less memory (bench/README.md).</summary>
    public bool SingleStepChains => false;
}
