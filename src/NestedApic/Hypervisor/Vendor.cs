using NestedApic.Hypervisor.Svm;
using NestedApic.Hypervisor.Vmx;

namespace NestedApic.Hypervisor;

/// <summary>The CPU vendor, i.e. which KVM module (kvm_intel or kvm_amd) drives the VM.</summary>
public enum CpuVendor : byte { Intel = 0, Amd = 1 }

/// <summary>
/// The vendor hooks the common code calls, as kvm_x86_ops dispatches to vmx.c or svm.c. Each
/// member names the kvm_x86_ops callback it stands for.
/// </summary>
public static class Vendor
{
    public static string Name(this CpuVendor v) => v == CpuVendor.Amd ? "amd" : "intel";

    /// <summary>required_apicv_inhibits: reasons outside the vendor's set are dropped.</summary>
    public static ushort RequiredInhibits(KvmConfig c) =>
        c.Vendor == CpuVendor.Amd ? ApicvInhibits.SvmRequired : ApicvInhibits.VmxRequired;

    /// <summary>vcpu_get_apicv_inhibit_reasons: whether a per-vCPU reason holds (AVIC: L2 active).</summary>
    public static bool VcpuInhibited(in KvmState s, KvmConfig c, int v) =>
        c.Vendor == CpuVendor.Amd && Avic.VcpuGetApicvInhibitReasons(s, c, v);

    /// <summary>refresh_apicv_exec_ctrl.</summary>
    public static void RefreshApicvExecCtrl(ref KvmState s, KvmConfig c, int v)
    {
        if (c.Vendor == CpuVendor.Amd) Avic.RefreshApicvExecCtrl(ref s, c, v);
        else VmxOps.RefreshApicvExecCtrl(ref s, c, v);
    }

    /// <summary>hwapic_isr_update (SVM has none: the backing page is the APIC page).</summary>
    public static void HwapicIsrUpdate(ref KvmState s, KvmConfig c, int v, int maxIsr)
    {
        if (c.Vendor == CpuVendor.Intel) VmxOps.HwapicIsrUpdate(ref s, c, v, maxIsr);
    }

    /// <summary>flush_tlb_current (only VMX's L1 APIC-page translation is modelled).</summary>
    public static void FlushTlbCurrent(ref VcpuState vc, KvmConfig c)
    {
        if (c.Vendor == CpuVendor.Intel) VmxOps.FlushTlbCurrent(ref vc);
        else vc.Requests &= ~KvmRequest.TlbFlushCurrent;
    }

    /// <summary>set_apic_access_page_addr (VMX only; AVIC has no APIC-access page in the model).</summary>
    public static void SetApicAccessPageAddr(ref KvmState s, KvmConfig c, int v)
    {
        if (c.Vendor == CpuVendor.Intel) VmxOps.SetApicAccessPageAddr(ref s, c, v);
    }

    /// <summary>KVM_REQ_UPDATE_CPU_DIRTY_LOGGING: vmx_update_cpu_dirty_logging on VMX; on SVM the
    /// AMD PML series' common kvm_vcpu_update_cpu_dirty_logging (nothing without PML).</summary>
    public static void UpdateCpuDirtyLogging(ref KvmState s, KvmConfig c, int v)
    {
        if (c.Vendor == CpuVendor.Intel && !c.Policy.CommonDirtyLoggingDeferral) VmxOps.UpdateCpuDirtyLogging(ref s, c, v);
        else KvmDirtyLogging.VcpuUpdateCpuDirtyLogging(ref s, c, v);
    }

    /// <summary>vcpu_after_set_cpuid (KVM_SET_CPUID2).</summary>
    public static void VcpuAfterSetCpuid(ref KvmState s, KvmConfig c, int v)
    {
        if (c.Vendor == CpuVendor.Amd) SvmPmlOps.VcpuAfterSetCpuid(ref s, c, v);
        else VmxOps.VcpuAfterSetCpuid(ref s, c, v);
    }

    /// <summary>update_cr8_intercept: TPR_THRESHOLD on VMX; SVM's CR8-write intercept is not modelled.</summary>
    public static void UpdateCr8Intercept(ref KvmState s, KvmConfig c, int v, int tpr, int irr)
    {
        if (c.Vendor == CpuVendor.Intel) VmxOps.UpdateCr8Intercept(ref s, c, v, tpr, irr);
    }

    /// <summary>set_virtual_apic_mode (SVM: avic_refresh_virtual_apic_mode).</summary>
    public static void SetVirtualApicMode(ref KvmState s, KvmConfig c, int v)
    {
        if (c.Vendor == CpuVendor.Amd) Avic.RefreshVirtualApicMode(ref s, c, v);
        else VmxOps.SetVirtualApicMode(ref s, c, v);
    }

    /// <summary>deliver_interrupt: false when the caller must set IRR and kick (VMX without APICv).</summary>
    public static bool DeliverInterrupt(ref KvmState s, KvmConfig c, int v, byte vector) =>
        c.Vendor == CpuVendor.Amd ? SvmOps.DeliverInterrupt(ref s, c, v, vector) : VmxOps.DeliverPostedInterrupt(ref s, c, v, vector);

    /// <summary>vcpu_create: the vendor's part of KVM_CREATE_VCPU.</summary>
    public static void VcpuCreate(ref KvmState s, KvmConfig c, int v)
    {
        if (c.Vendor == CpuVendor.Amd) SvmOps.VcpuCreate(ref s, c, v);
        else VmxOps.VcpuCreate(ref s, c, v);
    }

    /// <summary>nested_ops->check_events, the interrupt part.</summary>
    public static void CheckNestedEvents(ref KvmState s, KvmConfig c, int v)
    {
        if (c.Vendor == CpuVendor.Amd) SvmNested.CheckNestedEvents(ref s, c, v);
        else Nested.CheckNestedEvents(ref s, c, v);
    }

    /// <summary>Whether L1's EOI write completes in hardware (VMX EOI virtualization, AVIC's
    /// accelerated edge EOI) rather than exiting to KVM.</summary>
    public static bool EoiAccelerated(in VcpuState vc, KvmConfig c) =>
        c.Vendor == CpuVendor.Amd ? SvmHw.EoiAccelerated(vc) : Hw.EoiVirtualized(vc);

    public static void HardwareEoi(ref VcpuState vc, KvmConfig c)
    {
        if (c.Vendor == CpuVendor.Amd) SvmHw.AcceleratedEoi(ref vc);
        else Hw.EoiVirtualization(ref vc);
    }

    /// <summary>kvm_apic_update_apicv's irr_pending, tracked on AMD only (on VMX KVM never lets
    /// the hint go stale while hardware can write IRR, so the model does not carry it).</summary>
    public static void ApicUpdateApicv(ref KvmState s, KvmConfig c, int v)
    {
        if (c.Vendor == CpuVendor.Amd) Avic.ApicUpdateApicv(ref s, c, v);
    }

    /// <summary>apic_clear_irr: without APICv, irr_pending is recomputed from IRR (AMD only, as above).</summary>
    public static void ClearIrr(ref KvmState s, KvmConfig c, int v)
    {
        ref var vc = ref s.Vcpus[v];
        if (c.Vendor == CpuVendor.Amd && !vc.ApicvActive) vc.Svm.IrrNotPending = vc.Apic.Irr.IsEmpty;
    }
}
