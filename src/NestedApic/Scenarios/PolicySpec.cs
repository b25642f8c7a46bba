using NestedApic.Hypervisor;

namespace NestedApic.Scenarios;

/// <summary>One switch set away from its preset's value, as a universe's [policy] table or a
/// `--policy PRESET:key=value` spec gives it.</summary>
public sealed record PolicyOverride(string Key, string Value);

/// <summary>
/// A policy as text: <c>PRESET[:switch=value,...]</c> (e.g. <c>linux-6.18:apicv-refresh=defer-pend-request</c>).
/// The effective policy's name is this canonical spec, so a report names exactly what ran and a
/// saved scenario's `policy` line gives it back.
/// </summary>
public static class PolicySpec
{
    /// <summary>The canonical spec of a preset with overrides (the preset alone when none).</summary>
    public static string Name(string preset, IReadOnlyList<PolicyOverride> overrides) =>
        overrides.Count == 0 ? preset : preset + ":" + string.Join(",", overrides.Select(o => $"{o.Key}={o.Value}"));

    /// <summary>Parses <paramref name="spec"/> for a universe of <paramref name="vendor"/> (null:
    /// either). The universe's own overrides apply first, the spec's after them, so changing only
    /// the preset keeps the universe's switches. Errors start with <paramref name="where"/>.</summary>
    public static Policy Parse(string spec, string where, CpuVendor? vendor = null, IReadOnlyList<PolicyOverride>? baseOverrides = null)
    {
        int colon = spec.IndexOf(':');
        string preset = colon < 0 ? spec : spec[..colon];
        var p = Policies.Find(preset) ?? throw new InputException(
            $"{where}: {Policies.Unknown(preset, vendor is { } v0 ? Policies.For(v0) : Policies.Presets)}");
        if (vendor is { } v && p.Vendor != v)
            throw new InputException($"{where}: policy '{preset}' describes kvm_{p.Vendor.Name()} but the universe is vendor = \"{v.Name()}\"; use one of: {string.Join(", ", Policies.For(v).Select(x => x.Name))}");
        var overrides = new List<PolicyOverride>(baseOverrides ?? []);
        if (colon >= 0)
            foreach (var item in spec[(colon + 1)..].Split(','))
            {
                int eq = item.IndexOf('=');
                if (eq <= 0 || eq == item.Length - 1)
                    throw new InputException($"{where}: '{item}' in '{spec}' is not switch=value (PRESET:switch=value,...)");
                overrides.RemoveAll(o => o.Key == item[..eq]);
                overrides.Add(new PolicyOverride(item[..eq], item[(eq + 1)..]));
            }
        return Apply(p, overrides, where);
    }

    /// <summary>Sets each override on <paramref name="preset"/>; the result is named by its spec.</summary>
    public static Policy Apply(Policy preset, IReadOnlyList<PolicyOverride> overrides, string where)
    {
        var policy = preset;
        foreach (var o in overrides)
        {
            var sw = Policies.Switches.FirstOrDefault(s => s.Key == o.Key && s.AppliesTo(preset.Vendor))
                ?? throw new InputException($"{where}: unknown policy switch '{o.Key}' for vendor {preset.Vendor.Name()}; known: {string.Join(", ", Policies.Switches.Where(s => s.AppliesTo(preset.Vendor)).Select(s => s.Key))}");
            policy = sw.Set(policy, o.Value)
                ?? throw new InputException($"{where}: '{o.Value}' is not a value of {o.Key}; use one of: {string.Join(", ", sw.Values)}");
        }
        return policy with { Name = Name(preset.Name, overrides) };
    }
}
