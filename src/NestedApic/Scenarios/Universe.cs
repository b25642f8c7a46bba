using NestedApic.Hardware.Vmx;
using NestedApic.Hypervisor;
using NestedApic.Hypervisor.Svm;
using NestedApic.Hypervisor.Vmx;
using NestedApic.Scenarios.Toml;

namespace NestedApic.Scenarios;

/// <summary>
/// A universe: everything a check needs besides the policy choice — host, vmcs12s, which events
/// may happen how often, the setup that builds the initial state, the bound and the expected
/// verdict per preset. Loaded from TOML; every error names file, line and key.
/// </summary>
public sealed partial record Universe
{
    public required string Name { get; init; }
    public required string File { get; init; }
    public string Description { get; init; } = "";
    public required KvmConfig Config { get; init; }
    /// <summary>Steps, as trace labels, applied before exploration (not counted in budgets).</summary>
    public IReadOnlyList<(string Step, int Line)> Setup { get; init; } = [];
    public int Depth { get; init; } = 40;
    /// <summary>Expected verdict ("holds" or a property id) per policy name, or per "policy@vcpus"
    /// where the vCPU count changes the shortest story; "*" for any policy.</summary>
    public IReadOnlyDictionary<string, string> Expect { get; init; } = new Dictionary<string, string>();
    /// <summary>vCPU counts the built-in suite runs this universe with.</summary>
    public IReadOnlyList<int> SuiteVcpus { get; init; } = [1, 2];
    /// <summary>The switches the [policy] table sets on its preset: kept when `--policy` changes only the preset.</summary>
    public IReadOnlyList<PolicyOverride> PolicyOverrides { get; init; } = [];

    /// <summary>The policy a `--policy` spec names for this universe: the spec's preset with this
    /// universe's overrides, then the spec's own (PolicySpec).</summary>
    public Policy PolicyFor(string spec, string where = "--policy") =>
        PolicySpec.Parse(spec, where, Config.Vendor, PolicyOverrides);

    public string? ExpectationFor(string policy, int vcpus) =>
        Expect.TryGetValue($"{policy}@{vcpus}", out var exact) ? exact
        : Expect.TryGetValue(policy, out var e) ? e
        : Expect.TryGetValue("*", out var any) ? any : null;

    public static Universe Load(string path)
    {
        return Parse(InputText.ReadFile(path, InputText.MaxUniverseBytes, "the universe"), path);
    }

