using NestedApic.Hardware.Apic;

namespace NestedApic.Hardware.Vmx;

/// <summary>
/// The registers of the virtual-APIC page that APIC virtualization uses (SDM 29.1.1 "Virtualized
/// APIC Registers"). Held compactly; the offsets give each register's place in the 4-KiB page.
/// </summary>
public struct VirtualApicPage
{
    public const int VtprOffset = 0x080;
    public const int VpprOffset = 0x0A0;
    public const int VeoiOffset = 0x0B0;
    public const int VisrOffset = 0x100;
    public const int VirrOffset = 0x200;
    public const int VicrLowOffset = 0x300;
    public const int VicrHighOffset = 0x310;

    /// <summary>Virtual TPR: the 32-bit word at 0x80 (only bits 7:0 are architectural).</summary>
    public uint Vtpr;
    /// <summary>Virtual PPR (0xA0).</summary>
    public uint Vppr;
    /// <summary>Virtual EOI register (0xB0).</summary>
    public uint Veoi;
    /// <summary>Virtual ISR: eight 32-bit words at 0x100-0x170.</summary>
    public VectorSet Visr;
    /// <summary>Virtual IRR: eight 32-bit words at 0x200-0x270.</summary>
    public VectorSet Virr;

    /// <summary>
    /// Page offset of the 32-bit word holding <paramref name="vector"/> in the 256-bit register at
    /// <paramref name="registerBase"/> (VISR, VIRR, TMR): base | ((v &amp; 0xE0) >> 1); the bit
    /// within it is v &amp; 0x1F (SDM 29.1.1).
    /// </summary>
    public static int VectorWordOffset(int registerBase, byte vector) => registerBase | ((vector & 0xE0) >> 1);
}

/// <summary>
/// Guest interrupt status (VMCS 0x0810, 16 bits): RVI, the requesting virtual interrupt, in bits
/// 7:0 and SVI, the servicing virtual interrupt, in bits 15:8 (SDM 24.4.2).
/// </summary>
public struct GuestInterruptStatus : IEquatable<GuestInterruptStatus>
{
    public ushort Value;

    public GuestInterruptStatus(ushort value) => Value = value;
    public GuestInterruptStatus(byte rvi, byte svi) => Value = (ushort)(svi << 8 | rvi);

    public byte Rvi { readonly get => (byte)Value; set => Value = (ushort)(Value & 0xFF00 | value); }
    public byte Svi { readonly get => (byte)(Value >> 8); set => Value = (ushort)(Value & 0x00FF | value << 8); }

    public readonly bool Equals(GuestInterruptStatus other) => Value == other.Value;
    public override readonly bool Equals(object? obj) => obj is GuestInterruptStatus o && Equals(o);
    public override readonly int GetHashCode() => Value;
    public override readonly string ToString() => $"RVI={Rvi:x2} SVI={Svi:x2}";
}
