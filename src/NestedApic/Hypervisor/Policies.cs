namespace NestedApic.Hypervisor;

/// <summary>The presets (released kernels) and the switch table used to list and override them.</summary>
public static class Policies
{
    /// <summary>v5.17: refresh writes the loaded VMCS (the seed bug); no creation-time request.</summary>
    public static readonly Policy Linux517 = new()
    {
        Name = "linux-5.17",
        ApicvRefresh = Vmcs01Update.WriteCurrentVmcs,
        SviUpdate = Vmcs01Update.WriteCurrentVmcs,
        ApicAccessPageFlushesTlb = true,
    };

    /// <summary>v5.18: 7c69661e225c defers the refresh and pends KVM_REQ_APICV_UPDATE at nested
    /// VM-exit (a no-op: bug #2); 423ecfea77dd pends the request at vCPU creation.</summary>
    public static readonly Policy Linux518 = Linux517 with
    {
        Name = "linux-5.18",
        ApicvRefresh = Vmcs01Update.DeferPendRequest,
        CreateVcpuPendsRequest = true,
    };

    /// <summary>v6.18: adds 8fc9c7a3079e (6.0), d471bd853d38 (6.3), 04bc93cf49d1 (SVI deferred,
    /// Nov 2024); bug #1 (no SVI on activation) and bug #2 still present.</summary>
    public static readonly Policy Linux618 = Linux518 with
    {
        Name = "linux-6.18",
        SviUpdate = Vmcs01Update.DeferDirectCall,
        ApicDisabledBlocksActivation = true,
        ApicIdInhibit = ApicIdInhibitMode.Clearable,
        NestedVmexitRequestsEvent = true,
        SviUpdateWarnsOnVid = true,
        IpiVirtualization = true,
        ApicvUpdateOnAnyModeChange = true,
        NestedPiNotification = NestedPiNotification.InCheckNestedEvents,
        ApicAccessPageFlushesTlb = false,
        SetLapicClearsPirAlways = true,
    };

    /// <summary>v6.19: b2849bec936b (SVI on activation) and 29763138830916f4 (direct refresh at
    /// nested VM-exit); nested_early_check removed by a175da6d430e.</summary>
    public static readonly Policy Linux619 = Linux618 with
    {
        Name = "linux-6.19",
        ApicvRefresh = Vmcs01Update.DeferDirectCall,
        SviOnActivation = true,
        HostX2ApicToXApicResetsId = true,
        SviUpdateWarnsOnVid = false, // b2849bec936b dropped the WARN
    };

    /// <summary>v7.0: vmcs01 on demand for every field: PML 3e013d0a7099, TPR threshold
    /// 51ca2746078e, SVI f0044429b257, APICv controls 2bf889a68fba, APIC-access page 51c821d6d0ba,
    /// virtual APIC mode with L1's TLB flushed directly 249cc1ab4b9a; SVI folded into
    /// kvm_apic_update_apicv (000d75b0b186).</summary>
    public static readonly Policy Linux70 = Linux619 with
    {
        Name = "linux-7.0",
        ApicvRefresh = Vmcs01Update.OnDemandVmcs01,
        SviUpdate = Vmcs01Update.OnDemandVmcs01,
        VirtualApicMode = Vmcs01Update.OnDemandVmcs01,
        TprThreshold = Vmcs01Update.OnDemandVmcs01,
        ApicAccessPage = Vmcs01Update.OnDemandVmcs01,
        CpuDirtyLogging = Vmcs01Update.OnDemandVmcs01,
        ModeChangeFlush = ModeChangeFlush.FlushL1Context,
    };

    /// <summary>v7.1: v7.0 for every modelled Intel field (7.1.3 has no bb365a506b1e).</summary>
    public static readonly Policy Linux71 = Linux70 with { Name = "linux-7.1" };

