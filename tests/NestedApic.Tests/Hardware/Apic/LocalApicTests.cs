using NestedApic.Hardware.Apic;

namespace NestedApic.Tests.Hardware.Apic;

public class LocalApicTests
{
    [Theory]
    // SDM 10.8.3.1: PPR = TPR when TPR[7:4] >= ISRV[7:4], else ISRV[7:4]:0.
    [InlineData(0x35, 0x20, 0x35)] // TPR class above ISRV class
    [InlineData(0x20, 0x61, 0x60)] // ISRV class above: low nibble dropped
    [InlineData(0x6f, 0x61, 0x6f)] // same class: TPR wins, low nibble kept
    [InlineData(0x00, -1, 0x00)]   // empty ISR counts as 0
    public void PprFollowsTprAndIsrv(int tpr, int isrVector, int expectedPpr)
    {
        var apic = new LocalApic { Tpr = (byte)tpr };
        if (isrVector >= 0) apic.Isr.Set((byte)isrVector);
        Assert.Equal((byte)expectedPpr, apic.Ppr);
    }

    [Fact]
    public void VectorsBelowSixteenAreIllegal()
    {
        var apic = new LocalApic();
        for (int v = 0; v < 16; v++) Assert.Equal(AcceptResult.IllegalVector, apic.Accept((byte)v, false));
        Assert.True(apic.Irr.IsEmpty);
        Assert.Equal(AcceptResult.Accepted, apic.Accept(16, false));
        Assert.Equal(16, apic.HighestPending);
    }

    [Fact]
    public void SecondRequestCoalescesAndTmrTracksTriggerMode()
    {
        var apic = new LocalApic();
        Assert.Equal(AcceptResult.Accepted, apic.Accept(0x40, levelTriggered: true));
        Assert.True(apic.Tmr.Test(0x40));
        Assert.Equal(AcceptResult.Coalesced, apic.Accept(0x40, levelTriggered: false));
        Assert.False(apic.Tmr.Test(0x40));
    }

    [Fact]
    public void DeliveryNeedsAClassAbovePpr()
    {
        var apic = new LocalApic { Tpr = 0x50 };
        apic.Accept(0x55, false);
        Assert.False(apic.HasDeliverable);
        Assert.Equal(-1, apic.Deliver());
        apic.Accept(0x61, false);
        Assert.True(apic.HasDeliverable);
        Assert.Equal(0x61, apic.Deliver());
        Assert.True(apic.Isr.Test(0x61));
        Assert.False(apic.Irr.Test(0x61));
        Assert.Equal(0x60, apic.Ppr);
        // 0x55 is still blocked, now by the in-service class 6.
        Assert.Equal(-1, apic.Deliver());
    }

    [Fact]
    public void EoiClearsHighestInServiceAndReportsTrigger()
    {
        var apic = new LocalApic();
        apic.Accept(0x31, levelTriggered: true);
        Assert.Equal(0x31, apic.Deliver());
        apic.Accept(0x52, levelTriggered: false);
        Assert.Equal(0x52, apic.Deliver());

        Assert.Equal(0x52, apic.Eoi(out bool level));
        Assert.False(level);
        Assert.Equal(0x31, apic.Eoi(out level));
        Assert.True(level);
        Assert.Equal(-1, apic.Eoi(out level));
        Assert.False(level);
        apic.Accept(0x20, levelTriggered: true);
        apic.Deliver();
        Assert.Equal(0x20, apic.Eoi());
        Assert.True(apic.Isr.IsEmpty);
    }
}
