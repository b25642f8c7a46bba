using NestedApic.Hardware.Vmx;

namespace NestedApic.Hypervisor.Vmx;

/// <summary>
/// The other vmcs01 fields KVM must change while vmcs02 may be loaded (the 2025-26 series 2bf889a68fba .. 249cc1ab4b9a):
/// virtual APIC mode with its TLB flush, TPR_THRESHOLD, APIC_ACCESS_ADDR and PML. Each follows
/// its own rung of the ladder in the policy.
/// </summary>
public static partial class VmxOps
{
    /// <summary>mirrors vmx_set_virtual_apic_mode: APIC-access virtualization for xAPIC with
    /// flexpriority (plus KVM_REQ_APIC_PAGE_RELOAD and a flush: L1 may have cached a non-APIC
    /// translation of the page meanwhile), x2APIC virtualization for x2APIC, nothing while the
    /// APIC is disabled.</summary>
    public static void SetVirtualApicMode(ref KvmState s, KvmConfig c, int v)
    {
        ref var vc = ref s.Vcpus[v];
        ref var target = ref Vmcs01Target(ref vc, c.Policy.VirtualApicMode, DeferredUpdate.VirtualApicMode, out bool deferred);
        if (deferred) return;
        uint mode = ModeControls(c, vc.ApicMode);
        target.Secondary = (target.Secondary & ~ModeSecondary) | mode;
        if ((mode & SecondaryControls.VirtualizeApicAccesses) == 0) return;
        vc.Requests |= KvmRequest.ApicPageReload;
        // 249cc1ab4b9a: with L2 active the current context is L2's, so L1's is flushed directly.
        if (vc.GuestMode && c.Policy.VirtualApicMode == Vmcs01Update.OnDemandVmcs01 && c.Policy.ModeChangeFlush == ModeChangeFlush.FlushL1Context)
            vc.L1TlbApicStale = false;
        else vc.Requests |= KvmRequest.TlbFlushCurrent;
    }

    /// <summary>mirrors kvm_vcpu_flush_tlb_current (via kvm_service_local_tlb_flush_requests): the
    /// context of the level that is active; L2's holds nothing the model tracks.</summary>
    public static void FlushTlbCurrent(ref VcpuState vc)
    {
        vc.Requests &= ~KvmRequest.TlbFlushCurrent;
        if (!vc.GuestMode) vc.L1TlbApicStale = false;
    }

    /// <summary>mirrors vmx_update_cr8_intercept: TPR_THRESHOLD := (irr == -1 || tpr &lt; irr) ? 0 :
    /// irr in priority classes. With L2 active and TPR shadow in vmcs12 the threshold is L1's
    /// business; otherwise it is vmcs01's, deferred in l1_tpr_threshold (2019) or written on
    /// demand (51ca2746078e), or, before 2019, written into whatever VMCS is loaded.</summary>
    public static void UpdateCr8Intercept(ref KvmState s, KvmConfig c, int v, int tpr, int irr)
    {
        ref var vc = ref s.Vcpus[v];
        if (vc.GuestMode && (c.Vmcs12s[vc.Vmcs12].Primary & PrimaryControls.UseTprShadow) != 0) return;
        uint threshold = irr == -1 || tpr < irr ? 0u : (uint)irr;
        if (!vc.GuestMode || c.Policy.TprThreshold == Vmcs01Update.OnDemandVmcs01) vc.Vmcs01.TprThreshold = threshold;
        else if (c.Policy.TprThreshold == Vmcs01Update.WriteCurrentVmcs) vc.Vmcs02.TprThreshold = threshold;
        else vc.L1TprThreshold = (sbyte)threshold;
    }

    /// <summary>mirrors vmx_set_apic_access_page_addr (KVM_REQ_APIC_PAGE_RELOAD): when the VMCS it
    /// reads virtualizes APIC accesses, point APIC_ACCESS_ADDR at the page that backs it now (5.17
    /// also flushes the current TLB context). Before 51c821d6d0ba, with L2 active it only sets
    /// reload_vmcs01_apic_access_page.</summary>
    public static void SetApicAccessPageAddr(ref KvmState s, KvmConfig c, int v)
    {
        ref var vc = ref s.Vcpus[v];
        ref var target = ref Vmcs01Target(ref vc, c.Policy.ApicAccessPage, DeferredUpdate.ApicAccessPage, out bool deferred);
        if (deferred || !target.VirtualizesApicAccesses) return;
        target.ApicAccessPage = (byte)(s.ApicAccessPage + 1);
        if (c.Policy.ApicAccessPageFlushesTlb && !vc.GuestMode) vc.L1TlbApicStale = false; // 5.17: vmx_flush_tlb_current
    }

    /// <summary>mirrors vmx_update_cpu_dirty_logging (KVM_REQ_UPDATE_CPU_DIRTY_LOGGING):
    /// SEC.ENABLE_PML := nr_memslots_dirty_logging != 0.</summary>
    public static void UpdateCpuDirtyLogging(ref KvmState s, KvmConfig c, int v)
    {
        ref var vc = ref s.Vcpus[v];
        ref var target = ref Vmcs01Target(ref vc, c.Policy.CpuDirtyLogging, DeferredUpdate.CpuDirtyLogging, out bool deferred);
        if (deferred) return;
        SetPml(ref target, s.DirtyLogging);
    }

    /// <summary>secondary_exec_controls_setbit/clearbit(SECONDARY_EXEC_ENABLE_PML) on <paramref name="vmcs"/>.</summary>
    public static void SetPml(ref Vmcs vmcs, bool enable) =>
        vmcs.Secondary = enable ? vmcs.Secondary | SecondaryControls.EnablePml : vmcs.Secondary & ~SecondaryControls.EnablePml;
}
