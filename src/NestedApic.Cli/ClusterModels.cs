using NestedApic.Checking.Examples;
using NestedApic.Distributed;
using NestedApic.Hypervisor;
using NestedApic.Hypervisor.Svm;
using NestedApic.Hypervisor.Vmx;
using NestedApic.Scenarios;

namespace NestedApic.Cli;

/// <summary>
/// The models a silo of this program can rebuild from what a client sends: a universe (its TOML
/// text, policy and vCPU count) and the classic examples. The client builds the same model from
/// the same spec, so the silos run exactly the search the local engine would.
/// </summary>
public sealed class ClusterModels : IModelCatalog
{
    public ISearchModel Create(ModelSpec spec) => spec.Kind switch
    {
        "universe" => Universe(spec),
        "peterson" => SearchModel.For<Peterson, Peterson.State, byte>(Peterson(spec)),
        "philosophers" => SearchModel.For<Philosophers, Philosophers.State, byte>(Philosophers(spec)),
        "abp" => SearchModel.For<AlternatingBit, AlternatingBit.State, byte>(AlternatingBit(spec)),
        _ => throw new ArgumentException($"unknown model kind '{spec.Kind}' (known: universe, peterson, philosophers, abp)"),
    };

    /// <summary>A universe under a --policy spec (null: the universe's own policy).</summary>
    public static ModelSpec ForUniverse(string text, string file, string? policySpec, int vcpus) =>
        new("universe", file, text, new Dictionary<string, string> { ["policy"] = policySpec ?? "", ["vcpus"] = vcpus.ToString() });

    public static ModelSpec Classic(string kind, int n, bool bug = false, int modulus = 2) =>
        new(kind, kind, "", new Dictionary<string, string> { ["n"] = n.ToString(), ["bug"] = bug.ToString(), ["modulus"] = modulus.ToString() });

    public static IKvmModel UniverseModel(ModelSpec spec)
    {
        var u = Scenarios.Universe.Parse(spec.Text, spec.Name);
        string policySpec = spec.Settings["policy"];
        var policy = policySpec.Length == 0 ? u.Config.Policy : u.PolicyFor(policySpec);
        return UniverseCheck.Build(u, policy, int.Parse(spec.Settings["vcpus"])).Model;
    }

    static ISearchModel Universe(ModelSpec spec) => UniverseModel(spec) switch
    {
        VmxModel vmx => SearchModel.For<VmxModel, KvmState, KvmStep>(vmx),
        SvmModel svm => SearchModel.For<SvmModel, KvmState, KvmStep>(svm),
        _ => throw new ArgumentException("unknown vendor model"),
    };

    static int N(ModelSpec s) => int.Parse(s.Settings["n"]);
    static bool Bug(ModelSpec s) => bool.Parse(s.Settings["bug"]);
    public static Peterson Peterson(ModelSpec s) => new(N(s), Bug(s));
    public static Philosophers Philosophers(ModelSpec s) => new(N(s), Bug(s));
    public static AlternatingBit AlternatingBit(ModelSpec s) => new(N(s), int.Parse(s.Settings["modulus"]), Bug(s));
}
