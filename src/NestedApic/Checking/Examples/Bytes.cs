using System.Runtime.CompilerServices;

namespace NestedApic.Checking.Examples;

/// <summary>Fixed byte arrays inside unmanaged states: no padding, hashed as raw bytes.</summary>
[InlineArray(8)] public struct Bytes8 { byte _b; }
[InlineArray(16)] public struct Bytes16 { byte _b; }
[InlineArray(32)] public struct Bytes32 { byte _b; }

internal static class Fields
{
    /// <summary>"name[i]: old → new" for each element that differs among the first n.</summary>
    public static void Diff(List<string> into, string name, ReadOnlySpan<byte> before, ReadOnlySpan<byte> after, int n)
    {
        for (int i = 0; i < n; i++)
            if (before[i] != after[i]) into.Add($"{name}[{i}]: {before[i]} → {after[i]}");
    }

    public static void Diff(List<string> into, string name, int before, int after)
    {
        if (before != after) into.Add($"{name}: {before} → {after}");
    }
}