    /// <summary>v7.2: bb365a506b1e (7.2 merge window, Cc stable; 6.18.y has it as ff9c4c642888):
    /// every PPR update that raises no KVM_REQ_EVENT recomputes the CR8 intercept.</summary>
    public static readonly Policy Linux72 = Linux71 with
    {
        Name = "linux-7.2",
        Cr8InterceptOnPprUpdate = true,
    };

    /// <summary>kvm_amd in v5.18: NESTED is a VM-wide inhibit once the guest may use SVM, so a VM
    /// that can run L2 never has AVIC; irr_pending is left alone on deactivation (755c2bf87860).</summary>
    public static readonly Policy Linux518Svm = Linux518 with
    {
        Name = "linux-5.18-svm",
        Vendor = CpuVendor.Amd,
        NestedAvicInhibit = NestedAvicInhibit.VmWide,
        IrrPendingUpdate = IrrPendingUpdate.KeepOnDeactivate,
    };

    /// <summary>kvm_amd in v5.19: f44509f849fe makes NESTED per-vCPU (requested at nested VMRUN,
    /// applied at the next entry, lifted directly at nested #VMEXIT); APIC_ID_MODIFIED (3743c2f02517).</summary>
    public static readonly Policy Linux519Svm = Linux518Svm with
    {
        Name = "linux-5.19-svm",
        NestedAvicInhibit = NestedAvicInhibit.PerVcpu,
        ApicIdInhibit = ApicIdInhibitMode.Sticky,
    };

    /// <summary>kvm_amd in v7.0: the common code of linux-7.0 with the per-vCPU NESTED inhibit and
    /// irr_pending always set on APICv updates (d3ddef46f22e).</summary>
    public static readonly Policy Linux70Svm = Linux70 with
    {
        Name = "linux-7.0-svm",
        Vendor = CpuVendor.Amd,
        NestedAvicInhibit = NestedAvicInhibit.PerVcpu,
        IrrPendingUpdate = IrrPendingUpdate.Always,
        LeaveNestedRequestsApicvUpdate = true,
    };

    /// <summary>kvm_amd in v7.1: 24f7d36b824b (7.1-rc1, Cc stable: 7.0.4, 6.12.86) makes
    /// svm_set_nested_state request KVM_REQ_APICV_UPDATE when AVIC is active, as nested VMRUN does.</summary>
    public static readonly Policy Linux71Svm = Linux70Svm with
    {
        Name = "linux-7.1-svm",
        SetNestedStateRequestsApicvUpdate = true,
    };

    /// <summary>Design, not a release: linux-7.0-svm without the NESTED inhibit, to show why the
    /// inhibit exists.</summary>
    public static readonly Policy NoNestedAvicInhibit = Linux70Svm with
    {
        Name = "no-nested-avic-inhibit",
        NestedAvicInhibit = NestedAvicInhibit.None,
    };

    /// <summary>Design, not a release: linux-7.0 whose KVM_CREATE_VCPU pends
    /// KVM_REQ_UPDATE_CPU_DIRTY_LOGGING (as 423ecfea77dd does KVM_REQ_APICV_UPDATE), closing the
    /// PML creation race (docs/findings.md).</summary>
    public static readonly Policy PmlCreateRequest = Linux70 with
    {
        Name = "pml-create-request",
        CreateVcpuPendsDirtyLogging = true,
    };

    /// <summary>Design under review: the Intel side of the AMD PML series v5, i.e. its 4/8 ("Move
    /// nested CPU dirty logging logic to common code", posted as "No functional change") on the
    /// kvm/next it was based on, whose PML code is linux-6.19's.</summary>
    public static readonly Policy IntelPmlV5 = Linux619 with
    {
        Name = "intel-pml-v5",
        CommonDirtyLoggingDeferral = true,
    };

