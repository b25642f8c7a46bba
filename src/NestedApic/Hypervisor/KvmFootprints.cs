using System.Runtime.InteropServices;
using NestedApic.Checking.Reduction;

namespace NestedApic.Hypervisor;

/// <summary>
/// What each KVM event may read and write, for partial-order reduction (Checking/Reduction).
/// Components: per vCPU v four disjoint parts of its <see cref="VcpuState"/>: its life (Life),
/// its APIC map entry (ApicMode, ApicIdModified), the inhibit flags it holds (BlockIrq, AutoEoi),
/// and the rest (Core: phase, requests, APIC, VMCSs...); then the VM-wide fields: the inhibit
/// reasons, whether APICv is activated (the reasons are zero: all a vCPU's KVM code reads of
/// them, kvm_apicv_activated), the APIC-access page and the dirty-logging count; then one bit
/// per event budget counter. Other vCPUs' steps touch a vCPU's map entry and flags only to
/// rebuild a VM-wide inhibit, and its core only through an IPI, INIT or the kick of
/// kvm_make_all_cpus_request. Agents: the vCPUs, and one more for the VM-wide events (dirty
/// logging, APIC page migration). Derived from the Apply code of each event (KvmCommon, X86, the
/// vendors' models); when unsure a footprint names more. On AMD every footprint is widened to
/// whole vCPUs and both inhibit components (<see cref="Coarse"/>). An event this table does not
/// know touches everything, so new events are explored in full until someone gives them one.
/// </summary>
public static class KvmFootprints
{
    public const int Reasons = KvmState.MaxVcpus, ApicAccessPage = KvmState.MaxVcpus + 1, DirtyLogging = KvmState.MaxVcpus + 2,
        Activation = KvmState.MaxVcpus + 3;
    public const int UsedBase = 8;
    public const int LifeBase = UsedBase + KvmState.EventKinds, MapBase = LifeBase + KvmState.MaxVcpus, FlagsBase = MapBase + KvmState.MaxVcpus;

    const ulong AllCores = (1UL << KvmState.MaxVcpus) - 1;
    const ulong AllLives = AllCores << LifeBase, AllMaps = AllCores << MapBase, AllFlags = AllCores << FlagsBase;
    const ulong AllVcpus = AllCores | AllLives | AllMaps | AllFlags;
    const ulong Inhibits = 1UL << Reasons | 1UL << Activation;
    /// <summary>The VM-wide fields a vCPU's KVM code may read (kvm_apicv_activated,
    /// set_apic_access_page_addr, update_cpu_dirty_logging, init_vmcs).</summary>
    const ulong KernelReads = 1UL << Activation | 1UL << ApicAccessPage | 1UL << DirtyLogging;

    static ulong Core(int v) => 1UL << v;
    static ulong Whole(int v) => (1UL | 1UL << LifeBase | 1UL << MapBase | 1UL << FlagsBase) << v;
    static ulong Used(EventKind k) => k.IsBounded() ? 1UL << (UsedBase + (int)k) : 0;

    /// <summary>The budget counters: they only grow, and a guard only compares them with the budget.</summary>
    public const ulong BudgetCounters = ((1UL << KvmState.EventKinds) - 1) << UsedBase;

    public static bool IsVmWide(EventKind k) => k is EventKind.DirtyLogging or EventKind.ApicPageMigrate;

    public static int AgentOf(KvmConfig c, in KvmStep step) => IsVmWide(step.Kind) ? c.Vcpus : step.Vcpu;

    /// <summary>
    /// Whether APICv stays inhibited on every path from <paramref name="s"/>, so that no step can
    /// flip kvm_apicv_activated and __kvm_set_or_clear_apicv_inhibit never calls
    /// kvm_make_all_cpus_request(KVM_REQ_APICV_UPDATE): APICv is off for the VM's life
    /// (enable_apicv=0), or an inhibit reason is set that nothing left can clear: in this model
    /// BLOCKIRQ and HYPERV change only with the event that sets them (KVM_SET_GUEST_DEBUG:
    /// kvm_arch_vcpu_guestdbg_update_apicv_inhibit; the SynIC SINT write: synic_update_vector),
    /// whose budget is spent; APIC_ID_MODIFIED before d471bd853d38 is never cleared. Once true it
    /// stays true (KvmFootprintTests checks both on its walks). Intel only: kvm_amd's model also
    /// sets and clears its NESTED and per-vCPU reasons elsewhere.
    /// </summary>
    public static bool InhibitPinned(KvmConfig c, in KvmState s)
    {
        if (c.Vendor != CpuVendor.Intel) return false;
        if (!c.EnableApicv) return true;
        return Spent(c, s, ApicvInhibit.BlockIrq, EventKind.GuestDebugBlockIrq)
            || Spent(c, s, ApicvInhibit.HyperV, EventKind.SynicAutoEoi)
            || (c.Policy.ApicIdInhibit == ApicIdInhibitMode.Sticky && (s.Inhibits & ApicvInhibit.ApicIdModified.Bit()) != 0);
    }