    public static Universe Parse(string text, string file)
    {
        var root = Toml.Toml.Parse(text, file);
        root.RejectUnknownKeys("name", "description", "vendor", "vcpus", "depth", "policy", "host", "vmcs12", "vmcb12", "vectors", "cr8-values", "events", "setup", "expect", "suite-vcpus", "properties", "lapic-state", "cpuid-before-run");
        string vendorName = root.GetStringOrNull("vendor") ?? "intel";
        var vendor = vendorName switch
        {
            "intel" => CpuVendor.Intel,
            "amd" => CpuVendor.Amd,
            _ => throw root["vendor"].Error($"unknown vendor '{vendorName}'; known: intel, amd"),
        };
        bool amd = vendor == CpuVendor.Amd;

        var overrides = new List<PolicyOverride>();
        var policy = ParsePolicy(root.GetTableOrNull("policy"), root, vendor, overrides);
        var host = root.GetTableOrNull("host");
        if (amd) host?.RejectUnknownKeys("enable-apicv", "x2avic", "nested");
        else host?.RejectUnknownKeys("enable-apicv", "flexpriority", "x2apic-virtualization", "ipi-virtualization");

        var vmcs12s = new List<Vmcs12>();
        var vmcb12s = new List<Vmcb12>();
        if (amd && root.TryGet("vmcs12", out var wrong12)) throw wrong12.Error("an AMD universe describes L2 with [[vmcb12]], not [[vmcs12]]");
        if (!amd && root.TryGet("vmcb12", out var wrongB)) throw wrongB.Error("an Intel universe describes L2 with [[vmcs12]], not [[vmcb12]]");
        var names = new HashSet<string>();
        if (root.GetArrayOrNull("vmcs12") is { } arr)
            foreach (var item in arr.Items) vmcs12s.Add(ParseVmcs12(item) with { Name = L2Name(item, "vmcs12", names) });
        if (root.GetArrayOrNull("vmcb12") is { } barr)
            foreach (var item in barr.Items) vmcb12s.Add(SvmUniverse.ParseVmcb12(item) with { Name = L2Name(item, "vmcb12", names) });

        var lapicStates = new List<LapicSave>();
        if (root.GetArrayOrNull("lapic-state") is { } la)
            foreach (var item in la.Items) lapicStates.Add(LapicSaveToml.Parse(item));

        var vectors = new List<byte>();
        if (root.GetArrayOrNull("vectors") is { } va)
            foreach (var item in va.Items)
            {
                if (item is not TomlInteger { Value: >= 16 and <= 255 } vi) throw item.Error("a vector must be an integer in 16..255");
                vectors.Add((byte)vi.Value);
            }
        if (vectors.Count == 0) vectors.Add(0xE0);

        var cr8 = new List<byte>();
        if (root.GetArrayOrNull("cr8-values") is { } ca)
            foreach (var item in ca.Items)
            {
                if (item is not TomlInteger { Value: >= 0 and <= 15 } ci) throw item.Error("a CR8 value must be an integer in 0..15 (a TPR priority class)");
                if (!cr8.Contains((byte)ci.Value)) cr8.Add((byte)ci.Value);
            }
        if (cr8.Count == 0) cr8.AddRange([0x0, 0xF]);

        var budget = new byte[(int)EventKind.Count];
        if (root.GetTableOrNull("events") is { } ev)
            foreach (var key in ev.Keys)
            {
                var kind = KvmEvents.Parse(key, vendor);
                if (kind is null || !kind.Value.IsBounded())
                    throw ev[key].Error($"unknown event '{key}' for vendor {vendorName}; known: {string.Join(", ", KvmEvents.BoundedOn(vendor).Select(k => k.Name(vendor)))}");
                budget[(int)kind.Value] = (byte)ev.GetInteger(key, 0, 16);
            }

        uint checkedProps = uint.MaxValue;
        if (root.GetArrayOrNull("properties") is { } pa)
        {
            checkedProps = 0;
            foreach (var item in pa.Items)
                checkedProps |= item is TomlString ps && Properties.Parse(ps.Value) is { } prop && prop.AppliesTo(vendor) ? 1u << (int)prop
                    : throw item.Error($"unknown property for vendor {vendorName}; known: {string.Join(", ", Properties.All.Where(p => p.AppliesTo(vendor)).Select(p => p.Id()))}");
        }

        var config = new KvmConfig
        {
            CheckedProperties = checkedProps,
            Policy = policy,
            Vcpus = (int)root.GetIntegerOr("vcpus", 2, 1, KvmState.MaxVcpus),
            EnableApicv = host?.GetBooleanOr("enable-apicv", true) ?? true,
            Flexpriority = !amd && (host?.GetBooleanOr("flexpriority", true) ?? true),
            X2ApicVirtualization = host?.GetBooleanOr(amd ? "x2avic" : "x2apic-virtualization", true) ?? true,
            NestedSvm = !amd || (host?.GetBooleanOr("nested", true) ?? true),
            IpiVirtualization = !amd && (host?.GetBooleanOr("ipi-virtualization", false) ?? false),
            Vendor = vendor,
            Vmcs12s = vmcs12s,
            Vmcb12s = vmcb12s,
            Vectors = vectors,
            Cr8Values = cr8,
            LapicStates = lapicStates,
            Budget = budget,
            CpuidBeforeRun = root.GetBooleanOr("cpuid-before-run", false),
        };

        var setup = new List<(string, int)>();
        if (root.GetArrayOrNull("setup") is { } sa)
            foreach (var item in sa.Items)
                setup.Add(item is TomlString ss ? (ss.Value, item.Line) : throw item.Error("a setup step must be a string such as \"vcpu0/user: create-vcpu\""));

        var expect = new Dictionary<string, string>();
        if (root.TryGet("expect", out var ex))
        {
            if (ex is TomlString one) expect["*"] = CheckExpectation(one, one.Value);
            else if (ex is TomlTable t)
                foreach (var key in t.Keys)
                {
                    string preset = key.Split('@')[0];
                    if (key != "*" && Policies.Retired.ContainsKey(preset))
                        throw t[key].Error(Policies.Unknown(preset));
                    if (key != "*" && Policies.For(vendor).All(p => p.Name != preset))
                        throw t[key].Error($"unknown preset '{preset}' for vendor {vendorName}; known: {string.Join(", ", Policies.For(vendor).Select(p => p.Name))}");
                    if (key.Contains('@') && !(int.TryParse(key.Split('@')[1], out int n) && n is >= 1 and <= KvmState.MaxVcpus))
                        throw t[key].Error($"'{key}': the vCPU count after @ must be in 1..{KvmState.MaxVcpus}");
                    expect[key] = CheckExpectation(t[key], t.GetString(key));
                }
            else throw ex.Error("expect must be a string or a table of preset = verdict");
        }

        var suite = new List<int>();
        if (root.GetArrayOrNull("suite-vcpus") is { } sv)
            foreach (var item in sv.Items)
                suite.Add(item is TomlInteger { Value: >= 1 and <= KvmState.MaxVcpus } n ? (int)n.Value : throw item.Error($"a vCPU count must be in 1..{KvmState.MaxVcpus}"));

        return new Universe
        {
            Name = root.GetStringOrNull("name") ?? Path.GetFileNameWithoutExtension(file),
            File = file,
            Description = root.GetStringOrNull("description") ?? "",
            Config = config,
            Setup = setup,
            Depth = (int)root.GetIntegerOr("depth", 40, 1, 1000),
            Expect = expect,
            SuiteVcpus = suite.Count > 0 ? suite : [config.Vcpus],
            PolicyOverrides = overrides,
        };
    }

