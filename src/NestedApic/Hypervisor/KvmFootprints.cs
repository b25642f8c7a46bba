using System.Runtime.InteropServices;
using NestedApic.Checking.Reduction;

namespace NestedApic.Hypervisor;

/// <summary>
/// What each KVM event may read and write, for partial-order reduction (Checking/Reduction).
/// Components: bit v is vCPU v's whole <see cref="VcpuState"/>; then the VM-wide fields
/// (inhibit mask, APIC-access page, dirty-logging count); then one bit per event budget counter.
/// Agents: the vCPUs, and one more for the VM-wide events (dirty logging, APIC page migration).
/// Derived from the Apply code of each event (KvmCommon, X86, the vendors' models); when unsure
/// a footprint names more. An event this table does not know touches everything, so new events
/// are explored in full until someone gives them a footprint.
/// </summary>
public static class KvmFootprints
{
    public const int Inhibits = KvmState.MaxVcpus, ApicAccessPage = KvmState.MaxVcpus + 1, DirtyLogging = KvmState.MaxVcpus + 2;
    public const int UsedBase = 8;

    const ulong AllVcpus = (1UL << KvmState.MaxVcpus) - 1;
    /// <summary>The VM-wide fields a vCPU's KVM code may read (ApicvShouldBeActive,
    /// set_apic_access_page_addr, update_cpu_dirty_logging, init_vmcs).</summary>
    const ulong KernelReads = 1UL << Inhibits | 1UL << ApicAccessPage | 1UL << DirtyLogging;

    static ulong Vcpu(int v) => 1UL << v;
    static ulong Used(EventKind k) => k.IsBounded() ? 1UL << (UsedBase + (int)k) : 0;

    /// <summary>The budget counters: they only grow, and a guard only compares them with the budget.</summary>
    public const ulong BudgetCounters = ((1UL << KvmState.EventKinds) - 1) << UsedBase;

    public static bool IsVmWide(EventKind k) => k is EventKind.DirtyLogging or EventKind.ApicPageMigrate;

    public static int AgentOf(KvmConfig c, in KvmStep step) => IsVmWide(step.Kind) ? c.Vcpus : step.Vcpu;

    /// <summary>The footprint of <paramref name="kind"/> on vCPU <paramref name="v"/> aimed at
    /// vCPU <paramref name="target"/> (-1: any target).</summary>
    public static Footprint Of(KvmConfig c, EventKind kind, int v, int target)
    {
        ulong own = Vcpu(v), used = Used(kind);
        ulong other = target < 0 ? AllVcpus : Vcpu(target);
        bool amd = c.Vendor == CpuVendor.Amd;
        // Nothing but the vCPU itself, reading the VM-wide fields its KVM code consults.
        var local = new Footprint(own | used | KernelReads, own | used);
        switch (kind)
        {
            case EventKind.CreateVcpu:
                // the guard reads vCPU v-1's life; the RESET rebuilds the APIC map (every vCPU, the
                // inhibit), and kvm_amd's vcpu_create may set the VM-wide NESTED inhibit (5.18)
                return Footprint.ReadWrite(AllVcpus | used | 1UL << Inhibits) | local;
            case EventKind.SetLapic:
                // a restored xAPIC ID or mode rebuilds the APIC map: the APIC_ID_MODIFIED inhibit
                // may flip and request an update on every vCPU
                return Footprint.ReadWrite(AllVcpus | used | 1UL << Inhibits) | local;
            case EventKind.SetCpuid:
                // kvm_amd's vcpu_after_set_cpuid may set the VM-wide NESTED inhibit (5.18)
                return amd ? Footprint.ReadWrite(AllVcpus | used | 1UL << Inhibits) | local : local;
            case EventKind.PublishVcpu:
            case EventKind.VmxOperation:
            case EventKind.KvmRun:
            case EventKind.ExitToUserspace:
            case EventKind.SetNestedState:
            case EventKind.VmLaunch:
            case EventKind.Eoi:
            case EventKind.Sti:
            case EventKind.Cr8Write:
            case EventKind.ApicMmioAccess:
            case EventKind.GuestWrite:
            case EventKind.Vmcall:
            case EventKind.VectoringExit:
            case EventKind.Hlt:
            case EventKind.ServiceRequest:      // an INIT it accepts rebuilds the APIC map from unchanged IDs and modes: no flip
            case EventKind.VmEnter:             // on AMD, VMRUN evaluates only its own core's backing page
            case EventKind.Notification:
            case EventKind.NestedNotification:
            case EventKind.VirtualInterrupt:
            case EventKind.L2VirtualInterrupt:
            case EventKind.ApicvRefresh:
            case EventKind.Unblock:
                return local;
            case EventKind.GuestDebugBlockIrq:  // the inhibit reads every vCPU's flag; a flip requests on all
            case EventKind.SynicAutoEoi:
            case EventKind.ApicIdWrite:         // kvm_recalculate_apic_map reads every vCPU
            case EventKind.ApicModeSwitch:
                return Footprint.ReadWrite(AllVcpus | used | 1UL << Inhibits) | local;
            case EventKind.SendIpi:
                // AMD: the AVIC IPI and doorbell run on the whole machine (every physical ID entry)
                return amd ? Footprint.ReadWrite(AllVcpus | used) | local : Footprint.ReadWrite(other) | local;
            case EventKind.PostToL2:
            case EventKind.InitSignal:
                return Footprint.ReadWrite(other) | local;
            case EventKind.DeviceIrq:           // IOMMU posting through the AVIC machine
            case EventKind.AvicIncompleteIpi:   // kicks the destination recorded in the exit
                return Footprint.ReadWrite(AllVcpus | used) | local;
            case EventKind.DirtyLogging:        // the count, then a request on every vCPU
                return Footprint.ReadWrite(AllVcpus | used | 1UL << DirtyLogging);
            case EventKind.ApicPageMigrate:
                return Footprint.ReadWrite(AllVcpus | used | 1UL << ApicAccessPage);
            default:
                return Footprint.All;
        }
    }

