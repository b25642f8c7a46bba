using NestedApic.Hardware.Svm;

namespace NestedApic.Tests.Hardware.Svm;

public class VmrunChecksTests
{
    private const int MaxPhy = 46;
    private const ulong Top = 1UL << MaxPhy;

    private static VmcbControls Avic(uint extra = 0) => VmcbControls.TestBaseline with
    {
        IntCtl = IntCtl.AvicEnable | extra,
        AvicBackingPage = 0x10_0000, AvicLogicalTable = 0x20_0000, AvicPhysicalTable = 0x30_0000 | 7,
    };

    [Fact]
    public void OffsetsAndBitsAreTheApmValues()
    {
        Assert.Equal(0x060, VmcbOffset.IntCtl);
        Assert.Equal(0x098, VmcbOffset.AvicApicBar);
        Assert.Equal(0x0E0, VmcbOffset.AvicBackingPage);
        Assert.Equal(0x0F0, VmcbOffset.AvicLogicalTable);
        Assert.Equal(0x0F8, VmcbOffset.AvicPhysicalTable);
        Assert.Equal(0x80000000u, IntCtl.AvicEnable);
        Assert.Equal(0x40000000u, IntCtl.X2AvicEnable);
        Assert.Equal(0x04000000u, IntCtl.VNmiEnable);
        Assert.Equal(0x01000000u, IntCtl.VIntrMasking);
        Assert.Equal(0x000F0000u, IntCtl.VIntrPrioMask);
        Assert.Equal(0x100u, IntCtl.VIrq);
        Assert.Equal(0xC001011Bu, AvicDoorbell.Msr);
        Assert.Equal(0x401, SvmExitCode.AvicIncompleteIpi);
        Assert.Equal(0x402, SvmExitCode.AvicNoAccel);
        Assert.Equal(-1, VmrunChecks.VmexitInvalid);
    }

    [Fact]
    public void BaselinePasses() =>
        Assert.Equal(VmrunRule.None, VmrunChecks.Check(VmcbControls.TestBaseline, MaxPhy));

    [Fact]
    public void VmrunInterceptClearFails()
    {
        var c = VmcbControls.TestBaseline with { InterceptMisc2 = InterceptMisc2.Vmmcall };
        Assert.Equal(VmrunRule.VmrunIntercept, VmrunChecks.Check(c, MaxPhy));
        Assert.Equal(VmrunChecks.VmexitInvalid, VmrunChecks.ExitCodeFor(VmrunChecks.Check(c, MaxPhy)));
    }

    [Fact]
    public void AsidZeroFails() =>
        Assert.Equal(VmrunRule.AsidNonzero, VmrunChecks.Check(VmcbControls.TestBaseline with { Asid = 0 }, MaxPhy));

    [Theory]
    // MSRPM, 8 KiB: the page of the base (bits 11:0 dropped) plus 8 KiB must stay below 2^MAXPHYADDR.
    [InlineData(Top - 0x2000, false)]
    [InlineData(Top - 0x2000 + 1, false)]
    [InlineData(Top - 0x1000, false)]
    [InlineData(Top - 0x3000, true)]
    [InlineData(Top - 0x2001, true)] // page Top-12K
    [InlineData(0x4d8fff, true)]
    public void MsrpmBoundary(ulong msrpm, bool ok) =>
        Assert.Equal(ok ? VmrunRule.None : VmrunRule.MsrpmAddr,
            VmrunChecks.Check(VmcbControls.TestBaseline with { MsrpmBasePa = msrpm }, MaxPhy));

    [Theory]
    // IOPM, 8 KiB + 1 byte: Top-16K, Top-12K and Top-8K-2 pass; Top-8K and Top-4K fail.
    [InlineData(Top - 0x4000, true)]
    [InlineData(Top - 0x3000, true)]
    [InlineData(Top - 0x2002, true)]
    [InlineData(Top - 0x2000, false)]
    [InlineData(Top - 0x1000, false)]
    [InlineData(Top + 0x1000, false)]
    public void IopmBoundary(ulong iopm, bool ok) =>
        Assert.Equal(ok ? VmrunRule.None : VmrunRule.IopmAddr,
            VmrunChecks.Check(VmcbControls.TestBaseline with { IopmBasePa = iopm }, MaxPhy));

