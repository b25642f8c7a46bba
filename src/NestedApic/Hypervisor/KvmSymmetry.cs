using System.Runtime.InteropServices;
using NestedApic.Hypervisor.Svm;

namespace NestedApic.Hypervisor;

/// <summary>
/// Symmetry reduction for the KVM model: once every vCPU is published, KVM treats them alike (no
/// guard, request or property names a vCPU by its index), so states that differ only by a
/// renaming of vCPUs are explored once. Steps rename their vCPU and their target vCPU (IPI, INIT,
/// posting to L2); the VM-wide events stay in vCPU 0's lane. On Intel no part names another vCPU
/// and the canonical state sorts the vCPUs' parts by their bytes; on AMD the physical APIC ID
/// entries, the pCPUs' host APIC IDs and the incomplete IPIs' destinations name vCPUs and are
/// renamed with them (Svm/SvmSymmetry.cs). Not applied while a vCPU is unpublished (creation goes
/// in index order), or where a universe allows an event this class does not know (it may name a
/// vCPU).
/// </summary>
public static class KvmSymmetry
{
    /// <summary>The events whose only vCPU references are the step's vCPU and target.</summary>
    static readonly EventKind[] Known =
    [
        EventKind.CreateVcpu, EventKind.PublishVcpu, EventKind.KvmRun, EventKind.ExitToUserspace, EventKind.SetNestedState,
        EventKind.GuestDebugBlockIrq, EventKind.SynicAutoEoi, EventKind.SetLapic, EventKind.VmLaunch, EventKind.ApicIdWrite,
        EventKind.ApicModeSwitch, EventKind.SendIpi, EventKind.PostToL2, EventKind.Eoi, EventKind.Sti, EventKind.Cr8Write,
        EventKind.ApicMmioAccess, EventKind.GuestWrite, EventKind.InitSignal, EventKind.Vmcall, EventKind.DirtyLogging,
        EventKind.ApicPageMigrate, EventKind.VectoringExit, EventKind.ServiceRequest, EventKind.VmEnter,
        EventKind.Notification, EventKind.NestedNotification, EventKind.VirtualInterrupt, EventKind.L2VirtualInterrupt,
        EventKind.SetCpuid, EventKind.VmxOperation,
        // AMD: HLT and its wake-up, the IOMMU's interrupt for the step's own vCPU, and KVM's
        // handling of its own vCPU's AVIC exits; what they name is renamed by SvmSymmetry.
        EventKind.Hlt, EventKind.Unblock, EventKind.DeviceIrq, EventKind.AvicIncompleteIpi, EventKind.ApicvRefresh,
    ];

    /// <summary>Whether the configuration's vCPUs are interchangeable once published.</summary>
    public static bool Applies(KvmConfig c)
    {
        if (c.Vcpus < 2) return false;
        for (var k = (EventKind)0; k < EventKind.Count; k++)
            if (k.AppliesTo(c.Vendor) && (!k.IsBounded() || c.Budget[(int)k] > 0) && Array.IndexOf(Known, k) < 0) return false;
        return true;
    }

    static bool TargetsVcpu(EventKind k) => k is EventKind.SendIpi or EventKind.PostToL2 or EventKind.InitSignal;

    public static KvmStep Permute(in KvmStep step, ReadOnlySpan<byte> perm)
    {
        var p = step;
        if (KvmFootprints.IsVmWide(p.Kind)) return p;
        p.Vcpu = perm[p.Vcpu];
        if (TargetsVcpu(p.Kind)) p.Arg = perm[p.Arg];
        return p;
    }

    /// <summary>The state with vCPU i's part moved to index perm[i], and what its AMD part
    /// names renamed with it (SvmSymmetry.Rename; nothing on Intel).</summary>
    public static KvmState PermuteState(in KvmState s, int vcpus, ReadOnlySpan<byte> perm)
    {
        var r = s;
        PermuteInPlace(ref r, vcpus, perm);
        return r;
    }

    /// <summary>PermuteState without copying the rest of the state (the search's hot path).</summary>
    public static void PermuteInPlace(ref KvmState s, int vcpus, ReadOnlySpan<byte> perm)
    {
        Span<VcpuState> parts = stackalloc VcpuState[KvmState.MaxVcpus];
        for (int i = 0; i < vcpus; i++) parts[i] = s.Vcpus[i];
        for (int i = 0; i < vcpus; i++)
        {
            s.Vcpus[perm[i]] = parts[i];
            SvmSymmetry.Rename(ref s.Vcpus[perm[i]].Svm, i, perm, vcpus);
        }
    }

    /// <summary>Sorts the vCPUs' parts (insertion sort: at most four) and reports the renaming;
    /// on AMD, SvmSymmetry.Canonicalize.</summary>
    public static void Canonicalize(bool applies, int vcpus, ref KvmState s, Span<byte> perm, CpuVendor vendor = CpuVendor.Intel)
    {
        for (int i = 0; i < vcpus; i++) perm[i] = (byte)i;
        if (!applies) return;
        for (int i = 0; i < vcpus; i++)
            if (s.Vcpus[i].Life != VcpuLife.Visible) return;
        if (vendor == CpuVendor.Amd) { SvmSymmetry.Canonicalize(vcpus, ref s, perm); return; }
        Span<byte> order = stackalloc byte[KvmState.MaxVcpus]; // order[j] = the old index at new place j
        for (int i = 0; i < vcpus; i++)
        {
            int j = i;
            while (j > 0 && Compare(s.Vcpus[order[j - 1]], s.Vcpus[i]) > 0) { order[j] = order[j - 1]; j--; }
            order[j] = (byte)i;
        }
        bool identity = true;
        for (int j = 0; j < vcpus; j++) { perm[order[j]] = (byte)j; identity &= order[j] == j; }
        if (!identity) PermuteInPlace(ref s, vcpus, perm);
    }

    static int Compare(in VcpuState a, in VcpuState b) =>
        MemoryMarshal.AsBytes(MemoryMarshal.CreateReadOnlySpan(in a, 1)).SequenceCompareTo(MemoryMarshal.AsBytes(MemoryMarshal.CreateReadOnlySpan(in b, 1)));
}
