using NestedApic.Checking;
using NestedApic.Checking.Examples;
using NestedApic.Hypervisor;
using NestedApic.Tests.Hypervisor;

namespace NestedApic.Tests.Checking;

/// <summary>Components of a state and the self-contained wire form.</summary>
public class StateLayoutTests
{
    [Fact]
    public void Default_layout_cuts_the_state_into_equal_pieces_that_cover_it()
    {
        var l = StateLayout.Of<Peterson.State>();
        Assert.Equal(24, l.Size);
        Assert.Equal([0, 8, 16], l.Components.Select(c => c.Offset));
        Assert.All(l.Components, c => Assert.Equal(8, c.Length));
        Assert.Equal([0, 2], StateLayout.Of<GridModel.State>().Components.Select(c => c.Offset));
    }

    [Fact]
    public void Wire_form_round_trips_and_shortens_zero_runs()
    {
        var l = StateLayout.Of<AlternatingBit.State>();
        var s = default(AlternatingBit.State);
        s.Data[3] = 7; s.Data[31] = 1; s.SBit = 1; s.Err = 200;
        var wire = new byte[l.MaxEncodedLength];
        int n = l.Encode(s, wire);
        Assert.True(n < 20, $"{n} bytes for a mostly zero 70-byte state");
        var back = l.Decode<AlternatingBit.State>(wire.AsSpan(0, n));
        Assert.True(StateHash.Equal(s, back));
        Assert.Throws<FormatException>(() => l.Decode<AlternatingBit.State>(wire.AsSpan(0, n - 1)));
        Assert.Throws<FormatException>(() => l.Decode<AlternatingBit.State>([.. wire.AsSpan(0, n), 0x80]));
    }

    /// <summary>Runs longer than one token holds (128 zero or literal bytes) are split; a form cut
    /// at a token boundary, a token that overruns its component and bytes after the last
    /// component are format errors, not crashes; a layout's cuts must lie inside the state.</summary>
    [Fact]
    public void Wire_form_splits_long_runs_and_rejects_malformed_forms()
    {
        var l = new StateLayout.Builder(256).Cut(0, "all").Build();
        var s = default(Bytes256);
        for (int i = 200; i < 256; i++) s[i] = (byte)i;       // 200 zeros, then 56 literals
        var wire = new byte[l.MaxEncodedLength];
        int n = l.Encode(s, wire);
        Assert.Equal([0x80 | 127, 0x80 | 71, 55], wire[..3]);
        Assert.Equal(3 + 56, n);
        Assert.True(l.Decode<Bytes256>(wire.AsSpan(0, n)).SequenceEqualTo(s));
        var literals = default(Bytes256);
        for (int i = 0; i < 256; i++) literals[i] = (byte)(i | 1);
        n = l.Encode(literals, wire);
        Assert.Equal(256 + 2, n);
        Assert.True(n <= l.MaxEncodedLength);
        Assert.True(l.Decode<Bytes256>(wire.AsSpan(0, n)).SequenceEqualTo(literals));
        var e = Assert.Throws<FormatException>(() => l.Decode<Bytes256>([0x80 | 127]));  // ends after a whole token
        Assert.Contains("ends inside component all", e.Message);
        e = Assert.Throws<FormatException>(() => l.Decode<Bytes256>([0x80 | 127, 0x80 | 126, 0x80 | 1]));
        Assert.Contains("overruns component all", e.Message);
        e = Assert.Throws<FormatException>(() => l.Decode<Bytes256>([0x80 | 127, 0x80 | 127, 7]));
        Assert.Contains("1 bytes after the last component", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new StateLayout.Builder(8).Cut(-1, "x"));
        Assert.Throws<ArgumentOutOfRangeException>(() => new StateLayout.Builder(8).Cut(8, "x"));
        Assert.Throws<ArgumentException>(() => new StateLayout.Builder(8).Cut(0, "x").Cut(0, "y"));
        Assert.Throws<InvalidOperationException>(() => new StateLayout.Builder(8).Cut(4, "x").Build());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    public void Kvm_layout_has_parts_per_existing_vcpu_and_a_zero_tail(int vcpus)
    {
        var l = KvmStateLayout.For(vcpus);
        Assert.Equal(System.Runtime.CompilerServices.Unsafe.SizeOf<KvmState>(), l.Size);
        Assert.Equal(1 + 5 * vcpus + (vcpus < KvmState.MaxVcpus ? 1 : 0), l.Components.Count);
        Assert.Equal(l.Size, l.Components.Sum(c => c.Length));
        Assert.Equal(vcpus < KvmState.MaxVcpus, l.Components[^1].Zero);
        Assert.Contains(l.Components, c => c.Name == $"vcpu{vcpus - 1}.vmcs02");
    }

    [Fact]
    public void Kvm_state_round_trips_and_a_write_into_an_absent_vcpu_is_caught()
    {
        var model = KvmTestBench.Model(KvmTestBench.Config(Policies.Linux70));
        var s = KvmTestBench.Replay(model, KvmTestBench.TwoVcpusL1Running);
        var l = KvmStateLayout.For(2);
        var wire = new byte[l.MaxEncodedLength];
        int n = l.Encode(s, wire);
        Assert.True(StateHash.Equal(s, l.Decode<KvmState>(wire.AsSpan(0, n))));
        s.Vcpus[3].L1If = true;
        Assert.Throws<InvalidOperationException>(() => l.Encode(s, wire));
    }
}

[System.Runtime.CompilerServices.InlineArray(256)]
public struct Bytes256
{
    byte _b;
    public readonly bool SequenceEqualTo(Bytes256 other) => Same(this, other);
    static bool Same(Bytes256 a, Bytes256 b) => ((ReadOnlySpan<byte>)a).SequenceEqual(b);
}
