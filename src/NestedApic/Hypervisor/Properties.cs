namespace NestedApic.Hypervisor;

/// <summary>The properties the checker tests in every state, with their stable ids (the
/// reference's invariants I1-I10, plus the EOI property of issue 7).</summary>
public enum Property : byte
{
    /// <summary>I1: a hardware VM entry failed although vmcs12 passed KVM's checks (or vmcs01 failed).</summary>
    KvmCausedVmentryFailure,
    /// <summary>I4: KVM's WARN at entry, apicv_active differs from the VM's activation.</summary>
    ApicvBeliefIncoherent,
    /// <summary>I2: L1 runs with vmcs01's APICv controls different from apicv_active.</summary>
    Vmcs01ApicvStale,
    /// <summary>I3: L2 runs with vmcs02's APIC virtualization different from what vmcs12 asked for.</summary>
    Vmcs02NotOwnedByVmcs12,
    /// <summary>I6: L1 runs with vmcs01's APIC-access/x2APIC virtualization not matching its APIC mode.</summary>
    ApicModeControlsStale,
    /// <summary>I7: L1 runs with APICv and vmcs01.SVI is not the highest in-service vector.</summary>
    SviStale,
    /// <summary>I8 (safety proxy): L1 runs with IF=1 and a deliverable IRR vector that neither KVM
    /// (APICv believed on) nor the CPU (no VID or RVI/VPPR block it) will deliver.</summary>
    InterruptNotDelivered,
    /// <summary>I9: a PIR bit without ON, or ON while the vCPU runs with no notification coming.</summary>
    PirStranded,
    /// <summary>I10: vmcs01's vector differs from L1's descriptor, or vmcs02's equals it.</summary>
    NotificationVectorWrong,
    /// <summary>An EOI left the vector it completes in ISR.</summary>
    VectorStuckInService,
    /// <summary>vmcs01 entered with TPR shadow, no VID and TPR_THRESHOLD[3:0] &gt; VTPR[7:4] (SDM
    /// 26.2.1.1): a VM-entry failure, or with APIC-access virtualization an endless
    /// TPR-below-threshold exit.</summary>
    TprThresholdStale,
    /// <summary>L1 runs with APIC-access virtualization and vmcs01's APIC_ACCESS_ADDR is not the
    /// page that now backs the APIC-access page.</summary>
    ApicAccessAddrStale,
    /// <summary>I7: L1 runs with APIC-access virtualization while its TLB context still holds a
    /// translation of the APIC page cached when the virtualization was off.</summary>
    StaleL1ApicTranslation,
    /// <summary>L1 wrote memory while dirty logging was on and vmcs01 had no PML: the page is
    /// dirty in EPT but not in KVM's log.</summary>
    DirtyPageNotLogged,
    /// <summary>AMD I3: a doorbell meant for a vCPU's L1 reached its CPU while it ran vmcb02.</summary>
    AvicDoorbellIntoL2,
    /// <summary>AMD I2: a vCPU runs L2 with IsRunning set in its physical APIC ID entry, or with a
    /// device interrupt posted to it in GA mode with IsRun.</summary>
    AvicRunningInL2,
    /// <summary>AMD I5: L1 runs with vmcb01's AVIC enable different from apicv_active.</summary>
    Vmcb01AvicStale,
    /// <summary>AMD I10: IRR holds a vector while irr_pending is clear and nothing will set it.</summary>
    IrrPendingHintLost,
    /// <summary>KVM hit one of its own WARN_ON_ONCEs other than the entry-time APICv one
    /// (nested_early_check's late VM-fail; 04bc93cf49d1's SVI update with VID in vmcs12).</summary>
    KvmWarned,
    /// <summary>An IPI sent while the target's APIC was hardware-disabled, which the APIC must not
    /// accept, reached its IRR later (posted by IPI virtualization, synced once the APIC is back).</summary>
    InterruptToDisabledApic,
}

public static class Properties
{
    public static readonly Property[] All = Enum.GetValues<Property>();
    /// <summary>The ids in enum order: a model's invariant names, indexed by Property.</summary>
    public static readonly string[] Ids = All.Select(p => p.Id()).ToArray();

    public static string Id(this Property p) => p switch
    {
        Property.KvmCausedVmentryFailure => "kvm-caused-vmentry-failure",
        Property.ApicvBeliefIncoherent => "apicv-belief-incoherent",
        Property.Vmcs01ApicvStale => "vmcs01-apicv-stale",
        Property.Vmcs02NotOwnedByVmcs12 => "vmcs02-not-owned-by-vmcs12",
        Property.ApicModeControlsStale => "apic-mode-controls-stale",
        Property.SviStale => "svi-stale",
        Property.InterruptNotDelivered => "interrupt-not-delivered",
        Property.PirStranded => "pir-stranded",
        Property.NotificationVectorWrong => "notification-vector-wrong",
        Property.VectorStuckInService => "vector-stuck-in-service",
        Property.TprThresholdStale => "tpr-threshold-stale",
        Property.ApicAccessAddrStale => "apic-access-addr-stale",
        Property.StaleL1ApicTranslation => "stale-l1-apic-translation",
        Property.DirtyPageNotLogged => "dirty-page-not-logged",
        Property.AvicDoorbellIntoL2 => "avic-doorbell-into-l2",
        Property.AvicRunningInL2 => "avic-running-in-l2",
        Property.Vmcb01AvicStale => "vmcb01-avic-stale",
        Property.IrrPendingHintLost => "irr-pending-hint-lost",
        Property.KvmWarned => "kvm-warned",
        Property.InterruptToDisabledApic => "interrupt-to-disabled-apic",
        _ => p.ToString(),
    };

    /// <summary>Whether the property means something on <paramref name="vendor"/>'s model (the
    /// VMCS ones on Intel, the AVIC ones on AMD, the rest on both).</summary>
    public static bool AppliesTo(this Property p, CpuVendor vendor) =>
        vendor == CpuVendor.Amd ? Svm.SvmModel.Checked.Contains(p)
            : p is not (Property.AvicDoorbellIntoL2 or Property.AvicRunningInL2 or Property.Vmcb01AvicStale or Property.IrrPendingHintLost);

    /// <summary>The order in which a state's broken properties are reported: the specific
    /// diagnosis before the generic symptom (a stale TPR threshold also fails the entry).</summary>
    public static readonly Property[] Diagnosis = [Property.TprThresholdStale, .. All.Where(p => p != Property.TprThresholdStale)];

    public static int Rank(Property p) => Array.IndexOf(Diagnosis, p);

    public static Property? Parse(string id) => All.Select(p => (Property?)p).FirstOrDefault(p => p!.Value.Id() == id);
}
