using NestedApic.Checking;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace NestedApic.Distributed;

/// <summary>
/// How a state crosses the wire. Encodings must be self-delimiting: Decode says how many bytes it
/// read, so a batch is a plain concatenation of records.
/// </summary>
public interface IStateCodec<TState> where TState : unmanaged
{
    /// <summary>The most bytes one Encode may write.</summary>
    int MaxEncodedLength { get; }
    /// <summary>Writes the state and returns how many bytes it wrote.</summary>
    int Encode(in TState state, Span<byte> destination);
    /// <summary>Reads one state and returns how many bytes it read.</summary>
    int Decode(ReadOnlySpan<byte> source, out TState state);
}

/// <summary>The state's own bytes, as the local engine hashes them: Unsafe.SizeOf&lt;TState&gt;() a state.</summary>
public readonly struct RawStateCodec<TState> : IStateCodec<TState> where TState : unmanaged
{
    public int MaxEncodedLength => Unsafe.SizeOf<TState>();

    public int Encode(in TState state, Span<byte> destination)
    {
        var bytes = MemoryMarshal.AsBytes(MemoryMarshal.CreateReadOnlySpan(in state, 1));
        bytes.CopyTo(destination);
        return bytes.Length;
    }

    public int Decode(ReadOnlySpan<byte> source, out TState state)
    {
        state = MemoryMarshal.Read<TState>(source);
        return Unsafe.SizeOf<TState>();
    }
}

/// <summary>
/// The model's wire form (<see cref="StateLayout.Encode{TState}"/>: its non-zero components with
/// runs of zero bytes shortened), after its length as a varint, since the layout's decoder wants
/// the form's exact extent.
/// </summary>
public readonly struct LayoutStateCodec<TState>(StateLayout layout) : IStateCodec<TState> where TState : unmanaged
{
    const int LengthBytes = 3; // forms up to 2 MiB

    public int MaxEncodedLength => layout.MaxEncodedLength + LengthBytes;

    public int Encode(in TState state, Span<byte> destination)
    {
        int n = layout.Encode(state, destination[LengthBytes..]);
        int prefix = 0;
        for (uint v = (uint)n; ; v >>= 7)
        {
            if (v < 0x80) { destination[prefix++] = (byte)v; break; }
            destination[prefix++] = (byte)(v | 0x80);
        }
        // Close the gap the length left (CopyTo copies overlapping spans correctly).
        if (prefix < LengthBytes) destination.Slice(LengthBytes, n).CopyTo(destination[prefix..]);
        return prefix + n;
    }

    public int Decode(ReadOnlySpan<byte> source, out TState state)
    {
        int n = 0, at = 0;
        for (int shift = 0; ; shift += 7)
        {
            byte b = source[at++];
            n |= (b & 0x7F) << shift;
            if (b < 0x80) break;
        }
        state = layout.Decode<TState>(source.Slice(at, n));
        return at + n;
    }
}
