namespace NestedApic.Hardware.Vmx;

/// <summary>
/// The checks VM entry makes on the APIC-virtualization controls (SDM vol. 3C 26.2.1.1,
/// "Checks on VMX Controls" / "VM-Execution Control Fields"). Every failure is VMfailValid with
/// VM-instruction error 7. Hardware does not report which rule failed; <see cref="Check"/> names
/// the first one in KVM's order so that the two entry points agree where the rules coincide.
/// Allowed-0/allowed-1 settings (the capability MSRs) are outside this layer: all are assumed supported.
/// </summary>
public static class VmEntryChecks
{
    public const int MinMaxPhyAddr = 32;
    public const int MaxMaxPhyAddr = 52;

    /// <summary>
    /// Architectural VM-entry check: the first violated rule, or <see cref="VmEntryRule.None"/>.
    /// <paramref name="maxPhyAddr"/> is the processor's physical-address width (CPUID 80000008H:EAX[7:0]).
    /// </summary>
    public static VmEntryRule Check(in VmxControls c, int maxPhyAddr)
    {
        // Straight-line form of the rules (same order as VmEntryRule) for the hot path; the
        // per-rule predicates in Violates are the readable statement and tests hold the two equal.
        uint sec = c.EffectiveSecondary;
        bool tprShadow = (c.Primary & PrimaryControls.UseTprShadow) != 0;
        bool vaa = (sec & SecondaryControls.VirtualizeApicAccesses) != 0;
        bool x2 = (sec & SecondaryControls.VirtualizeX2ApicMode) != 0;
        bool vid = (sec & SecondaryControls.VirtualInterruptDelivery) != 0;
        bool pi = (c.Pin & PinBasedControls.ProcessPostedInterrupts) != 0;
        if (tprShadow)
        {
            if (!AddressValid(c.VirtualApicAddr, 0xFFF, maxPhyAddr)) return VmEntryRule.VapicAddrValid;
            if (!vid && (c.TprThreshold >> 4) != 0) return VmEntryRule.TprThresholdRsvdBits;
        }
        if (vaa && !AddressValid(c.ApicAccessAddr, 0xFFF, maxPhyAddr)) return VmEntryRule.ApicAccessAddrValid;
        if (x2 && vaa) return VmEntryRule.X2ApicModeExcludesApicAccess;
        if (vid && (c.Pin & PinBasedControls.ExternalInterruptExiting) == 0) return VmEntryRule.VidRequiresExtIntrExiting;
        if (pi)
        {
            if (!vid) return VmEntryRule.PiRequiresVid;
            if ((c.Exit & ExitControls.AcknowledgeInterruptOnExit) == 0) return VmEntryRule.PiRequiresAckIntrOnExit;
            if ((c.PiNotificationVector & 0xFF00) != 0) return VmEntryRule.PiNvRange;
            if (!AddressValid(c.PiDescAddr, 0x3F, maxPhyAddr)) return VmEntryRule.PiDescAddrValid;
        }
        if (!tprShadow)
        {
            const uint apicv = SecondaryControls.VirtualizeX2ApicMode | SecondaryControls.ApicRegisterVirtualization |
                SecondaryControls.VirtualInterruptDelivery;
            return (sec & apicv) != 0 ? VmEntryRule.ApicvRequiresTprShadow : VmEntryRule.None;
        }
        if (!vid && !vaa && (c.TprThreshold & 0xF) > ((c.Vtpr >> 4) & 0xF)) return VmEntryRule.TprThresholdVsVtpr;
        return VmEntryRule.None;
    }

    /// <summary>Every violated rule (the conformance file's <c>violations</c>); allocation-free.</summary>
    public static VmEntryViolations CheckAll(in VmxControls c, int maxPhyAddr)
    {
        var set = default(VmEntryViolations);
        for (var r = VmEntryRule.VapicAddrValid; r <= VmEntryRule.TprThresholdVsVtpr; r++)
        {
            if (Violates(r, in c, maxPhyAddr)) set = set.With(r);
        }
        return set;
    }

    /// <summary>The VM-instruction error a failing entry reports: 7 for every rule here, 0 when none failed.</summary>
    public static uint ErrorFor(VmEntryRule rule) =>
        rule == VmEntryRule.None ? 0 : VmInstructionError.EntryInvalidControlFields;

