namespace NestedApic.Hardware.Svm;

/// <summary>
/// The VMRUN consistency checks on control fields that this layer models (APM vol. 2 §15.5.1
/// "Canonicalization and Consistency Checks", §15.21.10 vNMI, §15.29 AVIC). Every failure is a
/// #VMEXIT with exit code VMEXIT_INVALID. Declaration order is the check order.
/// </summary>
public enum VmrunRule : byte
{
    None = 0,
    /// <summary>§15.5.1: "The VMRUN intercept bit is clear" is illegal.</summary>
    VmrunIntercept,
    /// <summary>§15.5.1: ASID 0 is the host's and illegal for a guest.</summary>
    AsidNonzero,
    /// <summary>§15.5.1: the MSR permission map must not extend to or past the top of the physical address space.</summary>
    MsrpmAddr,
    /// <summary>§15.5.1: the same for the I/O permission map.</summary>
    IopmAddr,
    /// <summary>§15.21.10: V_NMI_ENABLE requires the NMI intercept.</summary>
    VnmiRequiresNmiIntercept,
    /// <summary>§15.29.1 (x2AVIC): int_ctl bit 30 requires bit 31.</summary>
    X2AvicRequiresAvic,
    /// <summary>§15.29.3.1: MAX_INDEX at most 255 (xAVIC), 511 (x2AVIC) or 4095 (x2AVIC_EXT).</summary>
    AvicPhysicalMaxIndex,
    /// <summary>§15.29.3: with AVIC on, the backing-page pointer must be 4-KiB aligned and a legal address.</summary>
    AvicBackingPageAddr,
    /// <summary>§15.29.3: with AVIC on, the physical-table pointer must be a legal address.</summary>
    AvicPhysicalTableAddr,
    /// <summary>§15.29.3: with xAVIC on, the logical-table pointer must be 4-KiB aligned and a legal address.</summary>
    AvicLogicalTableAddr,
}

/// <summary>Stable string ids of the rules, as the conformance file's <c>rule</c> field spells them.</summary>
public static class VmrunRuleIds
{
    /// <summary>Tags a case that probes no rule: the test suite's baseline VMCB.</summary>
    public const string Baseline = "svm-baseline";

    public static string? Id(this VmrunRule rule) => rule switch
    {
        VmrunRule.None => null,
        VmrunRule.VmrunIntercept => "svm-vmrun-intercept",
        VmrunRule.AsidNonzero => "svm-asid-nonzero",
        VmrunRule.MsrpmAddr => "svm-msrpm-addr",
        VmrunRule.IopmAddr => "svm-iopm-addr",
        VmrunRule.VnmiRequiresNmiIntercept => "svm-vnmi-requires-nmi-intercept",
        VmrunRule.X2AvicRequiresAvic => "svm-x2avic-requires-avic",
        VmrunRule.AvicPhysicalMaxIndex => "svm-avic-physical-max-index",
        VmrunRule.AvicBackingPageAddr => "svm-avic-backing-page-addr",
        VmrunRule.AvicPhysicalTableAddr => "svm-avic-physical-table-addr",
        VmrunRule.AvicLogicalTableAddr => "svm-avic-logical-table-addr",
        _ => throw new ArgumentOutOfRangeException(nameof(rule)),
    };

    /// <summary>Parses an id back to its rule; false for unknown ids and for <see cref="Baseline"/>.</summary>
    public static bool TryParse(string id, out VmrunRule rule)
    {
        for (var r = VmrunRule.VmrunIntercept; r <= VmrunRule.AvicLogicalTableAddr; r++)
        {
            if (r.Id() == id) { rule = r; return true; }
        }
        rule = VmrunRule.None;
        return false;
    }
}