    /// <summary>Design under review: linux-7.0-svm with "KVM: SVM: Add Page Modification Logging
    /// (PML) support" v5 as posted (2026-01-05): PML_ENABLE only through
    /// KVM_REQ_UPDATE_CPU_DIRTY_LOGGING, the deferred update applied in leave_guest_mode (4/8).</summary>
    public static readonly Policy AmdPmlV5 = Linux70Svm with
    {
        Name = "amd-pml-v5",
        SvmPml = SvmPml.V5,
        PendingDirtyLoggingUpdate = PendingDirtyLoggingUpdate.LeaveGuestModeCall,
    };

    /// <summary>Design: amd-pml-v5 with the two smallest changes that remove what the checker
    /// finds in it: the request pended at vCPU creation, and leave_guest_mode pending the request
    /// instead of calling the hook on vmcb02 (docs/findings.md).</summary>
    public static readonly Policy AmdPmlV5Fixed = AmdPmlV5 with
    {
        Name = "amd-pml-v5-fixed",
        CreateVcpuPendsDirtyLogging = true,
        PendingDirtyLoggingUpdate = PendingDirtyLoggingUpdate.LeaveGuestModeRequest,
    };

    public static IReadOnlyList<Policy> Presets { get; } =
        [Linux517, Linux518, Linux618, Linux619, Linux70, Linux71, Linux72, Linux518Svm, Linux519Svm, Linux70Svm, Linux71Svm, NoNestedAvicInhibit, PmlCreateRequest, IntelPmlV5, AmdPmlV5, AmdPmlV5Fixed];

    public static Policy? Find(string name) => Presets.FirstOrDefault(p => p.Name == name);

    /// <summary>Preset names that no longer exist, with the name that replaced them and why.</summary>
    public static IReadOnlyDictionary<string, (string Now, string Why)> Retired { get; } = new Dictionary<string, (string, string)>
    {
        ["linux-7.1.y"] = ("linux-7.2", "bb365a506b1e is mainline 7.2; 7.1.3 does not have it"),
    };

    /// <summary>The error text for a policy name that is not a preset: the replacement of a
    /// retired name, else the presets one could use.</summary>
    public static string Unknown(string name, IEnumerable<Policy>? known = null) =>
        Retired.TryGetValue(name, out var r)
            ? $"policy '{name}' was renamed '{r.Now}' ({r.Why})"
            : $"unknown policy '{name}'; known: {string.Join(", ", (known ?? Presets).Select(p => p.Name))}";

    /// <summary>The presets that describe <paramref name="vendor"/>'s module: those a universe of that vendor runs under.</summary>
    public static IReadOnlyList<Policy> For(CpuVendor vendor) => Presets.Where(p => p.Vendor == vendor).ToList();

    /// <summary>A preset by name for a universe of <paramref name="vendor"/>: null when unknown;
    /// an error naming both vendors when it describes the other one.</summary>
    public static Policy? FindFor(string name, CpuVendor vendor)
    {
        var p = Find(name);
        if (p is not null && p.Vendor != vendor)
            throw new ArgumentException($"policy '{name}' describes kvm_{(p.Vendor == CpuVendor.Amd ? "amd" : "intel")} but the universe is vendor = \"{vendor.Name()}\"; use one of: {string.Join(", ", For(vendor).Select(x => x.Name))}");
        return p;
    }

    /// <summary>One overridable switch: its key in a universe file, what it means, and how to
    /// read and write it.</summary>
    public sealed record Switch(string Key, string Help, string[] Values,
        Func<Policy, string> Get, Func<Policy, string, Policy?> Set)
    {
        /// <summary>The vendor whose code the switch changes; null: KVM's common code.</summary>
        public CpuVendor? Vendor { get; init; }
        public bool AppliesTo(CpuVendor v) => Vendor is null || Vendor == v;
    }

    static Switch Ladder(string key, string help, Vmcs01Update[] allowed,
        Func<Policy, Vmcs01Update> get, Func<Policy, Vmcs01Update, Policy> set) =>
        new(key, help, allowed.Select(LadderName).ToArray(), p => LadderName(get(p)),
            (p, v) => allowed.Select(a => (Vmcs01Update?)a).FirstOrDefault(a => LadderName(a!.Value) == v) is { } u ? set(p, u) : null);

