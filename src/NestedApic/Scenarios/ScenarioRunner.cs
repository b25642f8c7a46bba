using NestedApic.Hypervisor;

namespace NestedApic.Scenarios;

/// <summary>One model event a scenario step caused, with the fields it changed.</summary>
public sealed record ScenarioEvent(int Index, string Label, Actor Actor, int Vcpu, IReadOnlyList<string> Changes);

/// <summary>What the replay reports, in file order.</summary>
public abstract record ScenarioEntry;
public sealed record StepEntry(StepItem Item, IReadOnlyList<ScenarioEvent> Events) : ScenarioEntry;
public sealed record ExpectEntry(ScenarioItem Item, bool Ok, string Detail) : ScenarioEntry;
/// <summary>A checked property broke at an event and no `expect violated` for it followed the step.</summary>
public sealed record UnexpectedEntry(int EventIndex, Property Property, int Vcpu, string Explanation) : ScenarioEntry;

public sealed record ScenarioResult
{
    public required Scenario Scenario { get; init; }
    public required Universe Universe { get; init; }
    public required Policy Policy { get; init; }
    public required int Vcpus { get; init; }
    public required IReadOnlyList<ScenarioEntry> Entries { get; init; }
    /// <summary>The first expectation that did not hold (the replay stopped there), or null.</summary>
    public ExpectEntry? Failed { get; init; }
    public required KvmState Final { get; init; }
    public bool Passed => Failed is null;
}

/// <summary>
/// Replays a scenario deterministically. Budgets do not apply (a replay, not an exploration):
/// the model runs with every budget at 255 and the use counts are cleared before each step, so
/// an event may happen any number of times, as in Setup.
/// </summary>
public static class ScenarioRunner
{
    /// <summary>Replays <paramref name="sc"/>. The universe is <paramref name="universe"/> if given,
    /// else the scenario's (resolved by <paramref name="builtin"/> when not a file), else the
    /// minimal one; likewise the policy and the vCPU count.</summary>
    public static ScenarioResult Run(Scenario sc, Func<string, Universe> builtin, Policy? policy = null,
        Universe? universe = null, int? vcpus = null, Action<ScenarioEntry>? onEntry = null,
        Action<Universe, Policy, int>? onStart = null)
    {
        var u = universe ?? ResolveUniverse(sc, builtin);
        var p = policy ?? ResolvePolicy(sc, u);
        if (policy is not null) UniverseCheck.CheckVendor(u, p);
        int n = vcpus ?? sc.Vcpus?.Value ?? u.Config.Vcpus;
        onStart?.Invoke(u, p, n);
        var config = u.Config with { Policy = p, Vcpus = n, Budget = Enumerable.Repeat((byte)255, (int)EventKind.Count).ToArray() };
        var replay = new Replay(KvmModels.Create(config, default), onEntry);
        ExpectEntry? failed = null;
        foreach (var item in sc.Items)
        {
            if (item is StepItem step) replay.Step(step);
            else if ((failed = replay.Expect(item)) is not null) break;
        }
        replay.Flush();
        var final = replay.State;
        final.Used = default;
        return new ScenarioResult { Scenario = sc, Universe = u, Policy = p, Vcpus = n, Entries = replay.Entries, Failed = failed, Final = final };
    }

    /// <summary>The scenario's universe: its `universe` line (a file next to the scenario, or a
    /// built-in name), else the minimal one.</summary>
    public static Universe ResolveUniverse(Scenario sc, Func<string, Universe> builtin)
    {
        if (sc.Universe is not { } d) return Scenario.Minimal;
        string path = Path.Combine(Path.GetDirectoryName(d.Pos.File) ?? "", d.Value);
        try
        {
            return File.Exists(path) || d.Value.EndsWith(".toml") ? Universe.Load(path) : builtin(d.Value);
        }
        catch (Exception e) when (e is InputException or Toml.TomlException) { throw new InputException($"{d.Pos}: universe '{d.Value}': {e.Message}"); }
    }