    [Fact]
    public void VnmiNeedsTheNmiIntercept()
    {
        var c = VmcbControls.TestBaseline with { IntCtl = IntCtl.VNmiEnable };
        Assert.Equal(VmrunRule.VnmiRequiresNmiIntercept, VmrunChecks.Check(c, MaxPhy));
        c.InterceptMisc1 |= InterceptMisc1.Nmi;
        Assert.Equal(VmrunRule.None, VmrunChecks.Check(c, MaxPhy));
    }

    [Fact]
    public void X2AvicWithoutAvicFails()
    {
        var c = VmcbControls.TestBaseline with { IntCtl = IntCtl.X2AvicEnable };
        Assert.Equal(VmrunRule.X2AvicRequiresAvic, VmrunChecks.Check(c, MaxPhy));
        Assert.Equal(VmrunRule.None, VmrunChecks.Check(Avic(IntCtl.X2AvicEnable), MaxPhy));
    }

    [Theory]
    [InlineData(false, false, 0xFF, true)]
    [InlineData(false, false, 0x100, false)]
    [InlineData(true, false, 0x1FF, true)]
    [InlineData(true, false, 0x200, false)]
    [InlineData(true, true, 0xFFF, true)]
    public void PhysicalMaxIndexLimits(bool x2, bool ext, int maxIndex, bool ok)
    {
        var c = Avic(x2 ? IntCtl.X2AvicEnable : 0);
        c.AvicPhysicalTable = 0x30_0000 | (ulong)maxIndex;
        Assert.Equal(ok ? VmrunRule.None : VmrunRule.AvicPhysicalMaxIndex, VmrunChecks.Check(c, MaxPhy, ext));
    }

    [Fact]
    public void AvicPointersMustBeLegal()
    {
        Assert.Equal(VmrunRule.None, VmrunChecks.Check(Avic(), MaxPhy));
        Assert.Equal(VmrunRule.AvicBackingPageAddr, VmrunChecks.Check(Avic() with { AvicBackingPage = 0x10_0008 }, MaxPhy));
        Assert.Equal(VmrunRule.AvicBackingPageAddr, VmrunChecks.Check(Avic() with { AvicBackingPage = Top }, MaxPhy));
        Assert.Equal(VmrunRule.AvicPhysicalTableAddr, VmrunChecks.Check(Avic() with { AvicPhysicalTable = Top | 7 }, MaxPhy));
        Assert.Equal(VmrunRule.AvicLogicalTableAddr, VmrunChecks.Check(Avic() with { AvicLogicalTable = 0x20_0004 }, MaxPhy));
        // x2AVIC ignores the logical table; with AVIC off none of the pointers is looked at.
        Assert.Equal(VmrunRule.None, VmrunChecks.Check(Avic(IntCtl.X2AvicEnable) with { AvicLogicalTable = 0x20_0004 }, MaxPhy));
        Assert.Equal(VmrunRule.None, VmrunChecks.Check(VmcbControls.TestBaseline with { AvicBackingPage = 1 }, MaxPhy));
    }

    [Fact]
    public void RuleIdsRoundTripAndAreDistinct()
    {
        var ids = new HashSet<string>();
        for (var r = VmrunRule.VmrunIntercept; r <= VmrunRule.AvicLogicalTableAddr; r++)
        {
            Assert.True(ids.Add(r.Id()!));
            Assert.True(VmrunRuleIds.TryParse(r.Id()!, out var back));
            Assert.Equal(r, back);
        }
        Assert.False(VmrunRuleIds.TryParse(VmrunRuleIds.Baseline, out _));
        Assert.Null(VmrunRule.None.Id());
    }
}
