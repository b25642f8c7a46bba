using System.Text.RegularExpressions;
using NestedApic.Hypervisor;
using NestedApic.Hypervisor.Vmx;

namespace NestedApic.Scenarios;

/// <summary>
/// Parses scenario files: one item a line, `#` comments, includes inlined in place. Every error
/// names file, line and column and says what was expected. Whether a step is enabled is only
/// known during the replay (ScenarioRunner).
/// </summary>
public static partial class ScenarioParser
{
    /// <summary>Short forms of `vcpu N: ...` beyond the event names themselves.</summary>
    public static readonly IReadOnlyDictionary<string, string> Aliases = new Dictionary<string, string>
    {
        ["run"] = "kvm-run",
        ["exit"] = "exit-to-userspace",
        ["create"] = "create-vcpu, then publish-vcpu",
    };

    static readonly string[] Lanes = ["user", "L0", "L1", "L2"];

    /// <summary>Every event name of either vendor's model ("vmlaunch", "vmrun", ...), taken from
    /// the model's own event list, so a new event needs no edit here.</summary>
    public static IReadOnlyList<string> EventNames { get; } =
        Enum.GetValues<CpuVendor>().SelectMany(v => Enumerable.Range(0, (int)EventKind.Count).Select(i => (EventKind)i)
            .Where(k => k.AppliesTo(v)).Select(k => k.Name(v))).Distinct().ToArray();

    /// <summary>The per-vCPU field names of both vendors' models' Fields (taken from a created vCPU).</summary>
    public static IReadOnlyList<string> VcpuFields { get; } = ComputeVcpuFields();

    static string[] ComputeVcpuFields()
    {
        var s = default(KvmState);
        s.Vcpus[0].Life = VcpuLife.Visible;
        IKvmModel[] models =
        [
            KvmModels.Create(new KvmConfig { Policy = Policies.Linux70, Vcpus = 1 }, default),
            KvmModels.Create(new KvmConfig { Policy = Policies.Linux70Svm, Vendor = CpuVendor.Amd, Vcpus = 1 }, default),
            // fields shown only where a universe tracks KVM_SET_CPUID2 or the design has AMD PML
            KvmModels.Create(new KvmConfig { Policy = Policies.Linux70, Vcpus = 1, CpuidBeforeRun = true }, default),
            KvmModels.Create(new KvmConfig { Policy = Policies.AmdPmlV5, Vendor = CpuVendor.Amd, Vcpus = 1, CpuidBeforeRun = true }, default),
        ];
        return models.SelectMany(m => m.Fields(s)).Select(kv => kv.Key).Where(k => k.StartsWith("vcpu0.")).Select(k => k[6..]).Distinct().ToArray();
    }

    public static Scenario Load(string path)
    {
        var b = new Builder(path);
        b.Include(path, null);
        return b.Build();
    }

    /// <summary>Parses text as if read from <paramref name="file"/> (includes resolve next to it).</summary>
    public static Scenario Parse(string text, string file)
    {
        var b = new Builder(file);
        b.ParseText(text, file);
        return b.Build();
    }

    [GeneratedRegex(@"^vcpu(\d+|\*|\$)/(\S+):\s*(.*)$")]
    private static partial Regex LabelForm();
    [GeneratedRegex(@"^vcpu\s*(\d+|\*|\$)\s*:\s*(.*)$")]
    private static partial Regex ShortForm();

    sealed class Builder(string file)
    {
        readonly List<ScenarioItem> _items = [];
        readonly Stack<string> _including = new();
        Directive<string>? _universe, _policy;
        Directive<int>? _vcpus;
        int _lines;

        public Scenario Build() => new() { File = file, Universe = _universe, Policy = _policy, Vcpus = _vcpus, Items = _items };

        public void Include(string path, ScenarioPos? from)
        {
            string full = Path.GetFullPath(path);
            if (_including.Contains(full))
                throw new InputException($"{from}: include cycle: {string.Join(" → ", _including.Reverse().Append(full).Select(Path.GetFileName))}");
            string text;
            try { text = InputText.ReadFile(path, InputText.MaxScenarioBytes, "the scenario"); }
            catch (InputException e) when (from is not null)
            {
                throw new InputException($"{from}: cannot include '{path}': {e.Message}");
            }
            _including.Push(full);
            ParseText(text, path);
            _including.Pop();
        }

        public void ParseText(string text, string path)
        {
            if (_including.Count == 0) _including.Push(Path.GetFullPath(path));
            var lines = text.Split('\n');
            if ((_lines += lines.Length) > InputText.MaxScenarioLines)
                throw new InputException($"{path}: the scenario and its includes exceed {InputText.MaxScenarioLines:N0} lines, the most a replay may have");
            for (int i = 0; i < lines.Length; i++)
            {
                string raw = lines[i].TrimEnd('\r');
                int hash = raw.IndexOf('#');
                if (hash >= 0) raw = raw[..hash];
                string line = raw.TrimEnd();
                string trimmed = line.TrimStart();
                if (trimmed.Length == 0) continue;
                var pos = new ScenarioPos(path, i + 1, line.Length - trimmed.Length + 1);
                ParseLine(Normalize(trimmed), pos, path);
            }
        }

