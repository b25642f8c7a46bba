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