    /// <summary>Whether the architecture's wording of <paramref name="rule"/> is broken by <paramref name="c"/>.
    /// Controls that are off make their fields irrelevant; secondary bits count only when activated.</summary>
    public static bool Violates(VmEntryRule rule, in VmxControls c, int maxPhyAddr)
    {
        switch (rule)
        {
            case VmEntryRule.VapicAddrValid:
                return c.UseTprShadow && !AddressValid(c.VirtualApicAddr, 0xFFF, maxPhyAddr);
            case VmEntryRule.TprThresholdRsvdBits:
                return c.UseTprShadow && !c.VirtualInterruptDelivery && (c.TprThreshold >> 4) != 0;
            case VmEntryRule.ApicAccessAddrValid:
                return c.VirtualizeApicAccesses && !AddressValid(c.ApicAccessAddr, 0xFFF, maxPhyAddr);
            case VmEntryRule.X2ApicModeExcludesApicAccess:
                return c.VirtualizeX2ApicMode && c.VirtualizeApicAccesses;
            case VmEntryRule.VidRequiresExtIntrExiting:
                return c.VirtualInterruptDelivery && !c.ExternalInterruptExiting;
            case VmEntryRule.PiRequiresVid:
                return c.ProcessPostedInterrupts && !c.VirtualInterruptDelivery;
            case VmEntryRule.PiRequiresAckIntrOnExit:
                return c.ProcessPostedInterrupts && !c.AcknowledgeInterruptOnExit;
            case VmEntryRule.PiNvRange:
                return c.ProcessPostedInterrupts && (c.PiNotificationVector & 0xFF00) != 0;
            case VmEntryRule.PiDescAddrValid:
                return c.ProcessPostedInterrupts && !AddressValid(c.PiDescAddr, 0x3F, maxPhyAddr);
            case VmEntryRule.ApicvRequiresTprShadow:
                return !c.UseTprShadow &&
                    (c.VirtualizeX2ApicMode || c.ApicRegisterVirtualization || c.VirtualInterruptDelivery);
            case VmEntryRule.TprThresholdVsVtpr:
                // VTPR[7:4] only: bits 3:0 and 31:8 of the memory word play no part.
                return c.UseTprShadow && !c.VirtualInterruptDelivery && !c.VirtualizeApicAccesses &&
                    (c.TprThreshold & 0xF) > ((c.Vtpr >> 4) & 0xF);
            default:
                return false;
        }
    }

    /// <summary>
    /// With "use TPR shadow" on, VID off and "virtualize APIC accesses" on, a threshold above
    /// VTPR[7:4] does not fail the entry; instead a "TPR below threshold" VM exit (reason 43)
    /// follows the entry at once (SDM "VM Exits Induced by the TPR Threshold").
    /// </summary>
    public static bool TprBelowThresholdExitAfterEntry(in VmxControls c) =>
        c.UseTprShadow && !c.VirtualInterruptDelivery && c.VirtualizeApicAccesses &&
        (c.TprThreshold & 0xF) > ((c.Vtpr >> 4) & 0xF);

    /// <summary>Aligned (no bit of <paramref name="alignMask"/> set) and below 2^MAXPHYADDR.
    /// Mirrors KVM's page_address_valid / kvm_vcpu_is_legal_aligned_gpa without memory encryption.</summary>
    public static bool AddressValid(ulong addr, ulong alignMask, int maxPhyAddr) =>
        (addr & alignMask) == 0 && (addr >> maxPhyAddr) == 0;

    /// <summary>
    /// KVM's software checks of vmcs12 at nested VMLAUNCH/VMRESUME. Mirrors
    /// nested_check_vm_execution_controls (the APIC part, in its order) and
    /// nested_vmx_check_controls_late; rules KVM leaves to hardware are reported with stage
    /// <see cref="NestedCheckStage.HardwareOnVmcs02"/>: L1 still sees error 7 (the late VM-fail path).
    /// </summary>
    public static NestedCheckResult CheckNested(in VmxControls vmcs12, int maxPhyAddr,
        KvmNestedPolicy policy = KvmNestedPolicy.Current)
    {
        VmEntryRule r;
        if ((r = NestedTprShadowControls(in vmcs12, maxPhyAddr, policy)) != VmEntryRule.None)
            return new(r, NestedCheckStage.ConsistencyCheck);
        if ((r = NestedApicAccessControls(in vmcs12, maxPhyAddr)) != VmEntryRule.None)
            return new(r, NestedCheckStage.ConsistencyCheck);
        if ((r = NestedApicvControls(in vmcs12, maxPhyAddr)) != VmEntryRule.None)
            return new(r, NestedCheckStage.ConsistencyCheck);
        if (Violates(VmEntryRule.TprThresholdVsVtpr, in vmcs12, maxPhyAddr))
        {
            var stage = (policy & KvmNestedPolicy.WarnOnMissedCc) != 0
                ? NestedCheckStage.LateConsistencyCheck : NestedCheckStage.HardwareOnVmcs02;
            return new(VmEntryRule.TprThresholdVsVtpr, stage);
        }
        // Before the 2025 threshold check, vmcs12's threshold reached vmcs02 and hardware failed it.
        if ((policy & KvmNestedPolicy.TprThresholdRsvdBitsCheck) == 0 &&
            Violates(VmEntryRule.TprThresholdRsvdBits, in vmcs12, maxPhyAddr))
            return new(VmEntryRule.TprThresholdRsvdBits, NestedCheckStage.HardwareOnVmcs02);
        return default;
    }