    static bool Spent(KvmConfig c, in KvmState s, ApicvInhibit reason, EventKind k) =>
        (s.Inhibits & reason.Bit()) != 0 && s.Used[(int)k] >= c.Budget[(int)k];

    /// <summary>The footprint of <paramref name="kind"/> on vCPU <paramref name="v"/> aimed at
    /// vCPU <paramref name="target"/> (-1: any target); <paramref name="pinned"/>: see
    /// <see cref="InhibitPinned"/>.</summary>
    public static Footprint Of(KvmConfig c, EventKind kind, int v, int target, bool pinned = false)
    {
        var fp = Fine(c, kind, v, target, pinned && c.Vendor == CpuVendor.Intel);
        return c.Vendor == CpuVendor.Amd ? Coarse(fp) : fp;
    }

    static Footprint Fine(KvmConfig c, EventKind kind, int v, int target, bool pinned)
    {
        ulong own = Whole(v), used = Used(kind);
        ulong other = target < 0 ? AllVcpus : Whole(target);
        bool amd = c.Vendor == CpuVendor.Amd;
        // Nothing but the vCPU itself, reading the VM-wide fields its KVM code consults; its map
        // entry, flags and life are written only by the events below that name them. Whether a
        // vCPU's event is enabled, and with which arguments, depends on its own parts and budget
        // (VmxModel.Enabled), and for an IPI, INIT or post on the targets' lives (and vmcs12).
        var local = new Footprint(own | used | KernelReads, Core(v) | used, own | used);
        // An inhibit reason rebuilt from every vCPU's part (kvm_recalculate_apic_map reads the
        // lives and map entries, the BLOCKIRQ and HYPERV updates the flags); a flip of
        // kvm_apicv_activated requests an update on every visible vCPU and kicks it.
        Footprint Inhibit(ulong part) => pinned
            ? new Footprint(part | AllLives | 1UL << Reasons, (part & own) | 1UL << Reasons, 0) | local
            : new Footprint(part | AllLives | AllCores | Inhibits, (part & own) | Inhibits | AllCores, 0) | local;
        switch (kind)
        {
            case EventKind.CreateVcpu:
                // the guard reads vCPU v-1's life; the RESET rebuilds the APIC map (every vCPU, the
                // inhibit), and kvm_amd's vcpu_create may set the VM-wide NESTED inhibit (5.18)
                return Footprint.ReadWrite(AllVcpus | used | Inhibits) | local;
            case EventKind.PublishVcpu:
                return local | new Footprint(0, own & AllLives);
            case EventKind.SetLapic:
                // a restored xAPIC ID or mode rebuilds the APIC map: the APIC_ID_MODIFIED inhibit
                // may flip and request an update on every vCPU
                return Footprint.ReadWrite(AllVcpus | used | Inhibits) | local;
            case EventKind.SetCpuid:
                // kvm_amd's vcpu_after_set_cpuid may set the VM-wide NESTED inhibit (5.18)
                return amd ? Footprint.ReadWrite(AllVcpus | used | Inhibits) | local : local;
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
            case EventKind.GuestDebugBlockIrq:
            case EventKind.SynicAutoEoi:
                return Inhibit(AllFlags);
            case EventKind.ApicIdWrite:         // kvm_recalculate_apic_map
            case EventKind.ApicModeSwitch:      // the same, and an APICv update request on its own vCPU
                return Inhibit(AllMaps);
            case EventKind.SendIpi:
                // AMD: the AVIC IPI and doorbell run on the whole machine (every physical ID entry)
                return amd ? Footprint.ReadWrite(AllVcpus | used) | local : Aimed(other) | local;
            case EventKind.PostToL2:
            case EventKind.InitSignal:
                return Aimed(other) | local;
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

    /// <summary>An interrupt or INIT sent to the vCPUs of <paramref name="targets"/>:
    /// kvm_apic_accept_irq reads the target's life and APIC mode, and posts, sets IRR or latches
    /// the INIT and kicks in its core.</summary>
    static Footprint Aimed(ulong targets) => new(targets & ~AllFlags, targets & AllCores, targets & (AllLives | AllCores));

    /// <summary>Each vCPU's parts as one, and the inhibit reasons with the activation; every read
    /// a guard (kvm_amd's model is not split finer).</summary>
    static Footprint Coarse(Footprint f) => new(Widen(f.Reads), Widen(f.Writes));

    static ulong Widen(ulong bits)
    {
        if ((bits & Inhibits) != 0) bits |= Inhibits;
        for (int v = 0; v < KvmState.MaxVcpus; v++)
            if ((bits & Whole(v)) != 0) bits |= Whole(v);
        return bits;
    }

    public static Footprint Step(KvmConfig c, in KvmState s, in KvmStep step) =>
        Of(c, step.Kind, step.Vcpu, step.Kind is EventKind.SendIpi or EventKind.PostToL2 or EventKind.InitSignal ? step.Arg : -1,
            IsInhibitUpdate(step.Kind) && InhibitPinned(c, s));

    static bool IsInhibitUpdate(EventKind k) => k is EventKind.GuestDebugBlockIrq or EventKind.SynicAutoEoi
        or EventKind.ApicIdWrite or EventKind.ApicModeSwitch;

    /// <summary>Every event agent <paramref name="agent"/> may still perform from
    /// <paramref name="s"/>: budgets never grow back, and a vCPU is created and published once.</summary>
    public static Footprint Future(KvmConfig c, in KvmState s, int agent)
    {
        var fp = Footprint.None;
        bool vm = agent == c.Vcpus;
        int pinned = InhibitPinned(c, s) ? 1 : 0;
        var life = vm ? VcpuLife.Visible : s.Vcpus[agent].Life;
        bool userspace = vm || UserspaceReachable(c, s, agent);
        int row = TableIndex(c.Vendor, pinned, vm ? 0 : agent, 0);
        foreach (var k in AgentKinds[(int)c.Vendor * 2 + (vm ? 1 : 0)])
        {
            if (!userspace && IsIoctl(k)) continue;
            if (k.IsBounded() && k != EventKind.PublishVcpu && s.Used[(int)k] >= c.Budget[(int)k]) continue;
            if (k == EventKind.CreateVcpu && life != VcpuLife.Absent) continue;
            if (k == EventKind.PublishVcpu && life == VcpuLife.Visible) continue;
            fp |= Table[row + (int)k];
        }
        return fp;
    }

    /// <summary>The event kinds of each vendor's vCPU agents (index vendor * 2) and VM-wide agent
    /// (vendor * 2 + 1).</summary>
    static readonly EventKind[][] AgentKinds =
        [.. from vendor in new[] { CpuVendor.Intel, CpuVendor.Amd } from vm in new[] { false, true }
            select Enumerable.Range(0, (int)EventKind.Count).Select(k => (EventKind)k).Where(k => IsVmWide(k) == vm && k.AppliesTo(vendor)).ToArray()];

    /// <summary>Of(kind, v, any target, pinned) for each vendor, pinning, vCPU and kind, flat (a
    /// rank-4 array's every read went through a helper): Future runs once per agent in every
    /// state the search expands.</summary>
    static readonly Footprint[] Table = BuildTable();

    static int TableIndex(CpuVendor vendor, int pinned, int v, int k) =>
        (((int)vendor * 2 + pinned) * KvmState.MaxVcpus + v) * (int)EventKind.Count + k;

    static Footprint[] BuildTable()
    {
        var t = new Footprint[2 * 2 * KvmState.MaxVcpus * (int)EventKind.Count];
        foreach (var vendor in new[] { CpuVendor.Intel, CpuVendor.Amd })
        {
            var c = new KvmConfig { Policy = Policies.Presets[0], Vendor = vendor };
            for (int pinned = 0; pinned < 2; pinned++)
                for (int v = 0; v < KvmState.MaxVcpus; v++)
                    for (var k = (EventKind)0; k < EventKind.Count; k++) t[TableIndex(vendor, pinned, v, (int)k)] = Of(c, k, v, -1, pinned == 1);
        }
        return t;
    }

    /// <summary>The components whose fields differ between two states; every bit when the states
    /// differ in a field this map does not know (a field added to KvmState without a component).</summary>
    public static ulong Changed(in KvmState a, in KvmState b)
    {
        ulong changed = 0;
        for (int v = 0; v < KvmState.MaxVcpus; v++)
        {
            VcpuState x = a.Vcpus[v], y = b.Vcpus[v];
            if (x.Life != y.Life) changed |= 1UL << (LifeBase + v);
            if (x.ApicMode != y.ApicMode || x.ApicIdModified != y.ApicIdModified) changed |= 1UL << (MapBase + v);
            if (x.BlockIrq != y.BlockIrq || x.AutoEoi != y.AutoEoi) changed |= 1UL << (FlagsBase + v);
            x.Life = y.Life; x.ApicMode = y.ApicMode; x.ApicIdModified = y.ApicIdModified; x.BlockIrq = y.BlockIrq; x.AutoEoi = y.AutoEoi;
            if (!Same(x, y)) changed |= Core(v);
        }
        if (a.Inhibits != b.Inhibits) changed |= 1UL << Reasons;
        if ((a.Inhibits == 0) != (b.Inhibits == 0)) changed |= 1UL << Activation;
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

    /// <summary>On Intel every property of vCPU v reads v's state but its inhibit flags
    /// (VmxModel.Breaks), and the APIC-access page; on AMD irr-pending-hint-lost reads the other
    /// vCPUs' incomplete IPIs, so one scope holds all.</summary>
    public static int Scopes(KvmConfig c) => c.Vendor == CpuVendor.Amd ? 1 : c.Vcpus;

    public static ulong Scope(KvmConfig c, int i) =>
        c.Vendor == CpuVendor.Amd ? ulong.MaxValue : (Whole(i) & ~AllFlags) | 1UL << ApicAccessPage;
}
