using NestedApic.Hardware.Apic;
using NestedApic.Hardware.Vmx;

namespace NestedApic.Tests.Hardware.Vmx;

/// <summary>Worked examples of the SDM ch. 29 algorithms.</summary>
public class VirtualApicTests
{
    private static VmxControls Vid() => new()
    {
        Pin = 0xbf, Primary = 0x84206172, Secondary = 0x210, Exit = 0x002beffb, PiNotificationVector = 0xf2,
    };

    private static VirtualApic WithVirr(params byte[] vectors)
    {
        var va = new VirtualApic();
        foreach (var v in vectors) va.Page.Virr.Set(v);
        va.Status.Rvi = (byte)Math.Max(0, va.Page.Virr.Highest());
        return va;
    }

    [Theory]
    [InlineData(0x35u, 0x20, 0x35u)] // VTPR class above SVI's: VPPR = VTPR
    [InlineData(0x35u, 0x41, 0x40u)] // SVI class above: SVI & 0xF0
    [InlineData(0x4au, 0x45, 0x4au)] // equal classes: VTPR (>=)
    [InlineData(0xffffff20u, 0x00, 0x20u)] // only VTPR[7:0] is copied
    public void PprVirtualization(uint vtpr, int svi, uint vppr)
    {
        var va = new VirtualApic();
        va.Page.Vtpr = vtpr; va.Status.Svi = (byte)svi;
        va.PprVirtualization();
        Assert.Equal(vppr, va.Page.Vppr);
    }

    [Fact]
    public void TprVirtualizationWithoutVidComparesThreshold()
    {
        var c = new VmxControls { Primary = 0x04206172, TprThreshold = 5 };
        var va = new VirtualApic();
        va.Page.Vtpr = 0x4f;
        Assert.Equal(ApicVirtualizationOutcome.TprBelowThresholdExit, va.TprVirtualization(c));
        va.Page.Vtpr = 0x50;
        Assert.Equal(ApicVirtualizationOutcome.Continue, va.TprVirtualization(c));
    }

    [Fact]
    public void TprVirtualizationWithVidEvaluatesAndNeverExits()
    {
        var c = Vid(); c.TprThreshold = 0xf;
        var va = WithVirr(0x61);
        va.Page.Vtpr = 0x60;
        Assert.Equal(ApicVirtualizationOutcome.Continue, va.TprVirtualization(c)); // same class: blocked
        Assert.Equal(0x60u, va.Page.Vppr);
        va.Page.Vtpr = 0x50;
        Assert.Equal(ApicVirtualizationOutcome.VirtualInterruptRecognized, va.TprVirtualization(c));
        Assert.True(va.Recognized);
    }

    [Fact]
    public void EoiWithTwoVectorsInService()
    {
        var c = Vid();
        var va = new VirtualApic();
        va.Page.Visr.Set(0x31); va.Page.Visr.Set(0x52);
        va.Status.Svi = 0x52;

        Assert.Equal(ApicVirtualizationOutcome.Continue, va.EoiVirtualization(c, out byte v));
        Assert.Equal(0x52, v);
        Assert.Equal(0x31, va.Status.Svi);
        Assert.Equal(0x30u, va.Page.Vppr);
        Assert.False(va.Page.Visr.Test(0x52));

        va.EoiVirtualization(c, out v);
        Assert.Equal(0x31, v);
        Assert.Equal(0, va.Status.Svi);
        Assert.Equal(0u, va.Page.Vppr);
        Assert.True(va.Page.Visr.IsEmpty);
    }

    [Fact]
    public void EoiExitBitmapTurnsEoiIntoVmExitAfterUpdatingState()
    {
        var c = Vid(); c.EoiExitBitmap.Set(0x52);
        var va = WithVirr(0x41);
        va.Page.Visr.Set(0x52); va.Status.Svi = 0x52; va.Page.Vppr = 0x50;
        Assert.Equal(ApicVirtualizationOutcome.EoiInducedExit, va.EoiVirtualization(c, out byte v));
        Assert.Equal(0x52, v); // the exit qualification
        Assert.Equal(0, va.Status.Svi);
        Assert.False(va.Recognized); // no evaluation on the exit path
    }