    static Policy ResolvePolicy(Scenario sc, Universe u)
    {
        bool amd = u.Config.Vendor == CpuVendor.Amd;
        string name = sc.Policy?.Value ?? (amd ? Policies.Linux70Svm.Name : Scenario.DefaultPolicy);
        if (name == Scenario.UniversePolicy) return u.Config.Policy;
        var preset = Policies.Find(name.Split(':')[0]);
        if (preset is null)
            throw new InputException(
                $"{sc.Policy!.Pos}: {Policies.Unknown(name.Split(':')[0], Policies.For(u.Config.Vendor))}{(Policies.Retired.ContainsKey(name.Split(':')[0]) ? "" : ", " + Scenario.UniversePolicy)}");
        if (preset.Vendor != u.Config.Vendor)
            throw new InputException($"{sc.Policy!.Pos}: policy '{name}' describes kvm_{preset.Vendor.Name()} but universe '{u.Name}' is vendor = \"{u.Config.Vendor.Name()}\"; use one of: {string.Join(", ", Policies.For(u.Config.Vendor).Select(x => x.Name))}");
        return PolicySpec.Parse(name, sc.Policy?.Pos.ToString() ?? sc.File, u.Config.Vendor, u.PolicyOverrides);
    }

    /// <summary>The replay's state: the model, the current state, and the properties broken so far.</summary>
    sealed class Replay(IKvmModel model, Action<ScenarioEntry>? onEntry)
    {
        public KvmState State;
        public readonly List<ScenarioEntry> Entries = [];
        readonly HashSet<Property> _broken = [];
        // Broke since the last step; reported at the next step unless an `expect violated` claims it.
        readonly List<UnexpectedEntry> _pending = [];
        int _events;

        void Emit(ScenarioEntry e) { Entries.Add(e); onEntry?.Invoke(e); }

        public void Flush()
        {
            foreach (var e in _pending) Emit(e);
            _pending.Clear();
        }

        public void Step(StepItem item)
        {
            Flush();
            var events = new List<ScenarioEvent>();
            foreach (int v in Vcpus(item))
                foreach (var label in Targets(item, v))
                {
                    if (label == Setup.EnterGuest) EnterGuest(item, v, events);
                    else Apply(item, v, label, events);
                }
            Emit(new StepEntry(item, events));
        }

        IEnumerable<int> Vcpus(StepItem item)
        {
            int n = model.Config.Vcpus;
            if (item.Vcpu == "*") return Enumerable.Range(0, n);
            if (item.Vcpu == "$") return [n - 1];
            return int.TryParse(item.Vcpu, out int v) && v < n ? [v]
                : throw new InputException($"{item.Pos}: vcpu{item.Vcpu} does not exist; this replay has {n} vCPU{(n == 1 ? "" : "s")}");
        }

        /// <summary>What the step stands for on vCPU v: label bodies, or the enter-guest pseudo-step.</summary>
        static IEnumerable<string> Targets(StepItem item, int v)
        {
            if (item.Body == Setup.EnterGuest && item.Lane is null or "L0") return [Setup.EnterGuest];
            if (item.Lane is not null) return [$"vcpu{v}/{item.Lane}: {item.Body}"];
            return item.Body switch
            {
                "run" => ["kvm-run"],
                "exit" => ["exit-to-userspace"],
                "create" => ["create-vcpu", "publish-vcpu"],
                _ => [item.Body],
            };
        }

        void Apply(StepItem item, int v, string target, List<ScenarioEvent> events)
        {
            // A replay is not bounded: the use counts the universe's [events] caps are forgotten.
            State.Used = default;
            Span<KvmStep> steps = stackalloc KvmStep[model.MaxSteps];
            int n = model.Enabled(State, steps);
            var labels = new List<string>();
            KvmStep? match = null;
            for (int i = 0; i < n; i++)
            {
                string label = model.Label(steps[i]);
                labels.Add(label);
                bool hit = item.Lane is not null ? label == target : steps[i].Vcpu == v && label[(label.IndexOf(": ") + 2)..] == target;
                if (hit) match = steps[i];
            }
            if (match is not { } step)
                throw new InputException($"{item.Pos}: step '{item.Text}' is not enabled here{(item.Lane is null ? $" ('{target}' on vcpu{v})" : "")}; enabled: {(labels.Count == 0 ? "none" : string.Join("; ", labels))}");
            Do(step, events);
        }

