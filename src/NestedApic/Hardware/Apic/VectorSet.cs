using System.Diagnostics.CodeAnalysis;
using System.Numerics;

namespace NestedApic.Hardware.Apic;

/// <summary>
/// A set of the 256 interrupt vectors, one bit per vector, as the APIC's IRR/ISR/TMR and the
/// VMCS EOI-exit bitmaps hold them. Word i covers vectors 64*i .. 64*i+63, which is also the
/// order of EOI_EXIT_BITMAP0..3 (vectors 0-63 in bitmap 0). Never allocates.
/// </summary>
public struct VectorSet : IEquatable<VectorSet>
{
    private ulong _w0, _w1, _w2, _w3;

    /// <summary>Builds a set from its four 64-bit words (word 0 = vectors 0-63).</summary>
    public VectorSet(ulong w0, ulong w1, ulong w2, ulong w3) { _w0 = w0; _w1 = w1; _w2 = w2; _w3 = w3; }

    /// <summary>The set with all 256 vectors.</summary>
    public static VectorSet All => new(ulong.MaxValue, ulong.MaxValue, ulong.MaxValue, ulong.MaxValue);

    /// <summary>Word <paramref name="index"/> (0..3); word i is EOI_EXIT_BITMAPi's layout.</summary>
    public readonly ulong Word(int index) => index switch
    {
        0 => _w0, 1 => _w1, 2 => _w2, 3 => _w3,
        _ => throw new ArgumentOutOfRangeException(nameof(index)),
    };

    [UnscopedRef]
    private ref ulong WordRef(byte v)
    {
        switch (v >> 6)
        {
            case 0: return ref _w0;
            case 1: return ref _w1;
            case 2: return ref _w2;
            default: return ref _w3;
        }
    }

    public void Set(byte v) => WordRef(v) |= 1UL << (v & 63);

    public void Clear(byte v) => WordRef(v) &= ~(1UL << (v & 63));

    public readonly bool Test(byte v)
    {
        ulong w = (v >> 6) switch { 0 => _w0, 1 => _w1, 2 => _w2, _ => _w3 };
        return (w >> (v & 63) & 1) != 0;
    }

    public readonly bool IsEmpty => (_w0 | _w1 | _w2 | _w3) == 0;

    /// <summary>The highest vector in the set, or -1 when it is empty.</summary>
    public readonly int Highest()
    {
        if (_w3 != 0) return 255 - BitOperations.LeadingZeroCount(_w3);
        if (_w2 != 0) return 191 - BitOperations.LeadingZeroCount(_w2);
        if (_w1 != 0) return 127 - BitOperations.LeadingZeroCount(_w1);
        if (_w0 != 0) return 63 - BitOperations.LeadingZeroCount(_w0);
        return -1;
    }

    public readonly int Count =>
        BitOperations.PopCount(_w0) + BitOperations.PopCount(_w1) + BitOperations.PopCount(_w2) + BitOperations.PopCount(_w3);

    /// <summary>Adds every vector of <paramref name="other"/> (the PIR-to-VIRR OR of SDM 29.6).</summary>
    public void UnionWith(in VectorSet other) { _w0 |= other._w0; _w1 |= other._w1; _w2 |= other._w2; _w3 |= other._w3; }

    public readonly bool Equals(VectorSet other) =>
        _w0 == other._w0 && _w1 == other._w1 && _w2 == other._w2 && _w3 == other._w3;

    public override readonly bool Equals(object? obj) => obj is VectorSet o && Equals(o);
    public override readonly int GetHashCode() => HashCode.Combine(_w0, _w1, _w2, _w3);
    public static bool operator ==(VectorSet a, VectorSet b) => a.Equals(b);
    public static bool operator !=(VectorSet a, VectorSet b) => !a.Equals(b);

    public override readonly string ToString() => $"{_w3:x16}{_w2:x16}{_w1:x16}{_w0:x16}";
}
