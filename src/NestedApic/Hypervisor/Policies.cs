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
    };

    /// <summary>v6.19: b2849bec936b (SVI on activation) and 29763138830916f4 (direct refresh at
    /// nested VM-exit); nested_early_check removed by a175da6d430e.</summary>
    public static readonly Policy Linux619 = Linux618 with
    {
        Name = "linux-6.19",
        ApicvRefresh = Vmcs01Update.DeferDirectCall,
        SviOnActivation = true,
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

    /// <summary>v7.1.y: v7.0 plus bb365a506b1e (June 2026, Cc stable, in the 7.1.y stable
    /// series): every PPR update that raises no KVM_REQ_EVENT recomputes the CR8 intercept.</summary>
    public static readonly Policy Linux71y = Linux70 with
    {
        Name = "linux-7.1.y",
        Cr8InterceptOnPprUpdate = true,
    };

    public static IReadOnlyList<Policy> Presets { get; } = [Linux517, Linux518, Linux618, Linux619, Linux70, Linux71y];

    public static Policy? Find(string name) => Presets.FirstOrDefault(p => p.Name == name);

    /// <summary>One overridable switch: its key in a universe file, what it means, and how to
    /// read and write it.</summary>
    public sealed record Switch(string Key, string Help, string[] Values,
        Func<Policy, string> Get, Func<Policy, string, Policy?> Set);

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
        Ladder("apicv-refresh", "vmx_refresh_apicv_exec_ctrl while L2 is active", AllRungs, p => p.ApicvRefresh, (p, v) => p with { ApicvRefresh = v }),
        Ladder("svi-update", "vmx_hwapic_isr_update (SVI) while L2 is active", FlagRungs, p => p.SviUpdate, (p, v) => p with { SviUpdate = v }),
        Ladder("virtual-apic-mode", "vmx_set_virtual_apic_mode while L2 is active", FlagRungs, p => p.VirtualApicMode, (p, v) => p with { VirtualApicMode = v }),
        Flag("create-vcpu-pends-request", "KVM_CREATE_VCPU pends KVM_REQ_APICV_UPDATE (423ecfea77dd)", p => p.CreateVcpuPendsRequest, (p, v) => p with { CreateVcpuPendsRequest = v }),
        Flag("svi-on-activation", "runtime APICv activation sets SVI (b2849bec936b)", p => p.SviOnActivation, (p, v) => p with { SviOnActivation = v }),
        Flag("apic-disabled-blocks-activation", "no APICv on a vCPU with its APIC disabled (8fc9c7a3079e)", p => p.ApicDisabledBlocksActivation, (p, v) => p with { ApicDisabledBlocksActivation = v }),
        new Switch("apic-id-inhibit", "APIC_ID_MODIFIED on xAPIC ID writes: none (<5.19), sticky (3743c2f02517), clearable (d471bd853d38)",
            ["none", "sticky", "clearable"], p => p.ApicIdInhibit.ToString().ToLowerInvariant(),
            (p, v) => v switch { "none" => p with { ApicIdInhibit = ApicIdInhibitMode.None }, "sticky" => p with { ApicIdInhibit = ApicIdInhibitMode.Sticky }, "clearable" => p with { ApicIdInhibit = ApicIdInhibitMode.Clearable }, _ => null }),
        Flag("nested-early-check", "nested_early_check: a late VM-fail on vmcs02 WARNs", p => p.NestedEarlyCheck, (p, v) => p with { NestedEarlyCheck = v }),
        Vector("posted-intr-vector", "POSTED_INTR_VECTOR (vmcs01, L1's descriptor)", p => p.PostedIntrVector, (p, v) => p with { PostedIntrVector = v }),
        Vector("nested-posted-intr-vector", "POSTED_INTR_NESTED_VECTOR (vmcs02)", p => p.NestedPostedIntrVector, (p, v) => p with { NestedPostedIntrVector = v }),
        Ladder("tpr-threshold", "vmx_update_cr8_intercept (TPR_THRESHOLD) while L2 is active", FlagRungs, p => p.TprThreshold, (p, v) => p with { TprThreshold = v }),
        new Switch("tpr-below-threshold-exit", "handle_tpr_below_threshold: request-event (before eb90f3417a0c) or update-ppr",
            ["request-event", "update-ppr"], p => p.TprBelowThresholdExit == TprBelowThresholdExit.RequestEvent ? "request-event" : "update-ppr",
            (p, v) => v switch { "request-event" => p with { TprBelowThresholdExit = TprBelowThresholdExit.RequestEvent }, "update-ppr" => p with { TprBelowThresholdExit = TprBelowThresholdExit.UpdatePpr }, _ => null }),
        Flag("cr8-intercept-on-ppr-update", "apic_update_ppr recomputes the CR8 intercept when no interrupt is deliverable (bb365a506b1e)", p => p.Cr8InterceptOnPprUpdate, (p, v) => p with { Cr8InterceptOnPprUpdate = v }),
        Ladder("apic-access-page", "vmx_set_apic_access_page_addr (KVM_REQ_APIC_PAGE_RELOAD) while L2 is active", AllRungs, p => p.ApicAccessPage, (p, v) => p with { ApicAccessPage = v }),
        Ladder("cpu-dirty-logging", "vmx_update_cpu_dirty_logging (PML) while L2 is active", FlagRungs, p => p.CpuDirtyLogging, (p, v) => p with { CpuDirtyLogging = v }),
        new Switch("mode-change-tlb-flush", "the TLB flush of a switch to xAPIC while L2 is active: flush-current (KVM_REQ_TLB_FLUSH_CURRENT) or flush-l1-context (249cc1ab4b9a)",
            ["flush-current", "flush-l1-context"], p => p.ModeChangeFlush == ModeChangeFlush.FlushCurrent ? "flush-current" : "flush-l1-context",
            (p, v) => v switch { "flush-current" => p with { ModeChangeFlush = ModeChangeFlush.FlushCurrent }, "flush-l1-context" => p with { ModeChangeFlush = ModeChangeFlush.FlushL1Context }, _ => null }),
    ];
}