        static string Normalize(string s) => string.Join(' ', s.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries));

        void ParseLine(string line, ScenarioPos pos, string path)
        {
            string word = line.Split(' ')[0];
            string rest = line.Length > word.Length ? line[(word.Length + 1)..] : "";
            var restPos = pos with { Column = pos.Column + word.Length + 1 };
            switch (word)
            {
                case "include":
                    if (rest.Length == 0) throw new InputException($"{pos}: include needs a file name (relative to this file)");
                    Include(Path.Combine(Path.GetDirectoryName(path) ?? "", rest), pos);
                    return;
                case "universe": Set(ref _universe, Need(rest, pos, "a universe file or built-in name"), pos); return;
                case "policy": Set(ref _policy, Need(rest, pos, $"a preset name or '{Scenario.UniversePolicy}'"), pos); return;
                case "vcpus":
                    Set(ref _vcpus, int.TryParse(rest, out int n) && n is >= 1 and <= KvmState.MaxVcpus ? n
                        : throw new InputException($"{restPos}: vcpus needs an integer in 1..{KvmState.MaxVcpus}, got '{rest}'"), pos);
                    return;
                case "expect": _items.Add(ParseExpect(rest, pos, restPos, line)); return;
            }
            _items.Add(ParseStep(line, pos));
        }

        static string Need(string v, ScenarioPos pos, string what) =>
            v.Length > 0 ? v : throw new InputException($"{pos}: expected {what}");

        /// <summary>Directives come before the first step; a repeat must agree (shared preludes).</summary>
        void Set<T>(ref Directive<T>? slot, T value, ScenarioPos pos)
        {
            if (_items.Count > 0) throw new InputException($"{pos}: directives go before the first step or expect");
            if (slot is not null && !Equals(slot.Value, value))
                throw new InputException($"{pos}: '{value}' contradicts '{slot.Value}' given at {slot.Pos}");
            slot ??= new(value, pos);
        }

        static ScenarioItem ParseExpect(string rest, ScenarioPos pos, ScenarioPos restPos, string line)
        {
            var words = rest.Split(' ', 2);
            if (words[0] is "holds" or "violated")
            {
                var propPos = restPos with { Column = restPos.Column + words[0].Length + 1 };
                string id = words.Length > 1 ? words[1] : "";
                var p = Properties.Parse(id) ?? throw new InputException(
                    $"{propPos}: unknown property '{id}'; known: {string.Join(", ", Properties.All.Select(x => x.Id()))}");
                return new ExpectPropertyItem(pos, line, words[0] == "holds", p);
            }
            int eq = rest.IndexOf('=');
            if (eq < 0)
                throw new InputException($"{restPos}: expected 'holds PROPERTY', 'violated PROPERTY' or 'FIELD = VALUE', got '{rest}'");
            string field = rest[..eq].Trim(), value = rest[(eq + 1)..].Trim();
            CheckField(field, restPos);
            return new ExpectFieldItem(pos, line, field, value);
        }

        static void CheckField(string field, ScenarioPos pos)
        {
            if (field == "inhibits") return;
            var m = Regex.Match(field, @"^vcpu(\d+)\.(.+)$");
            if (!m.Success)
                throw new InputException($"{pos}: unknown field '{field}'; expected inhibits or vcpuN.FIELD");
            if (!VcpuFields.Contains(m.Groups[2].Value))
                throw new InputException($"{pos}: unknown field '{m.Groups[2].Value}' in '{field}'; known: {string.Join(", ", VcpuFields)}");
        }

        static StepItem ParseStep(string line, ScenarioPos pos)
        {
            string vcpu, body;
            string? lane = null;
            int bodyCol;
            if (LabelForm().Match(line) is { Success: true } m)
            {
                (vcpu, lane, body) = (m.Groups[1].Value, m.Groups[2].Value, m.Groups[3].Value);
                if (!Lanes.Contains(lane))
                    throw new InputException($"{pos with { Column = pos.Column + m.Groups[2].Index }}: unknown lane '{lane}'; expected user, L0, L1 or L2");
                bodyCol = m.Groups[3].Index;
            }
            else if (ShortForm().Match(line) is { Success: true } s)
                (vcpu, body, bodyCol) = (s.Groups[1].Value, s.Groups[2].Value, s.Groups[2].Index);
            else
                throw new InputException($"{pos}: expected a step ('vcpuN/LANE: EVENT' or 'vcpu N: EVENT'), expect, include, universe, policy or vcpus; got '{line}'");
            string ev = body.Split(' ')[0];
            bool known = EventNames.Contains(ev) || ev == Setup.EnterGuest || (lane is null && Aliases.ContainsKey(ev));
            if (!known)
                throw new InputException($"{pos with { Column = pos.Column + bodyCol }}: unknown event '{ev}'; known: {string.Join(", ", KnownEvents(lane is null))}");
            return new StepItem(pos, line, vcpu, lane, body);
        }

        static IEnumerable<string> KnownEvents(bool shortForm) =>
            EventNames.Append(Setup.EnterGuest).Concat(shortForm ? Aliases.Keys : []);
    }
}
