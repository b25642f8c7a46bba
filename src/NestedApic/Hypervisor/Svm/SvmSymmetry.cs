using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using NestedApic.Hardware.Svm;

namespace NestedApic.Hypervisor.Svm;

/// <summary>
/// The vCPU references kvm_amd's per-vCPU state holds, for the symmetry reduction (KvmSymmetry).
/// vCPU v's physical APIC ID entry points at backing page v (avic_init_backing_page) and, once
/// loaded, names host APIC ID v (pCPU v runs vCPU v: avic_vcpu_load); a pending
/// AVIC_INCOMPLETE_IPI names its destination's physical APIC ID, which is a vCPU index (KVM's
/// APIC ID is vcpu_id: APIC_ID_MODIFIED inhibits AVIC otherwise). Renaming the vCPUs renames
/// these with them. The AVIC tables themselves (SvmHw) are rebuilt from the per-vCPU parts, and
/// the logical table is empty (IPIs are physical-destination), so nothing else names a vCPU.
/// </summary>
public static class SvmSymmetry
{
    /// <summary>The references in <paramref name="svm"/>, the part of vCPU <paramref name="from"/>,
    /// renamed by <paramref name="perm"/> (an exact renaming: every value that names a vCPU of
    /// the configuration). A part without a valid entry (Intel, or no vCPU) names none.</summary>
    public static void Rename(ref SvmVcpu svm, int from, ReadOnlySpan<byte> perm, int vcpus)
    {
        var e = svm.Entry;
        if (e.Valid)
        {
            if (e.BackingPage == AvicMachine.PageAddress(from)) e.BackingPage = AvicMachine.PageAddress(perm[from]);
            if (e.HostApicId < vcpus) e.HostApicId = perm[e.HostApicId];
            svm.PhysicalIdEntry = e.Value;
        }
        if (svm.HasIncompleteIpi && svm.IncompleteIpiDest < vcpus) svm.IncompleteIpiDest = perm[svm.IncompleteIpiDest];
    }

    /// <summary>The host APIC ID of an entry that is not IsRunning set to 0. The CPU reads the
    /// field only while IsRunning (APM §15.29.3.1; AvicMachine.WriteIcr), and KVM writes it each
    /// time it sets IsRunning (avic_vcpu_load), so it is dead otherwise: a vCPU never loaded
    /// holds 0 there and one put since holds its last pCPU. States differing only in it have the
    /// same futures and verdicts (KvmSymmetryTests checks it); merged, a renaming of a state
    /// whose vCPU 1 never ran does not point at vCPU 0's pCPU.</summary>
    public static void ClearIdleHostIds(ref KvmState s, int vcpus)
    {
        for (int v = 0; v < vcpus; v++)
        {
            ref var svm = ref s.Vcpus[v].Svm;
            var e = svm.Entry;
            if (e.Valid && !e.IsRunning && e.HostApicId != 0)
            {
                e.HostApicId = 0;
                svm.PhysicalIdEntry = e.Value;
            }
        }
    }

    const byte DestSelf = 0xFF, DestOther = 0xFE;

    /// <summary>Where the two fields that may name a vCPU sit in a vCPU's part.</summary>
    static readonly int EntryOffset, DestOffset;

    static SvmSymmetry()
    {
        var vc = default(VcpuState);
        ref byte start = ref Unsafe.As<VcpuState, byte>(ref vc);
        EntryOffset = (int)Unsafe.ByteOffset(ref start, ref Unsafe.As<ulong, byte>(ref vc.Svm.PhysicalIdEntry));
        DestOffset = (int)Unsafe.ByteOffset(ref start, ref vc.Svm.IncompleteIpiDest);
    }

    /// <summary>vCPU <paramref name="v"/>'s entry with its references to itself (its backing page,
    /// its pCPU while running) written as 0, whatever v is. Needs ClearIdleHostIds first.</summary>
    static ulong SelfRelativeEntry(in SvmVcpu svm, int v)
    {
        var e = svm.Entry;
        if (!e.Valid) return e.Value;
        if (e.BackingPage == AvicMachine.PageAddress(v)) e.BackingPage = 0;
        if (e.IsRunning && e.HostApicId == v) e.HostApicId = 0;
        return e.Value;
    }

    /// <summary>A pending incomplete IPI's destination as itself or another vCPU.</summary>
    static byte SelfRelativeDest(in SvmVcpu svm, int v) =>
        !svm.HasIncompleteIpi ? svm.IncompleteIpiDest : svm.IncompleteIpiDest == v ? DestSelf : DestOther;

    /// <summary>Orders vCPU <paramref name="ia"/>'s part <paramref name="a"/> and vCPU
    /// <paramref name="ib"/>'s part <paramref name="b"/> by their bytes, with the entry and the
    /// destination read self-relatively: 0 exactly when some renaming maps one part onto the
    /// other, up to which other vCPU a destination names.</summary>
    static int Compare(in VcpuState a, int ia, in VcpuState b, int ib)
    {
        var x = MemoryMarshal.AsBytes(MemoryMarshal.CreateReadOnlySpan(in a, 1));
        var y = MemoryMarshal.AsBytes(MemoryMarshal.CreateReadOnlySpan(in b, 1));
        int c = x[..EntryOffset].SequenceCompareTo(y[..EntryOffset]);
        if (c != 0) return c;
        c = SelfRelativeEntry(a.Svm, ia).CompareTo(SelfRelativeEntry(b.Svm, ib));
        if (c != 0) return c;
        c = x[(EntryOffset + sizeof(ulong))..DestOffset].SequenceCompareTo(y[(EntryOffset + sizeof(ulong))..DestOffset]);
        if (c != 0) return c;
        c = SelfRelativeDest(a.Svm, ia).CompareTo(SelfRelativeDest(b.Svm, ib));
        if (c != 0) return c;
        return x[(DestOffset + 1)..].SequenceCompareTo(y[(DestOffset + 1)..]);
    }

