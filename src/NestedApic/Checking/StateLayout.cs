using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace NestedApic.Checking;

/// <summary>One component of a state: a byte range the engine interns on its own.</summary>
/// <param name="Name">For reports ("vcpu0.apic").</param>
/// <param name="Zero">The range is zero in every state (e.g. a vCPU slot the configuration does
/// not use): it costs no storage and is left out of the wire form; a model that writes into it is
/// a bug the engine reports.</param>
public readonly record struct StateComponent(string Name, int Offset, int Length, bool Zero);

/// <summary>
/// How a model's state splits into components, for compressed storage (SPIN's -DCOLLAPSE, LTSmin's
/// tree compression): each distinct value of a component is stored once, and a state is stored as
/// the indices of its components' values, combined pairwise up a balanced tree into one 64-bit key.
/// Components that change together belong together; components that change independently (one
/// vCPU's local APIC and another vCPU's VMCS) belong apart, so that a step re-stores only what it
/// changed. The components cover the state exactly, in order.
/// </summary>
public sealed class StateLayout
{
    public int Size { get; }
    public IReadOnlyList<StateComponent> Components { get; }

    StateLayout(int size, List<StateComponent> components)
    {
        Size = size;
        Components = components;
    }

    /// <summary>The default for a model that names no components: the state cut into at most 32
    /// equal pieces of 8 bytes (2 bytes for states up to 16 bytes), as LTSmin cuts a state vector
    /// into slots.</summary>
    public static StateLayout Of<TState>() where TState : unmanaged
    {
        int size = Unsafe.SizeOf<TState>();
        int piece = size <= 16 ? 2 : Math.Max(8, (size + 31) / 32);
        var b = new Builder(size);
        for (int at = 0; at < size; at += piece) b.Cut(at, $"bytes{at}");
        return b.Build();
    }

    /// <summary>The byte offset of <paramref name="field"/> inside <paramref name="owner"/>: lets a
    /// model derive its cuts from its struct layout instead of hard-coding byte counts.</summary>
    public static int OffsetOf<TOwner, TField>(ref TOwner owner, ref TField field)
        where TOwner : unmanaged where TField : unmanaged =>
        (int)Unsafe.ByteOffset(ref Unsafe.As<TOwner, byte>(ref owner), ref Unsafe.As<TField, byte>(ref field));

    /// <summary>Cuts a state of <c>size</c> bytes: each cut starts a component that runs to the next
    /// cut. The first cut must be at 0.</summary>
    public sealed class Builder(int size)
    {
        readonly SortedDictionary<int, (string Name, bool Zero)> _cuts = [];

        /// <summary>A component starts at <paramref name="offset"/>.</summary>
        public Builder Cut(int offset, string name) => Add(offset, name, false);

        /// <summary>A component that is zero in every state starts at <paramref name="offset"/>.</summary>
        public Builder Zero(int offset, string name) => Add(offset, name, true);

        Builder Add(int offset, string name, bool zero)
        {
            if (offset < 0 || offset >= size) throw new ArgumentOutOfRangeException(nameof(offset), $"{name}: offset {offset} outside a {size}-byte state");
            if (!_cuts.TryAdd(offset, (name, zero))) throw new ArgumentException($"{name}: a component already starts at offset {offset}");
            return this;
        }

        public StateLayout Build()
        {
            if (!_cuts.ContainsKey(0)) throw new InvalidOperationException("the first component must start at offset 0");
            var list = new List<StateComponent>();
            var offsets = _cuts.Keys.ToArray();
            for (int i = 0; i < offsets.Length; i++)
            {
                int end = i + 1 < offsets.Length ? offsets[i + 1] : size;
                var (name, zero) = _cuts[offsets[i]];
                list.Add(new StateComponent(name, offsets[i], end - offsets[i], zero));
            }
            return new StateLayout(size, list);
        }
    }

    /// <summary>The most bytes <see cref="Encode{TState}"/> writes.</summary>
    public int MaxEncodedLength
    {
        get
        {
            int n = Components.Where(c => !c.Zero).Sum(c => c.Length);
            return n + (n + 127) / 128;
        }
    }

    /// <summary>
    /// The wire form of a state, self-contained (no shared tables): the bytes of the non-zero
    /// components in order, with runs of zero bytes shortened. A token byte t &lt; 0x80 is followed
    /// by t + 1 literal bytes; t ≥ 0x80 stands for (t &amp; 0x7F) + 1 zero bytes. Returns the
    /// length written into <paramref name="into"/> (at least <see cref="MaxEncodedLength"/> long).
    /// </summary>
    public int Encode<TState>(in TState state, Span<byte> into) where TState : unmanaged
    {
        if (Unsafe.SizeOf<TState>() != Size) throw new ArgumentException($"layout of {Size} bytes, state of {Unsafe.SizeOf<TState>()}");
        var bytes = Bytes(in state);
        int w = 0;
        foreach (var c in Components)
        {
            var part = bytes.Slice(c.Offset, c.Length);
            if (c.Zero)
            {
                if (part.ContainsAnyExcept((byte)0)) throw new InvalidOperationException($"the model wrote into component {c.Name}, declared zero");
                continue;
            }
            w = EncodeRun(part, into, w);
        }
        return w;
    }

    static int EncodeRun(ReadOnlySpan<byte> part, Span<byte> into, int w)
    {
        int i = 0;
        while (i < part.Length)
        {
            int zeros = 0;
            while (i + zeros < part.Length && part[i + zeros] == 0 && zeros < 128) zeros++;
            if (zeros > 0) { into[w++] = (byte)(0x80 | (zeros - 1)); i += zeros; continue; }
            int lit = part[i..].IndexOf((byte)0);
            lit = lit < 0 ? part.Length - i : lit;
            lit = Math.Min(lit, 128);
            into[w++] = (byte)(lit - 1);
            part.Slice(i, lit).CopyTo(into[w..]);
            w += lit; i += lit;
        }
        return w;
    }

    /// <summary>The state a wire form stands for; throws <see cref="FormatException"/> on a form
    /// <see cref="Encode{TState}"/> cannot have written for this layout.</summary>
    public TState Decode<TState>(ReadOnlySpan<byte> wire) where TState : unmanaged
    {
        if (Unsafe.SizeOf<TState>() != Size) throw new ArgumentException($"layout of {Size} bytes, state of {Unsafe.SizeOf<TState>()}");
        TState state = default;
        var bytes = MemoryMarshal.AsBytes(MemoryMarshal.CreateSpan(ref state, 1));
        int r = 0;
        foreach (var c in Components)
        {
            if (c.Zero) continue;
            var part = bytes.Slice(c.Offset, c.Length);
            int i = 0;
            while (i < part.Length)
            {
                if (r >= wire.Length) throw new FormatException($"wire form ends inside component {c.Name}");
                int t = wire[r++], n = (t & 0x7F) + 1;
                if (i + n > part.Length) throw new FormatException($"wire form overruns component {c.Name}");
                if (t < 0x80)
                {
                    if (r + n > wire.Length) throw new FormatException($"wire form ends inside component {c.Name}");
                    wire.Slice(r, n).CopyTo(part[i..]);
                    r += n;
                }
                i += n;
            }
        }
        if (r != wire.Length) throw new FormatException($"{wire.Length - r} bytes after the last component");
        return state;
    }

    internal static ReadOnlySpan<byte> Bytes<TState>(in TState state) where TState : unmanaged =>
        MemoryMarshal.AsBytes(MemoryMarshal.CreateReadOnlySpan(in state, 1));
}