    public static Footprint Step(KvmConfig c, in KvmStep step) =>
        Of(c, step.Kind, step.Vcpu, step.Kind is EventKind.SendIpi or EventKind.PostToL2 or EventKind.InitSignal ? step.Arg : -1);

    /// <summary>Every event agent <paramref name="agent"/> may still perform from
    /// <paramref name="s"/>: budgets never grow back, and a vCPU is created and published once.</summary>
    public static Footprint Future(KvmConfig c, in KvmState s, int agent)
    {
        var fp = Footprint.None;
        bool vm = agent == c.Vcpus;
        var life = vm ? VcpuLife.Visible : s.Vcpus[agent].Life;
        bool userspace = vm || UserspaceReachable(c, s, agent);
        for (var k = (EventKind)0; k < EventKind.Count; k++)
        {
            if (IsVmWide(k) != vm || !k.AppliesTo(c.Vendor)) continue;
            if (!userspace && IsIoctl(k)) continue;
            if (k.IsBounded() && k != EventKind.PublishVcpu && s.Used[(int)k] >= c.Budget[(int)k]) continue;
            if (k == EventKind.CreateVcpu && life != VcpuLife.Absent) continue;
            if (k == EventKind.PublishVcpu && life == VcpuLife.Visible) continue;
            fp |= Table[(int)c.Vendor, vm ? 0 : agent, (int)k];
        }
        return fp;
    }

    /// <summary>Of(kind, v, any target) for each vendor, vCPU and kind: Future runs once per agent
    /// in every state the search expands.</summary>
    static readonly Footprint[,,] Table = BuildTable();

    static Footprint[,,] BuildTable()
    {
        var t = new Footprint[2, KvmState.MaxVcpus, (int)EventKind.Count];
        foreach (var vendor in new[] { CpuVendor.Intel, CpuVendor.Amd })
        {
            var c = new KvmConfig { Policy = Policies.Presets[0], Vendor = vendor };
            for (int v = 0; v < KvmState.MaxVcpus; v++)
                for (var k = (EventKind)0; k < EventKind.Count; k++) t[(int)vendor, v, (int)k] = Of(c, k, v, -1);
        }
        return t;
    }

    /// <summary>The components whose fields differ between two states; every bit when the states
    /// differ in a field this map does not know (a field added to KvmState without a component).</summary>
    public static ulong Changed(in KvmState a, in KvmState b)
    {
        ulong changed = 0;
        for (int v = 0; v < KvmState.MaxVcpus; v++)
            if (!Same(a.Vcpus[v], b.Vcpus[v])) changed |= Vcpu(v);
        if (a.Inhibits != b.Inhibits) changed |= 1UL << Inhibits;
        if (a.ApicAccessPage != b.ApicAccessPage) changed |= 1UL << ApicAccessPage;
        if (a.DirtyLogging != b.DirtyLogging) changed |= 1UL << DirtyLogging;
        for (int k = 0; k < KvmState.EventKinds; k++)
            if (a.Used[k] != b.Used[k]) changed |= 1UL << (UsedBase + k);
        return changed == 0 && !Same(a, b) ? ulong.MaxValue : changed;
    }

    static bool Same<T>(in T a, in T b) where T : unmanaged =>
        MemoryMarshal.AsBytes(MemoryMarshal.CreateReadOnlySpan(in a, 1)).SequenceEqual(MemoryMarshal.AsBytes(MemoryMarshal.CreateReadOnlySpan(in b, 1)));

    /// <summary>The vCPU ioctls: only a vCPU in userspace issues them (KvmCommon.UserspaceSteps).</summary>
    static bool IsIoctl(EventKind k) => k is EventKind.KvmRun or EventKind.SetNestedState or EventKind.GuestDebugBlockIrq
        or EventKind.SynicAutoEoi or EventKind.SetLapic;

    /// <summary>Whether vCPU v may be in userspace again: it is there (or not yet created), it may
    /// still exit to userspace, or a failed vmcs01 entry may send it there; that failure breaks
    /// kvm-caused-vmentry-failure, and the search stops at a violation, so when the property is
    /// checked no step after it matters.</summary>
    static bool UserspaceReachable(KvmConfig c, in KvmState s, int v) =>
        s.Vcpus[v].Life != VcpuLife.Visible || s.Vcpus[v].Phase == VcpuPhase.Userspace
        || s.Used[(int)EventKind.ExitToUserspace] < c.Budget[(int)EventKind.ExitToUserspace]
        || (c.CheckedProperties & 1u << (int)Property.KvmCausedVmentryFailure) == 0;

    /// <summary>On Intel every property of vCPU v reads v's state and the APIC-access page; on AMD
    /// irr-pending-hint-lost reads the other vCPUs' incomplete IPIs, so one scope holds all.</summary>
    public static int Scopes(KvmConfig c) => c.Vendor == CpuVendor.Amd ? 1 : c.Vcpus;

    public static ulong Scope(KvmConfig c, int i) =>
        c.Vendor == CpuVendor.Amd ? ulong.MaxValue : Vcpu(i) | 1UL << ApicAccessPage;
}
