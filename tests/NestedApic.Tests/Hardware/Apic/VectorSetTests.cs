using NestedApic.Hardware.Apic;

namespace NestedApic.Tests.Hardware.Apic;

public class VectorSetTests
{
    [Fact]
    public void EmptySetHasNoHighest()
    {
        var s = default(VectorSet);
        Assert.True(s.IsEmpty);
        Assert.Equal(-1, s.Highest());
        Assert.Equal(0, s.Count);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(63)]
    [InlineData(64)]
    [InlineData(127)]
    [InlineData(128)]
    [InlineData(191)]
    [InlineData(192)]
    [InlineData(255)]
    public void HighestFindsEveryWordBoundary(int v)
    {
        var s = default(VectorSet);
        s.Set(0);
        s.Set((byte)v);
        Assert.Equal(v, s.Highest());
        Assert.True(s.Test((byte)v));
        Assert.Equal((ulong)1 << (v & 63) | (v < 64 ? 1UL : 0), s.Word(v >> 6));
    }

    [Fact]
    public void ClearRemovesOnlyThatVector()
    {
        var s = default(VectorSet);
        s.Set(0x31); s.Set(0x52); s.Set(0xf0);
        s.Clear(0xf0);
        Assert.False(s.Test(0xf0));
        Assert.Equal(0x52, s.Highest());
        Assert.Equal(2, s.Count);
        s.Clear(0x52); s.Clear(0x31);
        Assert.True(s.IsEmpty);
    }

    [Fact]
    public void EqualityComparesAllWords()
    {
        var a = default(VectorSet); var b = default(VectorSet);
        a.Set(200); b.Set(200);
        Assert.True(a == b);
        b.Set(3);
        Assert.True(a != b);
        Assert.False(a.Equals((object)b));
    }

    [Fact]
    public void UnionWithOrsEveryWord()
    {
        var a = new VectorSet(1, 0, 0, 0x8000_0000_0000_0000);
        var b = new VectorSet(2, 4, 0, 0);
        a.UnionWith(b);
        Assert.Equal(new VectorSet(3, 4, 0, 0x8000_0000_0000_0000), a);
        Assert.Equal(255, a.Highest());
        Assert.Equal(256, VectorSet.All.Count);
    }
}