    /// <summary>The canonical state of <paramref name="s"/>'s class: idle host APIC IDs cleared,
    /// then the renaming that sorts the vCPUs' parts (Compare); where parts tie, the renaming (of
    /// those consistent with the order) whose renamed incomplete-IPI destinations are least.
    /// <paramref name="perm"/>[i] = the new index of vCPU i. The caller has checked that every
    /// vCPU is published.</summary>
    public static void Canonicalize(int vcpus, ref KvmState s, Span<byte> perm)
    {
        ClearIdleHostIds(ref s, vcpus);
        Span<byte> order = stackalloc byte[KvmState.MaxVcpus]; // order[j] = the old index at new place j
        bool tie = false;
        for (int i = 0; i < vcpus; i++)
        {
            int j = i;
            int c = 1;
            while (j > 0 && (c = Compare(s.Vcpus[order[j - 1]], order[j - 1], s.Vcpus[i], i)) > 0) { order[j] = order[j - 1]; j--; }
            tie |= j > 0 && c == 0;
            order[j] = (byte)i;
        }
        if (tie && PointsAtOthers(s, vcpus)) BreakTies(s, vcpus, order);
        bool identity = true;
        for (int j = 0; j < vcpus; j++) { perm[order[j]] = (byte)j; identity &= order[j] == j; }
        if (identity) return;
        KvmSymmetry.PermuteInPlace(ref s, vcpus, perm);
        ClearIdleHostIds(ref s, vcpus); // the renaming moved the cleared 0s to perm[0]
    }

    static bool PointsAtOthers(in KvmState s, int vcpus)
    {
        for (int v = 0; v < vcpus; v++)
            if (s.Vcpus[v].Svm.HasIncompleteIpi && s.Vcpus[v].Svm.IncompleteIpiDest != v) return true;
        return false;
    }

    /// <summary>Among the orders that keep the sorted parts sorted (they permute tied parts
    /// only), the one whose renamed destinations, read in the new order, are least. Every
    /// such order gives the same parts but for those destinations, so this picks one state of
    /// the class whichever member the search met.</summary>
    static void BreakTies(in KvmState s, int vcpus, Span<byte> order)
    {
        Span<byte> best = stackalloc byte[KvmState.MaxVcpus], bestDest = stackalloc byte[KvmState.MaxVcpus];
        Span<byte> cand = stackalloc byte[KvmState.MaxVcpus], newIndex = stackalloc byte[KvmState.MaxVcpus], dest = stackalloc byte[KvmState.MaxVcpus];
        Span<sbyte> group = stackalloc sbyte[KvmState.MaxVcpus]; // group[j]: the tie class of sorted place j
        group[0] = 0;
        for (int j = 1; j < vcpus; j++) group[j] = (sbyte)(Compare(s.Vcpus[order[j - 1]], order[j - 1], s.Vcpus[order[j]], order[j]) == 0 ? group[j - 1] : group[j - 1] + 1);
        Span<sbyte> groupOf = stackalloc sbyte[KvmState.MaxVcpus];
        for (int j = 0; j < vcpus; j++) groupOf[order[j]] = group[j];
        bool found = false;
        foreach (var p in Permutations(vcpus))
        {
            bool consistent = true;
            for (int j = 0; j < vcpus && consistent; j++) consistent = groupOf[p[j]] == group[j];
            if (!consistent) continue;
            for (int j = 0; j < vcpus; j++) { cand[j] = p[j]; newIndex[p[j]] = (byte)j; }
            for (int j = 0; j < vcpus; j++)
            {
                ref readonly var svm = ref s.Vcpus[cand[j]].Svm;
                dest[j] = svm.HasIncompleteIpi && svm.IncompleteIpiDest < vcpus ? newIndex[svm.IncompleteIpiDest] : (byte)0;
            }
            if (!found || dest[..vcpus].SequenceCompareTo(bestDest[..vcpus]) < 0)
            {
                found = true;
                cand[..vcpus].CopyTo(best);
                dest[..vcpus].CopyTo(bestDest);
            }
        }
        best[..vcpus].CopyTo(order);
    }

    /// <summary>Every order of 0..n-1 (n ≤ 4), as rows of n bytes.</summary>
    static byte[][] Permutations(int n) => PermutationTable[n];

    static readonly byte[][][] PermutationTable = Enumerable.Range(0, KvmState.MaxVcpus + 1).Select(Orders).ToArray();

    static byte[][] Orders(int n) => n <= 1 ? [Enumerable.Repeat((byte)0, n).ToArray()]
        : Orders(n - 1).SelectMany(p => Enumerable.Range(0, n).Select(at => p.Take(at).Append((byte)(n - 1)).Concat(p.Skip(at)).ToArray())).ToArray();
}
