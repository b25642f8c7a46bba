namespace NestedApic.Hardware.Vmx;

/// <summary>
/// The VM-entry checks on APIC-virtualization controls (SDM vol. 3C 26.2.1.1 "VM-Execution
/// Control Fields"). Every violation makes VMLAUNCH/VMRESUME fail with VMfailValid and
/// VM-instruction error 7 (<see cref="VmInstructionError.EntryInvalidControlFields"/>).
/// R1..R11 are this project's labels for the SDM conditions (the `rule` ids of
/// tests/data/conformance/vmentry-vectors.jsonl). Declaration order is KVM's check order
/// (nested_check_vm_execution_controls, then the late VTPR check); the value is the bit in <see cref="VmEntryViolations"/>.
/// </summary>
public enum VmEntryRule : byte
{
    /// <summary>No rule violated: the control checks pass.</summary>
    None = 0,

    /// <summary>R1. With "use TPR shadow" on, the virtual-APIC address must be 4-KiB aligned
    /// and must not set any bit at or above MAXPHYADDR.</summary>
    VapicAddrValid,

    /// <summary>R10. With "use TPR shadow" on and virtual-interrupt delivery off, the TPR
    /// threshold must have bits 31:4 clear. With VID on the field is unconstrained.</summary>
    TprThresholdRsvdBits,

    /// <summary>R2. With "virtualize APIC accesses" on, the APIC-access address must be 4-KiB
    /// aligned and must not set any bit at or above MAXPHYADDR.</summary>
    ApicAccessAddrValid,

    /// <summary>R4. "Virtualize x2APIC mode" on requires "virtualize APIC accesses" off.</summary>
    X2ApicModeExcludesApicAccess,

    /// <summary>R5. Virtual-interrupt delivery on requires external-interrupt exiting on.</summary>
    VidRequiresExtIntrExiting,

    /// <summary>R6. "Process posted interrupts" on requires virtual-interrupt delivery on.</summary>
    PiRequiresVid,

    /// <summary>R7. "Process posted interrupts" on requires the exit control "acknowledge
    /// interrupt on exit" on.</summary>
    PiRequiresAckIntrOnExit,

    /// <summary>R8. With posted interrupts on, the notification-vector field must have bits
    /// 15:8 clear (any vector 0-255, including 0-15, is allowed).</summary>
    PiNvRange,

    /// <summary>R9. With posted interrupts on, the descriptor address must be 64-byte aligned
    /// (bits 5:0 clear) and must not set any bit at or above MAXPHYADDR.</summary>
    PiDescAddrValid,

    /// <summary>R3. With "use TPR shadow" off, "virtualize x2APIC mode", "APIC-register
    /// virtualization" and virtual-interrupt delivery must all be off.</summary>
    ApicvRequiresTprShadow,

    /// <summary>R11. With "use TPR shadow" on and both VID and "virtualize APIC accesses" off,
    /// TPR threshold bits 3:0 must not exceed VTPR bits 7:4 (VTPR read from the virtual-APIC page).</summary>
    TprThresholdVsVtpr,
}

/// <summary>Stable string ids of the rules, as the conformance file's <c>rule</c>/<c>violations</c> fields spell them.</summary>
public static class VmEntryRuleIds
{
    /// <summary>The rule's stable id; null for <see cref="VmEntryRule.None"/>.</summary>
    public static string? Id(this VmEntryRule rule) => rule switch
    {
        VmEntryRule.None => null,
        VmEntryRule.VapicAddrValid => "vapic-addr-valid",
        VmEntryRule.TprThresholdRsvdBits => "tpr-threshold-rsvd-bits",
        VmEntryRule.TprThresholdVsVtpr => "tpr-threshold-vs-vtpr",
        VmEntryRule.ApicAccessAddrValid => "apic-access-addr-valid",
        VmEntryRule.X2ApicModeExcludesApicAccess => "x2apic-mode-excludes-apic-access",
        VmEntryRule.VidRequiresExtIntrExiting => "vid-requires-ext-intr-exiting",
        VmEntryRule.PiRequiresVid => "pi-requires-vid",
        VmEntryRule.PiRequiresAckIntrOnExit => "pi-requires-ack-intr-on-exit",
        VmEntryRule.PiNvRange => "pi-nv-range",
        VmEntryRule.PiDescAddrValid => "pi-desc-addr-valid",
        VmEntryRule.ApicvRequiresTprShadow => "apicv-requires-tpr-shadow",
        _ => throw new ArgumentOutOfRangeException(nameof(rule)),
    };

    /// <summary>Ids in the conformance file that tag passing cases rather than a check:
    /// R0 (secondary word ignored while inactive) and R12 (whole valid configurations).</summary>
    public const string SecondaryIgnoredWhenInactive = "secondary-ignored-when-inactive";
    public const string ApicvConfigValid = "apicv-config-valid";

    /// <summary>Parses an id back to its rule; false for unknown ids and for the two tag ids.</summary>
    public static bool TryParse(string id, out VmEntryRule rule)
    {
        for (var r = VmEntryRule.VapicAddrValid; r <= VmEntryRule.TprThresholdVsVtpr; r++)
        {
            if (r.Id() == id) { rule = r; return true; }
        }
        rule = VmEntryRule.None;
        return false;
    }
}

/// <summary>A set of violated rules (one bit per <see cref="VmEntryRule"/>); allocation-free.</summary>
public readonly struct VmEntryViolations : IEquatable<VmEntryViolations>
{
    public readonly uint Mask;
    public VmEntryViolations(uint mask) => Mask = mask;

    public bool IsEmpty => Mask == 0;
    public int Count => System.Numerics.BitOperations.PopCount(Mask);
    public bool Contains(VmEntryRule r) => r != VmEntryRule.None && (Mask >> (int)r & 1) != 0;
    public VmEntryViolations With(VmEntryRule r) => new(Mask | 1u << (int)r);

    /// <summary>Enumerates the rules in enum order, which is KVM's check order.</summary>
    public Enumerator GetEnumerator() => new(Mask);

    public bool Equals(VmEntryViolations other) => Mask == other.Mask;
    public override bool Equals(object? obj) => obj is VmEntryViolations o && Equals(o);
    public override int GetHashCode() => (int)Mask;

    public struct Enumerator
    {
        private uint _rest;
        private VmEntryRule _cur;
        internal Enumerator(uint mask) { _rest = mask; _cur = VmEntryRule.None; }
        public readonly VmEntryRule Current => _cur;
        public bool MoveNext()
        {
            if (_rest == 0) return false;
            int bit = System.Numerics.BitOperations.TrailingZeroCount(_rest);
            _rest &= _rest - 1;
            _cur = (VmEntryRule)bit;
            return true;
        }
    }
}
