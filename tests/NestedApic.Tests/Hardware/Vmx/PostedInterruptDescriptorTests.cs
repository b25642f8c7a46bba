using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using NestedApic.Hardware.Vmx;

namespace NestedApic.Tests.Hardware.Vmx;

public class PostedInterruptDescriptorTests
{
    private static byte[] Bytes(PostedInterruptDescriptor pid) =>
        MemoryMarshal.AsBytes(MemoryMarshal.CreateReadOnlySpan(ref pid, 1)).ToArray();

    [Fact]
    public void IsSixtyFourBytes() => Assert.Equal(64, Unsafe.SizeOf<PostedInterruptDescriptor>());

    [Fact]
    public void FieldsSitAtTheirBitPositions()
    {
        var pid = new PostedInterruptDescriptor { On = true };
        Assert.Equal(0x01, Bytes(pid)[32]); // bit 256
        pid = new PostedInterruptDescriptor { Sn = true };
        Assert.Equal(0x02, Bytes(pid)[32]); // bit 257
        Assert.True(pid.GetBit(257));

        pid = new PostedInterruptDescriptor { Nv = 0xab, Ndst = 0x12345678 };
        var b = Bytes(pid);
        Assert.Equal(0xab, b[34]); // bits 279:272
        Assert.Equal(0x12345678u, BitConverter.ToUInt32(b, 36)); // bits 319:288
        Assert.Equal(5, b.Count(x => x != 0)); // NV and four NDST bytes, nothing else
        Assert.False(pid.On || pid.Sn);

        pid = new PostedInterruptDescriptor();
        pid.Post(0x21);
        b = Bytes(pid);
        Assert.Equal(0x02, b[4]); // PIR bit 0x21 = byte 4, bit 1
        Assert.Equal(0x01, b[32]); // and ON
    }

    [Fact]
    public void RawBitsAndWordsAgree()
    {
        var pid = new PostedInterruptDescriptor();
        pid.SetBit(256 + 16 + 7, true); // NV bit 7
        Assert.Equal(0x80, pid.Nv);
        pid.SetWord(4, 0xdeadbeef_00cd0000);
        Assert.Equal(0xcd, pid.Nv);
        Assert.Equal(0xdeadbeefu, pid.Ndst);
        pid.Ndst = 1;
        Assert.Equal(0x00000001_00cd0000UL, pid.Word(4));
    }

    [Fact]
    public void FirstPostNotifiesLaterPostsDoNot()
    {
        var pid = new PostedInterruptDescriptor();
        Assert.True(pid.Post(0x45));
        Assert.True(pid.On);
        Assert.False(pid.Post(0x46)); // ON already set: the pending notification covers it
        Assert.True(pid.Pir.Test(0x45) && pid.Pir.Test(0x46));
    }

    [Fact]
    public void SuppressNotificationPostsSilentlyAndLeavesOnClear()
    {
        var pid = new PostedInterruptDescriptor { Sn = true };
        Assert.False(pid.Post(0x45));
        Assert.False(pid.On);
        Assert.True(pid.Pir.Test(0x45));
        pid.Sn = false;
        Assert.True(pid.Post(0x46));
    }

    [Fact]
    public void TakePirClearsOnlyThePir()
    {
        var pid = new PostedInterruptDescriptor { Nv = 0xf2 };
        pid.Post(0x20); pid.Post(0xff);
        var pir = pid.TakePir();
        Assert.Equal(2, pir.Count);
        Assert.True(pid.Pir.IsEmpty);
        Assert.True(pid.On);
        Assert.Equal(0xf2, pid.Nv);
    }
}
