using System.Runtime.CompilerServices;

namespace NestedApic.Hardware.Svm;

/// <summary>
/// The fields of an AMD IOMMU interrupt-remapping table entry in guest virtual APIC (GA) mode that
/// posting reads (IOMMU spec, "Guest Virtual APIC Interrupt Remapping"; APM §15.29.6.2). Held as
/// fields, not in the 128-bit IRTE layout.
/// </summary>
public struct GaIrte
{
    /// <summary>1: post into the backing page; 0: legacy remapping to a host interrupt.</summary>
    public bool GuestMode;
    /// <summary>The target vCPU is running: ring the doorbell at <see cref="Destination"/>.</summary>
    public bool IsRun;
    /// <summary>With IsRun = 0: log <see cref="GaTag"/> in the GA log and interrupt the host.</summary>
    public bool GaLogIntr;
    public byte Vector;
    /// <summary>Host physical APIC ID of the core the vCPU runs on.</summary>
    public ushort Destination;
    /// <summary>Host physical address of the target's backing page.</summary>
    public ulong GaRootPointer;
    /// <summary>Opaque tag by which the host finds the vCPU to wake.</summary>
    public uint GaTag;
}

/// <summary>What posting one interrupt through a GA-mode IRTE did.</summary>
public enum GaPostResult : byte
{
    /// <summary>GuestMode = 0: a host interrupt, nothing written to the backing page.</summary>
    Legacy,
    /// <summary>The GA root pointer names no backing page: the IOMMU aborts and logs an error.</summary>
    InvalidRoot,
    /// <summary>IRR set and a doorbell sent to Destination.</summary>
    Doorbell,
    /// <summary>IRR set, not running: the tag was appended to the GA log (the host will wake the vCPU).</summary>
    GaLogged,
    /// <summary>IRR set, not running, but the GA log was full: the wake-up entry is lost.</summary>
    GaLogOverflow,
    /// <summary>IRR set, not running, GALogIntr = 0: seen at the vCPU's next VMRUN.</summary>
    Silent,
}

/// <summary>The IOMMU's GA log: a bounded queue of GA tags the host drains to wake vCPUs.</summary>
public struct GaLog
{
    public const int Capacity = 8;

    [InlineArray(Capacity)] private struct Tags { private uint _t; }

    private Tags _tags;
    private int _head;
    public int Count { readonly get; private set; }
    /// <summary>Set when an entry could not be appended (the IOMMU's GA log overflow status).</summary>
    public bool Overflowed { readonly get; private set; }

    public bool TryAppend(uint tag)
    {
        if (Count == Capacity) { Overflowed = true; return false; }
        _tags[(_head + Count) % Capacity] = tag;
        Count++;
        return true;
    }

    /// <summary>The host's side: takes the oldest entry.</summary>
    public bool TryTake(out uint tag)
    {
        if (Count == 0) { tag = 0; return false; }
        tag = _tags[_head];
        _head = (_head + 1) % Capacity;
        Count--;
        return true;
    }
}

public partial struct AvicMachine
{
    /// <summary>
    /// A device interrupt through <paramref name="irte"/> (APM §15.29.6.2): in GA mode the IOMMU sets
    /// the vector in the backing page's IRR, then rings the doorbell if IsRun, else appends the GA
    /// tag to the GA log when GALogIntr is set.
    /// </summary>
    public GaPostResult PostGa(in GaIrte irte)
    {
        if (!irte.GuestMode) return GaPostResult.Legacy;
        if (!TryResolvePage(irte.GaRootPointer & AvicPointer.AddressMask, out int slot)) return GaPostResult.InvalidRoot;
        _pages[slot].Apic.Irr.Set(irte.Vector);
        if (irte.IsRun)
        {
            Doorbell(irte.Destination);
            return GaPostResult.Doorbell;
        }
        if (!irte.GaLogIntr) return GaPostResult.Silent;
        return GaLog.TryAppend(irte.GaTag) ? GaPostResult.GaLogged : GaPostResult.GaLogOverflow;
    }
}
