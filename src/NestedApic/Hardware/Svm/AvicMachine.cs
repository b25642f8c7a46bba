using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace NestedApic.Hardware.Svm;

/// <summary>One physical core as AVIC sees it: host or guest mode, and the AVIC fields of the VMCB it runs.</summary>
public struct AvicCore
{
    public bool InGuest;
    /// <summary>int_ctl bit 31 of the VMCB now running.</summary>
    public bool AvicEnabled;
    /// <summary>0E0h of the VMCB now running: the only backing page a doorbell can reach (APM §15.29.8.2).</summary>
    public ulong BackingPage;
    /// <summary>The last evaluation found a deliverable interrupt (IRR above PPR); cleared by VMRUN/#VMEXIT.</summary>
    public bool InterruptRecognized;
}

/// <summary>What a doorbell did on the receiving core.</summary>
public enum DoorbellResult : byte
{
    /// <summary>The core is in host mode: the APM leaves this undefined; the next VMRUN evaluates IRR anyway.</summary>
    IgnoredHostMode,
    /// <summary>The running VMCB has AVIC off: there is no vAPIC state to evaluate.</summary>
    IgnoredAvicOff,
    /// <summary>No core in this model has that host APIC ID.</summary>
    NoSuchCore,
    /// <summary>The backing page of the running VMCB was evaluated.</summary>
    Evaluated,
}

/// <summary>Result of <see cref="AvicMachine.Doorbell"/>: which page was evaluated and the deliverable vector found (-1: none).</summary>
public readonly record struct DoorbellOutcome(DoorbellResult Result, int PageSlot, int Vector);

/// <summary>
/// A small AVIC world for one VM: a physical APIC ID table of up to <see cref="TableEntries"/>
/// entries, a logical table of <see cref="LogicalEntries"/> entries (the rest of the 4-KiB page
/// reads as zero, i.e. invalid), <see cref="PageSlots"/> backing pages at fixed host addresses,
/// <see cref="CoreCount"/> cores whose host APIC ID is their index, and the IOMMU's GA log.
/// Value type, no allocation. Behaviour follows APM vol. 2 §15.29.
/// </summary>
public partial struct AvicMachine
{
    public const int TableEntries = 8;
    public const int LogicalEntries = 16;
    public const int PageSlots = 8;
    public const int CoreCount = 8;
    /// <summary>Host physical address of backing page 0; page i is at PageBase + 4 KiB * i.</summary>
    public const ulong PageBase = 0x0010_0000;

    [InlineArray(TableEntries)] private struct PhysicalTable { private AvicPhysicalIdEntry _e; }
    [InlineArray(LogicalEntries)] private struct LogicalTable { private AvicLogicalIdEntry _e; }
    [InlineArray(PageSlots)] private struct Pages { private AvicBackingPage _p; }
    [InlineArray(CoreCount)] private struct Cores { private AvicCore _c; }

    private PhysicalTable _physical;
    private LogicalTable _logical;
    private Pages _pages;
    private Cores _cores;

    /// <summary>AVIC_PHYSICAL_MAX_INDEX as the VMCBs carry it; entries above it are not looked up.</summary>
    public int MaxIndex;
    /// <summary>The IOMMU's guest-virtual-APIC log.</summary>
    public GaLog GaLog;

    /// <summary>A machine whose table covers <paramref name="vcpus"/> vCPUs, each with backing page i
    /// holding APIC ID i, valid, not running; flat logical model, empty logical table.</summary>
    public static AvicMachine Create(int vcpus)
    {
        if ((uint)vcpus > TableEntries) throw new ArgumentOutOfRangeException(nameof(vcpus));
        var m = new AvicMachine { MaxIndex = Math.Max(vcpus - 1, 0) };
        for (int i = 0; i < vcpus; i++)
        {
            m._pages[i] = AvicBackingPage.ForApicId((byte)i);
            m._physical[i] = new AvicPhysicalIdEntry(valid: true, isRunning: false, PageAddress(i), 0);
        }
        return m;
    }

    public static ulong PageAddress(int slot) => PageBase + (ulong)slot * 0x1000;

    /// <summary>Maps a backing-page address to its slot; false for an address no page sits at.</summary>
    public static bool TryResolvePage(ulong hpa, out int slot)
    {
        slot = -1;
        if (hpa < PageBase || (hpa & 0xFFF) != 0) return false;
        ulong i = (hpa - PageBase) >> 12;
        if (i >= PageSlots) return false;
        slot = (int)i;
        return true;
    }

    [UnscopedRef] public ref AvicPhysicalIdEntry Physical(int index) => ref _physical[index];
    [UnscopedRef] public ref AvicLogicalIdEntry Logical(int index) => ref _logical[index];
    [UnscopedRef] public ref AvicBackingPage Page(int slot) => ref _pages[slot];
    [UnscopedRef] public ref AvicCore Core(int hostApicId) => ref _cores[hostApicId];

    /// <summary>
    /// VMRUN of a VMCB on <paramref name="core"/> (APM §15.29.8.3): the core now runs that VMCB's
    /// AVIC context and, with AVIC on, evaluates its backing page's IRR at once.
    /// </summary>
    public void Vmrun(int core, in VmcbControls vmcb)
    {
        ref var c = ref _cores[core];
        c.InGuest = true;
        c.AvicEnabled = vmcb.AvicEnabled;
        c.BackingPage = vmcb.AvicBackingPage & AvicPointer.AddressMask;
        c.InterruptRecognized = false;
        if (c.AvicEnabled) Evaluate(core);
    }

    /// <summary>#VMEXIT on <paramref name="core"/>: back to host mode, no AVIC context.</summary>
    public void Vmexit(int core) => _cores[core] = default;

    /// <summary>
    /// A doorbell (WRMSR C001_011Bh, or one sent by the IPI path or the IOMMU) to the core with
    /// <paramref name="hostApicId"/>. APM §15.29.8.2: in guest mode the core evaluates the backing
    /// page "for the currently running virtual processor": the page of the VMCB running at that
    /// moment, whoever the doorbell was meant for.
    /// </summary>
    public DoorbellOutcome Doorbell(int hostApicId)
    {
        if ((uint)hostApicId >= CoreCount) return new(DoorbellResult.NoSuchCore, -1, -1);
        ref var c = ref _cores[hostApicId];
        if (!c.InGuest) return new(DoorbellResult.IgnoredHostMode, -1, -1);
        if (!c.AvicEnabled) return new(DoorbellResult.IgnoredAvicOff, -1, -1);
        return Evaluate(hostApicId);
    }

    /// <summary>Finds the highest IRR vector above PPR in the running page and marks it recognized.</summary>
    private DoorbellOutcome Evaluate(int core)
    {
        ref var c = ref _cores[core];
        if (!TryResolvePage(c.BackingPage, out int slot)) return new(DoorbellResult.Evaluated, -1, -1);
        ref var apic = ref _pages[slot].Apic;
        int v = apic.HasDeliverable ? apic.HighestPending : -1;
        if (v >= 0) c.InterruptRecognized = true;
        return new(DoorbellResult.Evaluated, slot, v);
    }
}
