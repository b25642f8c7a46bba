using NestedApic.Hardware.Apic;

namespace NestedApic.Hardware.Svm;

/// <summary>
/// The 4-KiB AVIC backing page of one vCPU: the xAPIC register page itself (APM §15.29.2, table
/// 15-22; register offsets of the APIC spec). IRR/ISR/TMR and TPR live in <see cref="Apic"/>; the
/// registers the IPI path reads are held as their 32-bit words.
/// </summary>
public struct AvicBackingPage
{
    public const int IdOffset = 0x020;
    public const int VersionOffset = 0x030;
    public const int TprOffset = 0x080;
    public const int AprOffset = 0x090;
    public const int PprOffset = 0x0A0;
    public const int EoiOffset = 0x0B0;
    public const int RrrOffset = 0x0C0;
    public const int LdrOffset = 0x0D0;
    public const int DfrOffset = 0x0E0;
    public const int SvrOffset = 0x0F0;
    public const int IsrOffset = 0x100;
    public const int TmrOffset = 0x180;
    public const int IrrOffset = 0x200;
    public const int EsrOffset = 0x280;
    public const int IcrLowOffset = 0x300;
    public const int IcrHighOffset = 0x310;
    public const int LvtTimerOffset = 0x320;
    public const int LvtErrorOffset = 0x370;
    public const int TimerInitialCountOffset = 0x380;
    public const int TimerCurrentCountOffset = 0x390;
    public const int TimerDivideOffset = 0x3E0;

    /// <summary>IRR, ISR, TMR and TPR, shared with the architectural APIC model.</summary>
    public LocalApic Apic;
    /// <summary>APIC ID register (020h); the xAPIC ID is bits 31:24.</summary>
    public uint Id;
    /// <summary>Logical destination register (0D0h); the logical ID is bits 31:24.</summary>
    public uint Ldr;
    /// <summary>Destination format register (0E0h); bits 31:28 are the model (1111b flat, 0000b cluster).</summary>
    public uint Dfr;
    public uint IcrLow;
    public uint IcrHigh;

    public readonly byte XApicId => (byte)(Id >> 24);
    public readonly bool FlatModel => Dfr >> 28 == AvicLogicalIndex.DfrFlat;

    /// <summary>A fresh page for guest APIC ID <paramref name="apicId"/>: DFR reset value all ones (flat).</summary>
    public static AvicBackingPage ForApicId(byte apicId) => new() { Id = (uint)apicId << 24, Dfr = 0xFFFF_FFFF };

    /// <summary>Offset of the 32-bit word holding <paramref name="vector"/> in the 256-bit register at
    /// <paramref name="registerBase"/>: 16 bytes per 32 vectors, so IRR[v] is bit v%32 of 200h + 16*(v/32).</summary>
    public static int VectorWordOffset(int registerBase, byte vector) => registerBase + 16 * (vector >> 5);
}