    static Switch Flag(string key, string help, Func<Policy, bool> get, Func<Policy, bool, Policy> set) =>
        new(key, help, ["true", "false"], p => get(p) ? "true" : "false",
            (p, v) => v switch { "true" => set(p, true), "false" => set(p, false), _ => null });

    static Switch Vector(string key, string help, Func<Policy, byte> get, Func<Policy, byte, Policy> set) =>
        new(key, help, ["0x10..0xff"], p => $"0x{get(p):x2}",
            (p, v) => v.StartsWith("0x") && byte.TryParse(v.AsSpan(2), System.Globalization.NumberStyles.HexNumber, null, out var b) && b >= 0x10 ? set(p, b) : null);

    public static string LadderName(Vmcs01Update u) => u switch
    {
        Vmcs01Update.WriteCurrentVmcs => "write-current-vmcs",
        Vmcs01Update.DeferPendRequest => "defer-pend-request",
        Vmcs01Update.DeferDirectCall => "defer-direct-call",
        _ => "vmcs01-on-demand",
    };

    static readonly Vmcs01Update[] AllRungs = [Vmcs01Update.WriteCurrentVmcs, Vmcs01Update.DeferPendRequest, Vmcs01Update.DeferDirectCall, Vmcs01Update.OnDemandVmcs01];
    static readonly Vmcs01Update[] FlagRungs = [Vmcs01Update.WriteCurrentVmcs, Vmcs01Update.DeferDirectCall, Vmcs01Update.OnDemandVmcs01];

