using NestedApic.Hardware.Apic;
using NestedApic.Hypervisor;
using NestedApic.Scenarios.Toml;

namespace NestedApic.Scenarios;

/// <summary>The [[lapic-state]] tables of a universe: saved APICs that `set-lapic NAME` restores.</summary>
public static class LapicSaveToml
{
    public static LapicSave Parse(TomlValue item)
    {
        if (item is not TomlTable t) throw item.Error("each [[lapic-state]] must be a table");
        t.RejectUnknownKeys("name", "mode", "irr", "isr", "tpr", "apic-id-modified");
        string mode = t.GetStringOrNull("mode") ?? "xapic";
        return new LapicSave
        {
            Name = t.GetString("name"),
            Mode = mode switch
            {
                "xapic" => ApicMode.XApic,
                "x2apic" => ApicMode.X2Apic,
                "disabled" => ApicMode.Disabled,
                _ => throw t["mode"].Error("mode must be \"xapic\", \"x2apic\" or \"disabled\""),
            },
            Irr = Vectors(t, "irr"),
            Isr = Vectors(t, "isr"),
            Tpr = (byte)t.GetIntegerOr("tpr", 0, 0, 0xFF),
            ApicIdModified = t.GetBooleanOr("apic-id-modified", false),
        };
    }

    static VectorSet Vectors(TomlTable t, string key)
    {
        var set = new VectorSet();
        if (t.GetArrayOrNull(key) is { } arr)
            foreach (var item in arr.Items)
                set.Set(item is TomlInteger { Value: >= 16 and <= 255 } i ? (byte)i.Value : throw item.Error($"{key}: a vector must be an integer in 16..255"));
        return set;
    }
}
