namespace NestedApic.Hypervisor;

/// <summary>
/// APICv inhibit reasons, with the bit numbers of enum kvm_apicv_inhibit in Linux 6.3+ (the
/// numbering of V5.19 differs only for reasons after BLOCKIRQ; the model keeps one numbering).
/// </summary>
public enum ApicvInhibit : byte
{
    Disabled = 0,
    HyperV = 1,
    Absent = 2,
    BlockIrq = 3,
    PhysicalIdAliased = 4,
    ApicIdModified = 5,
    ApicBaseModified = 6,
    Nested = 7,
    IrqWin = 8,
    PitReinj = 9,
    Sev = 10,
    LogicalIdAliased = 11,
}

public static class ApicvInhibits
{
    public static ushort Bit(this ApicvInhibit r) => (ushort)(1 << (int)r);

    /// <summary>VMX_REQUIRED_APICV_INHIBITS (vmx/main.c): reasons outside it are dropped on Intel.</summary>
    public const ushort VmxRequired =
        1 << (int)ApicvInhibit.Disabled | 1 << (int)ApicvInhibit.HyperV | 1 << (int)ApicvInhibit.Absent |
        1 << (int)ApicvInhibit.BlockIrq | 1 << (int)ApicvInhibit.PhysicalIdAliased |
        1 << (int)ApicvInhibit.ApicIdModified | 1 << (int)ApicvInhibit.ApicBaseModified;

    /// <summary>AVIC_REQUIRED_APICV_INHIBITS (svm/avic.c): VMX's set plus NESTED, IRQWIN,
    /// PIT_REINJ, SEV and LOGICAL_ID_ALIASED.</summary>
    public const ushort SvmRequired = VmxRequired |
        1 << (int)ApicvInhibit.Nested | 1 << (int)ApicvInhibit.IrqWin | 1 << (int)ApicvInhibit.PitReinj |
        1 << (int)ApicvInhibit.Sev | 1 << (int)ApicvInhibit.LogicalIdAliased;

    public static string Describe(ushort mask)
    {
        if (mask == 0) return "{}";
        var names = new List<string>();
        for (int i = 0; i < 16; i++)
            if ((mask & (1 << i)) != 0) names.Add(Enum.IsDefined(typeof(ApicvInhibit), (byte)i) ? ((ApicvInhibit)i).ToString().ToUpperInvariant() : $"bit{i}");
        return "{" + string.Join(",", names) + "}";
    }
}