    [Fact]
    public void EoiLetsABlockedVectorThrough()
    {
        var c = Vid();
        var va = WithVirr(0x41);
        va.Page.Visr.Set(0x52); va.Status.Svi = 0x52; va.Page.Vppr = 0x50;
        Assert.Equal(ApicVirtualizationOutcome.VirtualInterruptRecognized, va.EoiVirtualization(c, out _));
        Assert.Equal(0x41, va.DeliverVirtualInterrupt(c, interruptible: true));
    }

    [Fact]
    public void SelfIpiRaisesRviOnlyUpwards()
    {
        var c = Vid();
        var va = WithVirr(0x40);
        va.Page.Vtpr = 0x40; va.PprVirtualization();
        Assert.Equal(ApicVirtualizationOutcome.Continue, va.SelfIpiVirtualization(c, 0x30));
        Assert.Equal(0x40, va.Status.Rvi);
        Assert.True(va.Page.Virr.Test(0x30));
        Assert.Equal(ApicVirtualizationOutcome.VirtualInterruptRecognized, va.SelfIpiVirtualization(c, 0x50));
        Assert.Equal(0x50, va.Status.Rvi);
    }

    [Fact]
    public void InterruptWindowExitingSuppressesRecognition()
    {
        var c = Vid(); c.Primary |= PrimaryControls.InterruptWindowExiting;
        var va = WithVirr(0xf1);
        Assert.Equal(ApicVirtualizationOutcome.Continue, va.EvaluatePendingVirtualInterrupts(c));
        c.Primary &= ~PrimaryControls.InterruptWindowExiting;
        Assert.Equal(ApicVirtualizationOutcome.VirtualInterruptRecognized, va.EvaluatePendingVirtualInterrupts(c));
        // Delivery too waits while interrupt-window exiting is 1 (SDM 29.2.2 condition 4).
        c.Primary |= PrimaryControls.InterruptWindowExiting;
        Assert.Equal(-1, va.DeliverVirtualInterrupt(c, interruptible: true));
        Assert.True(va.Recognized);
    }

    [Fact]
    public void DeliveryMovesRviToServiceAndPicksNextRvi()
    {
        var c = Vid();
        var va = WithVirr(0x61, 0x35);
        va.EvaluatePendingVirtualInterrupts(c);
        Assert.Equal(-1, va.DeliverVirtualInterrupt(c, interruptible: false));
        Assert.Equal(0x61, va.Status.Rvi);

        Assert.Equal(0x61, va.DeliverVirtualInterrupt(c, interruptible: true));
        Assert.True(va.Page.Visr.Test(0x61));
        Assert.False(va.Page.Virr.Test(0x61));
        Assert.Equal(new GuestInterruptStatus(rvi: 0x35, svi: 0x61), va.Status);
        Assert.Equal(0x60u, va.Page.Vppr);
        Assert.False(va.Recognized);
        Assert.Equal(-1, va.DeliverVirtualInterrupt(c, interruptible: true));
        // 0x35 stays blocked behind in-service 0x61.
        Assert.Equal(ApicVirtualizationOutcome.Continue, va.EvaluatePendingVirtualInterrupts(c));
    }

    [Fact]
    public void PostedInterruptProcessingMovesPirToVirr()
    {
        var c = Vid();
        var va = WithVirr(0x30);
        var pid = new PostedInterruptDescriptor();
        Assert.True(pid.Post(0x45));
        pid.Post(0x91);

        Assert.Equal(ApicVirtualizationOutcome.ExternalInterruptExit, va.ProcessPostedInterrupt(c, 0xf3, ref pid));
        Assert.True(pid.On); // untouched on a mismatch

        Assert.Equal(ApicVirtualizationOutcome.VirtualInterruptRecognized, va.ProcessPostedInterrupt(c, 0xf2, ref pid));
        Assert.False(pid.On);
        Assert.True(pid.Pir.IsEmpty);
        Assert.True(va.Page.Virr.Test(0x45) && va.Page.Virr.Test(0x91) && va.Page.Virr.Test(0x30));
        Assert.Equal(0x91, va.Status.Rvi);
    }

