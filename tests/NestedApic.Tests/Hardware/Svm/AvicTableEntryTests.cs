using System.Runtime.CompilerServices;
using NestedApic.Hardware.Svm;

namespace NestedApic.Tests.Hardware.Svm;

public class AvicTableEntryTests
{
    [Fact]
    public void PhysicalEntryBitLayout()
    {
        Assert.Equal(8, Unsafe.SizeOf<AvicPhysicalIdEntry>());
        Assert.Equal(1UL << 63, new AvicPhysicalIdEntry { Valid = true }.Value);
        Assert.Equal(1UL << 62, new AvicPhysicalIdEntry { IsRunning = true }.Value);
        Assert.Equal(0xABCUL, new AvicPhysicalIdEntry { HostApicId = 0xFABC }.Value); // 12 bits kept
        Assert.Equal(0x000F_FFFF_FFFF_F000UL, new AvicPhysicalIdEntry { BackingPage = ulong.MaxValue }.Value);
        var e = new AvicPhysicalIdEntry(0xC000_0000_1234_5003UL);
        Assert.True(e.Valid && e.IsRunning);
        Assert.Equal(0x1234_5000UL, e.BackingPage);
        Assert.Equal(3, e.HostApicId);
        e.IsRunning = false;
        Assert.Equal(0x8000_0000_1234_5003UL, e.Value);
        Assert.Equal(0UL, e.Value & AvicPhysicalIdEntry.ReservedMask);
    }

    [Fact]
    public void LogicalEntryBitLayout()
    {
        Assert.Equal(4, Unsafe.SizeOf<AvicLogicalIdEntry>());
        Assert.Equal(0x8000_0005u, new AvicLogicalIdEntry(valid: true, 5).Value);
        var e = new AvicLogicalIdEntry(0x0000_01FFu); // bit 8 is reserved, not part of the ID
        Assert.False(e.Valid);
        Assert.Equal(0xFF, e.GuestPhysicalApicId);
        e.Valid = true;
        Assert.Equal(0x8000_01FFu, e.Value);
    }

    [Fact]
    public void FlatAndClusterIndexing()
    {
        Assert.Equal(0, AvicLogicalIndex.Flat(0));
        Assert.Equal(7, AvicLogicalIndex.Flat(7));
        // Cluster 2, member bit 3: byte offset 16*2 + 4*3 = 44, entry 11.
        Assert.Equal(11, AvicLogicalIndex.Cluster(2, 3));
        Assert.Equal(44, AvicLogicalIndex.Cluster(2, 3) * 4);
        Assert.Equal(58, AvicLogicalIndex.Cluster(14, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => AvicLogicalIndex.Cluster(15, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => AvicLogicalIndex.Flat(8));
    }

    [Fact]
    public void BackingPageIsTheApicRegisterLayout()
    {
        Assert.Equal(0x200, AvicBackingPage.IrrOffset);
        Assert.Equal(0x270, AvicBackingPage.VectorWordOffset(AvicBackingPage.IrrOffset, 0xFF));
        Assert.Equal(0x210, AvicBackingPage.VectorWordOffset(AvicBackingPage.IrrOffset, 0x20));
        Assert.Equal(0x100, AvicBackingPage.VectorWordOffset(AvicBackingPage.IsrOffset, 0x1F));
        var p = AvicBackingPage.ForApicId(3);
        Assert.Equal(3, p.XApicId);
        Assert.True(p.FlatModel);
    }
}