    /// <summary>The longest vmcs12/vmcb12 name.</summary>
    public const int MaxL2NameLength = 40;

    [System.Text.RegularExpressions.GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_.-]*$")]
    private static partial System.Text.RegularExpressions.Regex L2NamePattern();

    /// <summary>A vmcs12/vmcb12 name appears in trace labels and saved scenarios, so it is an
    /// identifier (letters, digits, '-', '_', '.'; a letter or digit first; at most 40) and unique.</summary>
    static string L2Name(TomlValue item, string kind, HashSet<string> seen)
    {
        var t = (TomlTable)item;
        string name = t.GetString("name");
        var at = t["name"];
        if (name.Length > MaxL2NameLength || !L2NamePattern().IsMatch(name))
            throw at.Error($"a {kind} name must be 1..{MaxL2NameLength} letters, digits, '-', '_' or '.', starting with a letter or digit; got {Quote(name)}");
        if (!seen.Add(name)) throw at.Error($"{kind} name '{name}' is given twice; each [[{kind}]] needs its own name");
        return name;
    }

    static string Quote(string s) => System.Text.Json.JsonSerializer.Serialize(s);

    static string CheckExpectation(TomlValue at, string v) =>
        v == "holds" || Properties.Parse(v) is not null ? v
            : throw at.Error($"unknown expectation '{v}'; use holds or one of: {string.Join(", ", Properties.All.Select(p => p.Id()))}");

    static Policy ParsePolicy(TomlTable? t, TomlTable root, CpuVendor vendor, List<PolicyOverride> overrides)
    {
        var fallback = vendor == CpuVendor.Amd ? Policies.Linux70Svm : Policies.Linux70;
        if (t is null) return fallback;
        string preset = t.GetStringOrNull("preset") ?? fallback.Name;
        var at = t.TryGet("preset", out var pv) ? pv : root;
        var policy = Policies.Find(preset) ?? throw at.Error(
            Policies.Unknown(preset, Policies.For(vendor)));
        if (policy.Vendor != vendor)
            throw at.Error($"policy '{preset}' describes kvm_{policy.Vendor.Name()} but vendor = \"{vendor.Name()}\"; use one of: {string.Join(", ", Policies.For(vendor).Select(p => p.Name))}");
        foreach (var key in t.Keys)
        {
            if (key == "preset") continue;
            var sw = Policies.Switches.FirstOrDefault(s => s.Key == key && s.AppliesTo(vendor))
                ?? throw t[key].Error($"unknown policy switch '{key}' for vendor {vendor.Name()}; known: {string.Join(", ", Policies.Switches.Where(s => s.AppliesTo(vendor)).Select(s => s.Key))}");
            string value = t[key] switch
            {
                TomlBoolean b => b.Value ? "true" : "false",
                TomlString s => s.Value,
                TomlInteger i => $"0x{i.Value:x2}",
                var other => throw other.Error("a switch value must be a string, boolean or integer"),
            };
            policy = sw.Set(policy, value) ?? throw t[key].Error($"'{value}' is not a value of {key}; use one of: {string.Join(", ", sw.Values)}");
            overrides.Add(new PolicyOverride(key, value));
        }
        return policy with { Name = PolicySpec.Name(preset, overrides) };
    }

    static Vmcs12 ParseVmcs12(TomlValue item)
    {
        if (item is not TomlTable t) throw item.Error("each [[vmcs12]] must be a table");
        t.RejectUnknownKeys("name", "pin", "primary", "secondary", "exit", "tpr-threshold", "posted-intr-nv", "apic-passthrough", "guest-if");
        return new Vmcs12
        {
            Name = t.GetString("name"),
            Pin = (uint)t.GetIntegerOr("pin", PinBasedControls.ExternalInterruptExiting, 0, uint.MaxValue),
            Primary = (uint)t.GetIntegerOr("primary", 0, 0, uint.MaxValue),
            Secondary = (uint)t.GetIntegerOr("secondary", 0, 0, uint.MaxValue),
            Exit = (uint)t.GetIntegerOr("exit", ExitControls.AcknowledgeInterruptOnExit, 0, uint.MaxValue),
            TprThreshold = (uint)t.GetIntegerOr("tpr-threshold", 0, 0, uint.MaxValue),
            PostedIntrNv = (ushort)t.GetIntegerOr("posted-intr-nv", 0, 0, 0xFFFF),
            ApicPassthrough = t.GetBooleanOr("apic-passthrough", false),
            GuestIf = t.GetBooleanOr("guest-if", true),
        };
    }
}