    [Fact]
    public void EmptyPirLeavesRviAlone()
    {
        var c = Vid();
        var va = WithVirr(0x30);
        va.Page.Vtpr = 0x30; va.PprVirtualization();
        var pid = new PostedInterruptDescriptor { On = true };
        Assert.Equal(ApicVirtualizationOutcome.Continue, va.ProcessPostedInterrupt(c, 0xf2, ref pid));
        Assert.Equal(0x30, va.Status.Rvi);
        Assert.False(pid.On);
    }

    [Fact]
    public void PostedInterruptsOffMeansAnOrdinaryExit()
    {
        var c = Vid(); c.Pin &= ~PinBasedControls.ProcessPostedInterrupts;
        var va = new VirtualApic();
        var pid = new PostedInterruptDescriptor();
        pid.Post(0x45);
        Assert.Equal(ApicVirtualizationOutcome.ExternalInterruptExit, va.ProcessPostedInterrupt(c, 0xf2, ref pid));
        Assert.True(pid.Pir.Test(0x45));
    }

    [Fact]
    public void PhysicalApicIsAcknowledgedAndEoidOnlyOnMatch()
    {
        var c = Vid();
        var va = new VirtualApic();
        var pid = new PostedInterruptDescriptor();
        pid.Post(0x45);
        var apic = new LocalApic();
        apic.Accept(0xf2, false);
        Assert.Equal(ApicVirtualizationOutcome.VirtualInterruptRecognized, va.ProcessPostedInterrupt(c, ref apic, ref pid, out int pv));
        Assert.Equal(0xf2, pv);
        Assert.True(apic.Isr.IsEmpty && apic.Irr.IsEmpty);

        apic.Accept(0xec, false);
        Assert.Equal(ApicVirtualizationOutcome.ExternalInterruptExit, va.ProcessPostedInterrupt(c, ref apic, ref pid, out pv));
        Assert.Equal(0xec, pv);
        Assert.True(apic.Isr.Test(0xec)); // left in service for the host's handler
    }

    [Fact]
    public void VmEntryEvaluatesWithVidAndExitsBelowThresholdWithVaa()
    {
        var va = WithVirr(0x81);
        va.Page.Vtpr = 0x70;
        Assert.Equal(ApicVirtualizationOutcome.VirtualInterruptRecognized, va.OnVmEntry(Vid()));
        Assert.Equal(0x70u, va.Page.Vppr);

        var vaa = new VmxControls { Primary = 0x84206172, Secondary = SecondaryControls.VirtualizeApicAccesses, TprThreshold = 8 };
        Assert.Equal(ApicVirtualizationOutcome.TprBelowThresholdExit, va.OnVmEntry(vaa));
        va.Page.Vtpr = 0x80;
        Assert.Equal(ApicVirtualizationOutcome.Continue, va.OnVmEntry(vaa));
    }

    [Fact]
    public void RegisterOffsetsFollowThePageLayout()
    {
        Assert.Equal(0x200, VirtualApicPage.VectorWordOffset(VirtualApicPage.VirrOffset, 0x1f));
        Assert.Equal(0x210, VirtualApicPage.VectorWordOffset(VirtualApicPage.VirrOffset, 0x21));
        Assert.Equal(0x170, VirtualApicPage.VectorWordOffset(VirtualApicPage.VisrOffset, 0xff));
        var gis = new GuestInterruptStatus(0x3145);
        Assert.Equal(0x45, gis.Rvi);
        Assert.Equal(0x31, gis.Svi);
        gis.Rvi = 0x99;
        Assert.Equal((ushort)0x3199, gis.Value);
    }
}
