using System.Runtime.InteropServices;

namespace NestedApic.Tests;

/// <summary>Equality of unmanaged values by their bytes, for the tests' own sets of states
/// (independent of the engine's hashing).</summary>
sealed class BytesComparer<T> : IEqualityComparer<T> where T : unmanaged
{
    public static readonly BytesComparer<T> Instance = new();

    static ReadOnlySpan<byte> Bytes(in T value) => MemoryMarshal.AsBytes(MemoryMarshal.CreateReadOnlySpan(in value, 1));

    public bool Equals(T a, T b) => Bytes(a).SequenceEqual(Bytes(b));

    public int GetHashCode(T value)
    {
        var h = new HashCode();
        h.AddBytes(Bytes(value));
        return h.ToHashCode();
    }
}