    /// <summary>Mirrors nested_vmx_check_tpr_shadow_controls: R1, then R10 (commit 15fe455dd1a0).</summary>
    public static VmEntryRule NestedTprShadowControls(in VmxControls vmcs12, int maxPhyAddr, KvmNestedPolicy policy)
    {
        if (!vmcs12.UseTprShadow) return VmEntryRule.None;
        if (!AddressValid(vmcs12.VirtualApicAddr, 0xFFF, maxPhyAddr)) return VmEntryRule.VapicAddrValid;
        if ((policy & KvmNestedPolicy.TprThresholdRsvdBitsCheck) != 0 &&
            !vmcs12.VirtualInterruptDelivery && (vmcs12.TprThreshold >> 4) != 0)
            return VmEntryRule.TprThresholdRsvdBits;
        return VmEntryRule.None;
    }

    /// <summary>Mirrors nested_vmx_check_apic_access_controls: R2.</summary>
    public static VmEntryRule NestedApicAccessControls(in VmxControls vmcs12, int maxPhyAddr) =>
        vmcs12.VirtualizeApicAccesses && !AddressValid(vmcs12.ApicAccessAddr, 0xFFF, maxPhyAddr)
            ? VmEntryRule.ApicAccessAddrValid : VmEntryRule.None;

    /// <summary>
    /// Mirrors nested_vmx_check_apicv_controls: R4, R5, then R6-R9 for posted interrupts, and
    /// last "TPR shadow is needed by all APICv features" (R3), which KVM also applies to posted
    /// interrupts (adds nothing: those already need VID).
    /// </summary>
    public static VmEntryRule NestedApicvControls(in VmxControls vmcs12, int maxPhyAddr)
    {
        bool x2 = vmcs12.VirtualizeX2ApicMode, regVirt = vmcs12.ApicRegisterVirtualization;
        bool vid = vmcs12.VirtualInterruptDelivery, pi = vmcs12.ProcessPostedInterrupts;
        if (!x2 && !regVirt && !vid && !pi) return VmEntryRule.None;
        if (x2 && vmcs12.VirtualizeApicAccesses) return VmEntryRule.X2ApicModeExcludesApicAccess;
        if (vid && !vmcs12.ExternalInterruptExiting) return VmEntryRule.VidRequiresExtIntrExiting;
        if (pi)
        {
            if (!vid) return VmEntryRule.PiRequiresVid;
            if (!vmcs12.AcknowledgeInterruptOnExit) return VmEntryRule.PiRequiresAckIntrOnExit;
            if ((vmcs12.PiNotificationVector & 0xFF00) != 0) return VmEntryRule.PiNvRange;
            if (!AddressValid(vmcs12.PiDescAddr, 0x3F, maxPhyAddr)) return VmEntryRule.PiDescAddrValid;
        }
        if (!vmcs12.UseTprShadow) return VmEntryRule.ApicvRequiresTprShadow;
        return VmEntryRule.None;
    }
}

/// <summary>Which KVM version's behaviour <see cref="VmEntryChecks.CheckNested"/> models.</summary>
[Flags]
public enum KvmNestedPolicy
{
    /// <summary>Pre-2025 KVM with default module parameters.</summary>
    None = 0,
    /// <summary>KVM checks TPR_THRESHOLD[31:4] in software (commit 15fe455dd1a0, in 6.19).</summary>
    TprThresholdRsvdBitsCheck = 1,
    /// <summary>Module parameter warn_on_missed_cc: the VTPR check also runs in software, late.</summary>
    WarnOnMissedCc = 2,
    /// <summary>6.19 and later with default module parameters.</summary>
    Current = TprThresholdRsvdBitsCheck,
}

/// <summary>Where KVM catches a bad vmcs12. L1 sees VM-instruction error 7 at every stage.</summary>
public enum NestedCheckStage : byte
{
    None = 0,
    /// <summary>nested_vmx_check_controls, before any state is loaded.</summary>
    ConsistencyCheck,
    /// <summary>nested_vmx_check_controls_late, after the vmcs12 pages are mapped.</summary>
    LateConsistencyCheck,
    /// <summary>Missed by software; the VMLAUNCH of vmcs02 fails and __nested_vmx_vmexit unwinds to L1.</summary>
    HardwareOnVmcs02,
}

/// <summary>Outcome of <see cref="VmEntryChecks.CheckNested"/>.</summary>
public readonly record struct NestedCheckResult(VmEntryRule Rule, NestedCheckStage Stage)
{
    public bool Passed => Rule == VmEntryRule.None;
    public uint Error => VmEntryChecks.ErrorFor(Rule);
}
