using NestedApic.Hypervisor;

namespace NestedApic.Scenarios;

/// <summary>An error in a file a user wrote, already positioned ("FILE:LINE: ...").</summary>
public sealed class InputException(string message) : Exception(message);

/// <summary>
/// Builds a universe's initial state by replaying its setup lines with the model's own
/// transitions, so every initial state is one the model can reach.
/// </summary>
public static class Setup
{
    /// <summary>Pseudo-step: KVM runs the vCPU's loop (requests, then VM entry) until it is in the guest.</summary>
    public const string EnterGuest = "enter-guest";

    public static KvmState Build(Universe u, KvmConfig config)
    {
        var unbounded = config with { Budget = Enumerable.Repeat((byte)255, (int)EventKind.Count).ToArray() };
        var model = KvmModels.Create(unbounded, default);
        var s = default(KvmState);
        foreach (var (line, lineNo) in u.Setup)
            foreach (var expanded in Expand(line, config.Vcpus))
                ApplyLine(model, ref s, expanded, $"{u.File}:{lineNo}");
        s.Used = default;
        return s;
    }

    /// <summary>"vcpu*" stands for every vCPU in turn, "vcpu$" for the last one, so one setup
    /// serves every vCPU count.</summary>
    static IEnumerable<string> Expand(string line, int vcpus)
    {
        line = string.Join(' ', line.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        if (line.StartsWith("vcpu$")) { yield return $"vcpu{vcpus - 1}" + line[5..]; yield break; }
        if (!line.StartsWith("vcpu*")) { yield return line; yield break; }
        for (int v = 0; v < vcpus; v++) yield return $"vcpu{v}" + line[5..];
    }

    /// <summary>Applies one step given by its trace label; the error lists what was enabled.</summary>
    public static void ApplyLine(IKvmModel model, ref KvmState s, string line, string where)
    {
        s.Used = default; // setup is not bounded: no event is "used up", however often it appears

        if (line.EndsWith("/L0: " + EnterGuest))
        {
            int v = ParseVcpu(line, where, model.Config.Vcpus);
            for (int guard = 0; guard < 64 && s.Vcpus[v].Phase != VcpuPhase.InGuest; guard++)
            {
                s.Used = default;
                if (NextRunLoopStep(model, s, v) is not { } step) break;
                model.Apply(ref s, step);
            }
            if (s.Vcpus[v].Phase != VcpuPhase.InGuest) throw new InputException($"{where}: vcpu{v} cannot enter the guest");
            return;
        }
        Span<KvmStep> steps = stackalloc KvmStep[model.MaxSteps];
        int n = model.Enabled(s, steps);
        var labels = new List<string>();
        for (int i = 0; i < n; i++)
        {
            string label = model.Label(steps[i]);
            if (label == line) { model.Apply(ref s, steps[i]); return; }
            labels.Add(label);
        }
        throw new InputException($"{where}: step '{line}' is not enabled here; enabled: {(labels.Count == 0 ? "none" : string.Join("; ", labels))}");
    }

    /// <summary>The vCPU thread's next step towards the guest: KVM_RUN from userspace, then KVM's
    /// own steps in the order the model enables them (an exit or update under way, a request,
    /// the VM entry); null when KVM cannot move on by itself (e.g. a vCPU blocked in HLT).</summary>
    public static KvmStep? NextRunLoopStep(IKvmModel model, in KvmState s, int v)
    {
        if (s.Vcpus[v].Phase == VcpuPhase.Userspace) return new KvmStep(EventKind.KvmRun, Actor.Userspace, v);
        Span<KvmStep> steps = stackalloc KvmStep[model.MaxSteps];
        int n = model.Enabled(s, steps);
        for (int i = 0; i < n; i++)
            if (steps[i].Vcpu == v && steps[i].Kind is EventKind.ServiceRequest or EventKind.VmEnter
                    or EventKind.AvicIncompleteIpi or EventKind.ApicvRefresh or EventKind.Unblock)
                return steps[i];
        return null;
    }

    static int ParseVcpu(string line, string where, int vcpus)
    {
        int slash = line.IndexOf('/');
        if (line.StartsWith("vcpu") && slash > 4 && int.TryParse(line.AsSpan(4, slash - 4), out int v) && v < vcpus) return v;
        throw new InputException($"{where}: '{line}' does not name a vCPU below {vcpus}");
    }
}
