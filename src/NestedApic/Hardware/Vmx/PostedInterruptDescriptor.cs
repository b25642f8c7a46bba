using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using NestedApic.Hardware.Apic;

namespace NestedApic.Hardware.Vmx;

/// <summary>
/// The 64-byte posted-interrupt descriptor (SDM 29.6, table "Format of Posted-Interrupt
/// Descriptor"; SN and NDST from the IPI-virtualization and VT-d layout in KVM's posted_intr.h):
/// bits 255:0 PIR, 256 ON, 257 SN, 279:272 NV, 319:288 NDST; the rest is reserved/software.
/// Stored as eight little-endian 64-bit words so the bit numbers are the memory layout.
/// </summary>
[StructLayout(LayoutKind.Sequential, Size = 64)]
public struct PostedInterruptDescriptor
{
    public const int OnBit = 256;
    public const int SnBit = 257;
    public const int NvShift = 272;
    public const int NdstShift = 288;

    [InlineArray(8)]
    private struct Words { private ulong _w0; }

    private Words _words;

    /// <summary>Raw bit <paramref name="bit"/> (0..511) of the descriptor.</summary>
    public readonly bool GetBit(int bit) => (_words[bit >> 6] >> (bit & 63) & 1) != 0;

    public void SetBit(int bit, bool value)
    {
        ulong m = 1UL << (bit & 63);
        if (value) _words[bit >> 6] |= m; else _words[bit >> 6] &= ~m;
    }

    /// <summary>Raw 64-bit word <paramref name="index"/> (0..7): bytes 8i..8i+7.</summary>
    public readonly ulong Word(int index) => _words[index];
    public void SetWord(int index, ulong value) => _words[index] = value;

    /// <summary>The posted-interrupt requests, one bit per vector.</summary>
    public readonly VectorSet Pir => new(_words[0], _words[1], _words[2], _words[3]);

    /// <summary>Outstanding notification: a notification has been sent and not yet processed.</summary>
    public bool On { readonly get => GetBit(OnBit); set => SetBit(OnBit, value); }

    /// <summary>Suppress notification: posting sets PIR bits but sends no notification.</summary>
    public bool Sn { readonly get => GetBit(SnBit); set => SetBit(SnBit, value); }

    /// <summary>Notification vector (bits 279:272), used by IPI virtualization and VT-d.</summary>
    public byte Nv
    {
        readonly get => (byte)(_words[4] >> (NvShift - 256));
        set => _words[4] = _words[4] & ~(0xFFUL << (NvShift - 256)) | (ulong)value << (NvShift - 256);
    }

    /// <summary>Notification destination, an APIC ID (bits 319:288).</summary>
    public uint Ndst
    {
        readonly get => (uint)(_words[4] >> (NdstShift - 256));
        set => _words[4] = _words[4] & 0xFFFF_FFFFUL | (ulong)value << (NdstShift - 256);
    }

    /// <summary>
    /// Posts <paramref name="vector"/> the way a sender does (the IPI-virtualization pseudo-code;
    /// KVM's __vmx_deliver_posted_interrupt for SN = 0): set PIR[vector]; then, as one locked
    /// step, if ON = 0 and SN = 0 set ON and report that a notification (vector NV to NDST) must be
    /// sent. With ON already set the earlier notification covers this vector; with SN set ON stays
    /// as it was and nothing is sent.
    /// </summary>
    public bool Post(byte vector)
    {
        SetBit(vector, true);
        if (On || Sn) return false;
        On = true;
        return true;
    }

    /// <summary>Reads and clears the PIR in one step (SDM 29.6 step 5 does this atomically).</summary>
    public VectorSet TakePir()
    {
        var pir = Pir;
        _words[0] = _words[1] = _words[2] = _words[3] = 0;
        return pir;
    }
}