        /// <summary>KVM runs the vCPU's loop (KVM_RUN, requests, VM entry) until it is in the guest.</summary>
        void EnterGuest(StepItem item, int v, List<ScenarioEvent> events)
        {
            if (State.Vcpus[v].Life != VcpuLife.Visible)
                throw new InputException($"{item.Pos}: vcpu{v} cannot enter the guest: it is {State.Vcpus[v].Life}, not created and published");
            for (int guard = 0; guard < 64 && State.Vcpus[v].Phase != VcpuPhase.InGuest; guard++)
            {
                State.Used = default;
                if (Setup.NextRunLoopStep(model, State, v) is not { } step) break;
                Do(step, events);
            }
            if (State.Vcpus[v].Phase != VcpuPhase.InGuest) throw new InputException($"{item.Pos}: vcpu{v} cannot enter the guest");
        }

        void Do(KvmStep step, List<ScenarioEvent> events)
        {
            var before = State;
            string label = model.Label(step);
            model.Apply(ref State, step);
            events.Add(new ScenarioEvent(++_events, label, step.Actor, step.Vcpu, StepOutcome.WithOutcome(model.Config, step, model.Diff(before, State))));
            foreach (var p in Properties.All)
            {
                int v = model.VcpuOf(State, p);
                if (v < 0) { _broken.Remove(p); continue; }
                if (!_broken.Add(p) || (model.Config.CheckedProperties & (1u << (int)p)) == 0) continue;
                _pending.RemoveAll(e => e.Property == p);
                _pending.Add(new UnexpectedEntry(_events, p, v, model.Explain((int)p, State)));
            }
        }

        /// <summary>Checks one expectation; returns it when it failed.</summary>
        public ExpectEntry? Expect(ScenarioItem item)
        {
            var entry = item switch
            {
                ExpectPropertyItem e => CheckProperty(e),
                ExpectFieldItem f => CheckField(f),
                _ => throw new InvalidOperationException(item.GetType().Name),
            };
            // `expect violated P` claims P's break; a failed `expect holds P` reports it itself.
            if (item is ExpectPropertyItem claimed && (!claimed.Holds || !entry.Ok)) _pending.RemoveAll(x => x.Property == claimed.Property);
            Emit(entry);
            return entry.Ok ? null : entry;
        }

        ExpectEntry CheckProperty(ExpectPropertyItem e)
        {
            bool broken = model.VcpuOf(State, e.Property) >= 0;
            string detail = broken ? model.Explain((int)e.Property, State) : $"{e.Property.Id()} holds";
            return new ExpectEntry(e, broken != e.Holds, detail);
        }

        ExpectEntry CheckField(ExpectFieldItem f)
        {
            int v = -1;
            if (f.Field.StartsWith("vcpu") && (!int.TryParse(f.Field.AsSpan(4, f.Field.IndexOf('.') - 4), out v) || v >= model.Config.Vcpus))
                throw new InputException($"{f.Pos}: {f.Field}: vcpu{f.Field[4..f.Field.IndexOf('.')]} does not exist; this replay has {model.Config.Vcpus} vCPUs");
            var fields = model.Fields(State).ToDictionary(kv => kv.Key, kv => kv.Value);
            if (!fields.TryGetValue(f.Field, out var actual))
                return new ExpectEntry(f, false, $"{f.Field} has no value: vcpu{v} is {State.Vcpus[v].Life}");
            return new ExpectEntry(f, Same(actual, f.Value), $"{f.Field} = {actual}");
        }

        static bool Same(string a, string b) =>
            string.Join(' ', a.Split(' ', StringSplitOptions.RemoveEmptyEntries)) == string.Join(' ', b.Split(' ', StringSplitOptions.RemoveEmptyEntries));
    }
}
