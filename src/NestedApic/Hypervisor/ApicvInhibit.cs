namespace NestedApic.Hypervisor;

/// <summary>
/// Every APICv inhibit reason of a modelled release, with the bit numbers of enum
/// kvm_apicv_inhibit in Linux 6.3+. Releases before 6.3 number them differently (5.17:
/// DISABLE 0, HYPERV 1, NESTED 2, IRQWIN 3, PIT_REINJ 4, X2APIC 5, BLOCKIRQ 6, ABSENT 7); the model
/// keeps one numbering, and gives X2APIC, which 6.3+ no longer has, a bit of its own.
/// </summary>
public enum ApicvInhibit : byte
{
    /// <summary>DISABLE(D): enable_apicv / avic off, set for the VM's life by kvm_apicv_init (5.17 and earlier).</summary>
    Disabled = 0,
    /// <summary>HYPERV: SynIC AutoEOI in use (5.17 and earlier).</summary>
    HyperV = 1,
    /// <summary>ABSENT: no in-kernel local APIC yet (5.16).</summary>
    Absent = 2,
    /// <summary>BLOCKIRQ: KVM_GUESTDBG_BLOCKIRQ (5.16).</summary>
    BlockIrq = 3,
    /// <summary>PHYSICAL_ID_ALIASED: two vCPUs share an x2APIC/xAPIC ID (6.3).</summary>
    PhysicalIdAliased = 4,
    /// <summary>APIC_ID_MODIFIED: a guest changed its xAPIC ID (3743c2f02517, 5.19).</summary>
    ApicIdModified = 5,
    /// <summary>APIC_BASE_MODIFIED: a guest relocated its APIC base (3743c2f02517, 5.19).</summary>
    ApicBaseModified = 6,
    /// <summary>NESTED (AVIC): VM-wide before f44509f849fe (5.19), per-vCPU since.</summary>
    Nested = 7,
    /// <summary>IRQWIN (AVIC): KVM waits for an interrupt window with V_IRQ (5.17 and earlier).</summary>
    IrqWin = 8,
    /// <summary>PIT_REINJ (AVIC): PIT re-inject mode needs the EOI intercept (5.17 and earlier).</summary>
    PitReinj = 9,
    /// <summary>SEV (AVIC): SEV guests (5.19).</summary>
    Sev = 10,
    /// <summary>LOGICAL_ID_ALIASED (AVIC): a logical ID maps to more than one vCPU (6.3).</summary>
    LogicalIdAliased = 11,
    /// <summary>PHYSICAL_ID_TOO_BIG (AVIC): a vCPU ID above what AVIC/x2AVIC can address
    /// (1aa6e256e46f, 6.17; before it KVM_CREATE_VCPU failed). No modelled event sets it.</summary>
    PhysicalIdTooBig = 12,
    /// <summary>X2APIC (AVIC without x2AVIC): the guest's CPUID has x2APIC (5.17 bit 5; not
    /// in the 6.3 enum). No modelled event sets it.</summary>
    X2Apic = 13,
}

public static class ApicvInhibits
{
    public static ushort Bit(this ApicvInhibit r) => (ushort)(1 << (int)r);

    /// <summary>VMX_REQUIRED_APICV_INHIBITS (vmx/main.c): reasons outside it are dropped on Intel.</summary>
    public const ushort VmxRequired =
        1 << (int)ApicvInhibit.Disabled | 1 << (int)ApicvInhibit.HyperV | 1 << (int)ApicvInhibit.Absent |
        1 << (int)ApicvInhibit.BlockIrq | 1 << (int)ApicvInhibit.PhysicalIdAliased |
        1 << (int)ApicvInhibit.ApicIdModified | 1 << (int)ApicvInhibit.ApicBaseModified;

    /// <summary>AVIC_REQUIRED_APICV_INHIBITS (svm/avic.c, 7.0): VMX's set plus NESTED, IRQWIN,
    /// PIT_REINJ, SEV, LOGICAL_ID_ALIASED and PHYSICAL_ID_TOO_BIG.</summary>
    public const ushort SvmRequired = VmxRequired |
        1 << (int)ApicvInhibit.Nested | 1 << (int)ApicvInhibit.IrqWin | 1 << (int)ApicvInhibit.PitReinj |
        1 << (int)ApicvInhibit.Sev | 1 << (int)ApicvInhibit.LogicalIdAliased | 1 << (int)ApicvInhibit.PhysicalIdTooBig;

    /// <summary>The name after APICV_INHIBIT_REASON_ in the kernel.</summary>
    public static string KvmName(this ApicvInhibit r) => r switch
    {
        ApicvInhibit.HyperV => "HYPERV",
        ApicvInhibit.BlockIrq => "BLOCKIRQ",
        ApicvInhibit.IrqWin => "IRQWIN",
        ApicvInhibit.X2Apic => "X2APIC",
        _ => string.Concat(r.ToString().Select((ch, i) => i > 0 && char.IsUpper(ch) ? "_" + ch : ch.ToString())).ToUpperInvariant(),
    };

    public static string Describe(ushort mask)
    {
        if (mask == 0) return "{}";
        var names = new List<string>();
        for (int i = 0; i < 16; i++)
            if ((mask & (1 << i)) != 0) names.Add(Enum.IsDefined(typeof(ApicvInhibit), (byte)i) ? ((ApicvInhibit)i).KvmName() : $"bit{i}");
        return "{" + string.Join(",", names) + "}";
    }
}
