using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace NestedApic.Checking;

/// <summary>64-bit hashing and byte equality of unmanaged states, viewed as their raw bytes.</summary>
public static class StateHash
{
    const ulong P1 = 0x9E3779B185EBCA87UL, P2 = 0xC2B2AE3D27D4EB4FUL, P3 = 0x165667B19E3779F9UL;

    /// <summary>A fingerprint: never 0 (0 marks an empty slot of the visited table).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Fingerprint<T>(in T state) where T : unmanaged
    {
        var bytes = MemoryMarshal.AsBytes(MemoryMarshal.CreateReadOnlySpan(in state, 1));
        ulong h = Hash(bytes);
        return h == 0 ? P3 : h;
    }

    /// <summary>Multiply-rotate over 8-byte words, finished with the murmur3 avalanche.</summary>
    public static ulong Hash(ReadOnlySpan<byte> data)
    {
        ulong h = P3 ^ (ulong)data.Length * P1;
        var words = MemoryMarshal.Cast<byte, ulong>(data);
        foreach (ulong w in words)
            h = BitOperations.RotateLeft(h ^ (w * P2), 31) * P1;
        for (int i = words.Length * 8; i < data.Length; i++)
            h = BitOperations.RotateLeft(h ^ (data[i] * P3), 11) * P1;
        h ^= h >> 33; h *= 0xFF51AFD7ED558CCDUL;
        h ^= h >> 33; h *= 0xC4CEB9FE1A85EC53UL;
        return h ^ (h >> 33);
    }

    public static bool Equal<T>(in T a, in T b) where T : unmanaged =>
        MemoryMarshal.AsBytes(MemoryMarshal.CreateReadOnlySpan(in a, 1))
            .SequenceEqual(MemoryMarshal.AsBytes(MemoryMarshal.CreateReadOnlySpan(in b, 1)));
}