    public static IReadOnlyList<Switch> Switches { get; } =
    [
        Ladder("apicv-refresh", "vmx_refresh_apicv_exec_ctrl while L2 is active", AllRungs, p => p.ApicvRefresh, (p, v) => p with { ApicvRefresh = v }) with { Vendor = CpuVendor.Intel },
        Ladder("svi-update", "vmx_hwapic_isr_update (SVI) while L2 is active", FlagRungs, p => p.SviUpdate, (p, v) => p with { SviUpdate = v }) with { Vendor = CpuVendor.Intel },
        Ladder("virtual-apic-mode", "vmx_set_virtual_apic_mode while L2 is active", FlagRungs, p => p.VirtualApicMode, (p, v) => p with { VirtualApicMode = v }) with { Vendor = CpuVendor.Intel },
        Flag("create-vcpu-pends-request", "KVM_CREATE_VCPU pends KVM_REQ_APICV_UPDATE (423ecfea77dd)", p => p.CreateVcpuPendsRequest, (p, v) => p with { CreateVcpuPendsRequest = v }),
        Flag("svi-on-activation", "runtime APICv activation sets SVI (b2849bec936b)", p => p.SviOnActivation, (p, v) => p with { SviOnActivation = v }) with { Vendor = CpuVendor.Intel },
        Flag("apic-disabled-blocks-activation", "no APICv on a vCPU with its APIC disabled (8fc9c7a3079e)", p => p.ApicDisabledBlocksActivation, (p, v) => p with { ApicDisabledBlocksActivation = v }),
        new Switch("apic-id-inhibit", "APIC_ID_MODIFIED on xAPIC ID writes: none (<5.19), sticky (3743c2f02517), clearable (d471bd853d38)",
            ["none", "sticky", "clearable"], p => p.ApicIdInhibit.ToString().ToLowerInvariant(),
            (p, v) => v switch { "none" => p with { ApicIdInhibit = ApicIdInhibitMode.None }, "sticky" => p with { ApicIdInhibit = ApicIdInhibitMode.Sticky }, "clearable" => p with { ApicIdInhibit = ApicIdInhibitMode.Clearable }, _ => null }),
        Ladder("tpr-threshold", "vmx_update_cr8_intercept (TPR_THRESHOLD) while L2 is active", FlagRungs, p => p.TprThreshold, (p, v) => p with { TprThreshold = v }) with { Vendor = CpuVendor.Intel },
        new Switch("tpr-below-threshold-exit", "handle_tpr_below_threshold: request-event (before eb90f3417a0c) or update-ppr",
            ["request-event", "update-ppr"], p => p.TprBelowThresholdExit == TprBelowThresholdExit.RequestEvent ? "request-event" : "update-ppr",
            (p, v) => v switch { "request-event" => p with { TprBelowThresholdExit = TprBelowThresholdExit.RequestEvent }, "update-ppr" => p with { TprBelowThresholdExit = TprBelowThresholdExit.UpdatePpr }, _ => null }) with { Vendor = CpuVendor.Intel },
        Flag("cr8-intercept-on-ppr-update", "apic_update_ppr recomputes the CR8 intercept when no interrupt is deliverable (bb365a506b1e)", p => p.Cr8InterceptOnPprUpdate, (p, v) => p with { Cr8InterceptOnPprUpdate = v }) with { Vendor = CpuVendor.Intel },
        Ladder("apic-access-page", "vmx_set_apic_access_page_addr (KVM_REQ_APIC_PAGE_RELOAD) while L2 is active", AllRungs, p => p.ApicAccessPage, (p, v) => p with { ApicAccessPage = v }) with { Vendor = CpuVendor.Intel },
        Ladder("cpu-dirty-logging", "vmx_update_cpu_dirty_logging (PML) while L2 is active", FlagRungs, p => p.CpuDirtyLogging, (p, v) => p with { CpuDirtyLogging = v }) with { Vendor = CpuVendor.Intel },
        new Switch("mode-change-tlb-flush", "the TLB flush of a switch to xAPIC while L2 is active: flush-current (KVM_REQ_TLB_FLUSH_CURRENT) or flush-l1-context (249cc1ab4b9a)",
            ["flush-current", "flush-l1-context"], p => p.ModeChangeFlush == ModeChangeFlush.FlushCurrent ? "flush-current" : "flush-l1-context",
            (p, v) => v switch { "flush-current" => p with { ModeChangeFlush = ModeChangeFlush.FlushCurrent }, "flush-l1-context" => p with { ModeChangeFlush = ModeChangeFlush.FlushL1Context }, _ => null }) with { Vendor = CpuVendor.Intel },
        Flag("nested-vmexit-requests-event", "nested VM-exit raises KVM_REQ_EVENT for an injectable interrupt (982caaa11504, 6.14)", p => p.NestedVmexitRequestsEvent, (p, v) => p with { NestedVmexitRequestsEvent = v }) with { Vendor = CpuVendor.Intel },
        Flag("svi-update-vid-warn", "vmx_hwapic_isr_update WARNs in KVM_RUN with L2 active and VID in vmcs12 (04bc93cf49d1 .. b2849bec936b)", p => p.SviUpdateWarnsOnVid, (p, v) => p with { SviUpdateWarnsOnVid = v }) with { Vendor = CpuVendor.Intel },
        Flag("apicv-update-on-any-mode-change", "kvm_lapic_set_base requests an APICv update on any EN/EXTD change (1459f5c6b8b8, 6.3)", p => p.ApicvUpdateOnAnyModeChange, (p, v) => p with { ApicvUpdateOnAnyModeChange = v }),
        new Switch("nested-pi-notification", "an L1 interrupt equal to vmcs12's notification vector: at-vmenter with a stale posted_intr_nv (5.17) or check-nested-events (6.12+)",
            ["at-vmenter", "check-nested-events"], p => p.NestedPiNotification == NestedPiNotification.AtVmEnter ? "at-vmenter" : "check-nested-events",
            (p, v) => v switch { "at-vmenter" => p with { NestedPiNotification = NestedPiNotification.AtVmEnter }, "check-nested-events" => p with { NestedPiNotification = NestedPiNotification.InCheckNestedEvents }, _ => null }) with { Vendor = CpuVendor.Intel },
        Flag("apic-access-page-flushes-tlb", "vmx_set_apic_access_page_addr flushes the current TLB context (5.17)", p => p.ApicAccessPageFlushesTlb, (p, v) => p with { ApicAccessPageFlushesTlb = v }) with { Vendor = CpuVendor.Intel },
        Flag("set-lapic-clears-pir-always", "KVM_SET_LAPIC resets the posted-interrupt descriptor even with APICv inactive (apicv_pre_state_restore: in the 6.19 tree, taken for 6.18 too; 5.17 only with APICv)", p => p.SetLapicClearsPirAlways, (p, v) => p with { SetLapicClearsPirAlways = v }) with { Vendor = CpuVendor.Intel },
        Flag("lapic-reset-updates-svi", "kvm_lapic_reset (INIT, RESET) clears SVI with APICv active (every release; false: a design that drops it)", p => p.LapicResetUpdatesSvi, (p, v) => p with { LapicResetUpdatesSvi = v }),
        Flag("host-x2apic-to-xapic-resets-id", "a host x2APIC-to-xAPIC write resets the xAPIC ID (6.19)", p => p.HostX2ApicToXApicResetsId, (p, v) => p with { HostX2ApicToXApicResetsId = v }),
        Flag("ipi-virtualization", "enable_ipiv: TERTIARY_EXEC_IPI_VIRT with APICv, peers post through the PID-pointer table (6.0+; needs [host] ipi-virtualization)", p => p.IpiVirtualization, (p, v) => p with { IpiVirtualization = v }) with { Vendor = CpuVendor.Intel },
        Flag("nested-early-check", "nested_early_check: a late VM-fail on vmcs02 WARNs", p => p.NestedEarlyCheck, (p, v) => p with { NestedEarlyCheck = v }) with { Vendor = CpuVendor.Intel },
        Vector("posted-intr-vector", "POSTED_INTR_VECTOR (vmcs01, L1's descriptor)", p => p.PostedIntrVector, (p, v) => p with { PostedIntrVector = v }) with { Vendor = CpuVendor.Intel },
        Vector("nested-posted-intr-vector", "POSTED_INTR_NESTED_VECTOR (vmcs02)", p => p.NestedPostedIntrVector, (p, v) => p with { NestedPostedIntrVector = v }) with { Vendor = CpuVendor.Intel },
        new Switch("nested-avic-inhibit", "AVIC while a vCPU runs L2: vm-wide (5.18), per-vcpu (f44509f849fe), none (design)",
            ["vm-wide", "per-vcpu", "none"], p => p.NestedAvicInhibit switch { NestedAvicInhibit.VmWide => "vm-wide", NestedAvicInhibit.PerVcpu => "per-vcpu", _ => "none" },
            (p, v) => v switch { "vm-wide" => p with { NestedAvicInhibit = NestedAvicInhibit.VmWide }, "per-vcpu" => p with { NestedAvicInhibit = NestedAvicInhibit.PerVcpu }, "none" => p with { NestedAvicInhibit = NestedAvicInhibit.None }, _ => null })
        { Vendor = CpuVendor.Amd },
        new Switch("apicv-update-irr-pending", "irr_pending in kvm_apic_update_apicv: scan (b26a695a1d78), keep-on-deactivate (755c2bf87860), always (d3ddef46f22e)",
            ["scan", "keep-on-deactivate", "always"], p => p.IrrPendingUpdate switch { IrrPendingUpdate.Scan => "scan", IrrPendingUpdate.KeepOnDeactivate => "keep-on-deactivate", _ => "always" },
            (p, v) => v switch { "scan" => p with { IrrPendingUpdate = IrrPendingUpdate.Scan }, "keep-on-deactivate" => p with { IrrPendingUpdate = IrrPendingUpdate.KeepOnDeactivate }, "always" => p with { IrrPendingUpdate = IrrPendingUpdate.Always }, _ => null })
        { Vendor = CpuVendor.Amd },
        Flag("create-vcpu-pends-dirty-logging", "design: KVM_CREATE_VCPU pends KVM_REQ_UPDATE_CPU_DIRTY_LOGGING (as 423ecfea77dd does KVM_REQ_APICV_UPDATE)", p => p.CreateVcpuPendsDirtyLogging, (p, v) => p with { CreateVcpuPendsDirtyLogging = v }),
        Flag("common-dirty-logging-deferral", "AMD PML series 4/8 on VMX: leave_guest_mode applies a PML update deferred while L2 ran", p => p.CommonDirtyLoggingDeferral, (p, v) => p with { CommonDirtyLoggingDeferral = v }) with { Vendor = CpuVendor.Intel },
        new Switch("svm-pml", "PML in kvm_amd: none (upstream) or v5 (the series posted 2026-01-05)",
            ["none", "v5"], p => p.SvmPml == SvmPml.V5 ? "v5" : "none",
            (p, v) => v switch { "none" => p with { SvmPml = SvmPml.None }, "v5" => p with { SvmPml = SvmPml.V5 }, _ => null })
        { Vendor = CpuVendor.Amd },
        new Switch("pending-dirty-logging-update", "AMD PML series (svm-pml; common-dirty-logging-deferral on Intel): a PML update that arrived while L2 ran: leave-guest-mode-call (v4/v5), after-vmcb01-switch (v3), leave-guest-mode-request (design), write-vmcb01 (design, AMD: no deferral)",
            ["leave-guest-mode-call", "after-vmcb01-switch", "leave-guest-mode-request", "write-vmcb01"],
            p => p.PendingDirtyLoggingUpdate switch { PendingDirtyLoggingUpdate.AfterVmcb01Switch => "after-vmcb01-switch", PendingDirtyLoggingUpdate.LeaveGuestModeRequest => "leave-guest-mode-request", PendingDirtyLoggingUpdate.WriteVmcb01 => "write-vmcb01", _ => "leave-guest-mode-call" },
            (p, v) => v switch
            {
                "leave-guest-mode-call" => p with { PendingDirtyLoggingUpdate = PendingDirtyLoggingUpdate.LeaveGuestModeCall },
                "after-vmcb01-switch" => p with { PendingDirtyLoggingUpdate = PendingDirtyLoggingUpdate.AfterVmcb01Switch },
                "leave-guest-mode-request" => p with { PendingDirtyLoggingUpdate = PendingDirtyLoggingUpdate.LeaveGuestModeRequest },
                "write-vmcb01" when p.Vendor == CpuVendor.Amd => p with { PendingDirtyLoggingUpdate = PendingDirtyLoggingUpdate.WriteVmcb01 },
                _ => null,
            })
        { Vendor = null },
        Flag("set-nested-state-requests-apicv-update", "svm_set_nested_state into L2 requests KVM_REQ_APICV_UPDATE as nested VMRUN does (24f7d36b824b, 7.1)", p => p.SetNestedStateRequestsApicvUpdate, (p, v) => p with { SetNestedStateRequestsApicvUpdate = v }) with { Vendor = CpuVendor.Amd },
        Flag("leave-nested-requests-apicv-update", "svm_leave_nested requests KVM_REQ_APICV_UPDATE when the VM has AVIC activated (3fdc6087df3b, 6.6)", p => p.LeaveNestedRequestsApicvUpdate, (p, v) => p with { LeaveNestedRequestsApicvUpdate = v }) with { Vendor = CpuVendor.Amd },
        Flag("avic-deactivate-skips-vmcb01", "design: AVIC deactivation leaves vmcb01 as it is (svm_refresh_apicv_exec_ctrl before its 2019 fix)", p => p.AvicDeactivateSkipsVmcb01, (p, v) => p with { AvicDeactivateSkipsVmcb01 = v }) with { Vendor = CpuVendor.Amd },
    ];
}
