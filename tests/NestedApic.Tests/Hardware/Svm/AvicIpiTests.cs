using NestedApic.Hardware.Svm;

namespace NestedApic.Tests.Hardware.Svm;

/// <summary>Worked examples of APM §15.29.6.1 (IPIs) and §15.29.8.2 (doorbell).</summary>
public class AvicIpiTests
{
    private static VmcbControls Vmcb(int pageSlot, bool avic = true) => VmcbControls.TestBaseline with
    {
        IntCtl = avic ? IntCtl.AvicEnable : 0,
        AvicBackingPage = AvicMachine.PageAddress(pageSlot),
        AvicPhysicalTable = 0x30_0000 | 3,
    };

    /// <summary>Four vCPUs; vCPU i runs (guest mode, IR=1) on core i when <paramref name="running"/> has bit i.</summary>
    private static AvicMachine Machine(int running)
    {
        var m = AvicMachine.Create(4);
        for (int i = 0; i < 4; i++)
        {
            if ((running >> i & 1) == 0) continue;
            m.Physical(i).IsRunning = true;
            m.Physical(i).HostApicId = (ushort)i;
            m.Vmrun(i, Vmcb(i));
        }
        return m;
    }

    [Fact]
    public void BroadcastWithOneTargetNotRunning()
    {
        var m = Machine(running: 0b0111); // vCPU 3 not running
        m.Physical(2).Valid = false;      // and entry 2 invalid: skipped by a broadcast
        var o = m.WriteIcr(0, Icr.Low(0x40, shorthand: Icr.ShorthandAllExcludingSelf), 0);

        Assert.Equal(0b1010, o.IrrSet);   // 1 and 3: every valid target but the sender
        Assert.True(m.Page(1).Apic.Irr.Test(0x40));
        Assert.True(m.Page(3).Apic.Irr.Test(0x40));
        Assert.False(m.Page(0).Apic.Irr.Test(0x40));
        Assert.False(m.Page(2).Apic.Irr.Test(0x40));
        Assert.Equal(0b0010, o.Doorbells); // only the running target
        Assert.True(m.Core(1).InterruptRecognized);
        Assert.Equal(SvmExitCode.AvicIncompleteIpi, o.ExitCode);
        Assert.Equal(IncompleteIpiCause.TargetNotRunning, o.Cause);
        Assert.Equal(3, o.Index);
        Assert.Equal(1UL << 32 | 3, o.ExitInfo2);
        Assert.Equal(0x40u | 3u << 18, (uint)o.ExitInfo1);
    }

    [Fact]
    public void BroadcastToAllRunningIncludingSelfNeedsNoExit()
    {
        var m = Machine(running: 0b1111);
        var o = m.WriteIcr(2, Icr.Low(0x31), Icr.High(Icr.BroadcastDestination));
        Assert.Null(o.ExitCode);
        Assert.Equal(0b1111, o.IrrSet);
        Assert.Equal(0b1111, o.Doorbells);
    }

    [Fact]
    public void SelfIpiSetsOwnIrrAndDoorbellsSelf()
    {
        var m = Machine(running: 0b0001);
        var o = m.WriteIcr(0, Icr.Low(0x50, shorthand: Icr.ShorthandSelf), 0);
        Assert.Null(o.ExitCode);
        Assert.True(m.Page(0).Apic.Irr.Test(0x50));
        Assert.Equal(0b0001, o.IrrSet);
        Assert.Equal(0b0001, o.Doorbells);
        Assert.True(m.Core(0).InterruptRecognized);
    }

    [Fact]
    public void LogicalClusterDestination()
    {
        var m = Machine(running: 0b1111);
        m.Page(0).Dfr = 0x0FFF_FFFF; // sender in the cluster model
        m.Logical(AvicLogicalIndex.Cluster(1, 0)) = new AvicLogicalIdEntry(true, 2);
        m.Logical(AvicLogicalIndex.Cluster(1, 2)) = new AvicLogicalIdEntry(true, 3);
        // Cluster 1, members 0 and 2: logical ID 0x15.
        var o = m.WriteIcr(0, Icr.Low(0x61, logical: true), Icr.High(0x15));
        Assert.Null(o.ExitCode);
        Assert.Equal(0b1100, o.IrrSet);
        Assert.True(m.Page(2).Apic.Irr.Test(0x61) && m.Page(3).Apic.Irr.Test(0x61));
        Assert.False(m.Page(1).Apic.Irr.Test(0x61));

        // Member bit 1 of cluster 1 has no valid entry: invalid target, nothing written.
        var bad = m.WriteIcr(0, Icr.Low(0x62, logical: true), Icr.High(0x13));
        Assert.Equal(IncompleteIpiCause.InvalidTarget, bad.Cause);
        Assert.Equal(AvicLogicalIndex.Cluster(1, 1), bad.Index);
        Assert.False(m.Page(2).Apic.Irr.Test(0x62));
    }

    [Fact]
    public void LogicalFlatDestination()
    {
        var m = Machine(running: 0b0011);
        m.Logical(AvicLogicalIndex.Flat(4)) = new AvicLogicalIdEntry(true, 1);
        var o = m.WriteIcr(0, Icr.Low(0x70, logical: true), Icr.High(0x10));
        Assert.Null(o.ExitCode);
        Assert.Equal(0b0010, o.IrrSet);
        Assert.Equal(0b0010, o.Doorbells);
    }

    [Fact]
    public void DirectedIpiToInvalidOrOutOfRangeTarget()
    {
        var m = Machine(running: 0b0001);
        m.Physical(1).Valid = false;
        var o = m.WriteIcr(0, Icr.Low(0x40), Icr.High(1));
        Assert.Equal(SvmExitCode.AvicIncompleteIpi, o.ExitCode);
        Assert.Equal(IncompleteIpiCause.InvalidTarget, o.Cause);
        Assert.Equal(1, o.Index);
        Assert.Equal(0, o.IrrSet);
        Assert.False(m.Page(1).Apic.Irr.Test(0x40));
        // Above MAX_INDEX (3) is invalid too.
        Assert.Equal(IncompleteIpiCause.InvalidTarget, m.WriteIcr(0, Icr.Low(0x40), Icr.High(5)).Cause);
    }

    [Fact]
    public void InvalidBackingPage()
    {
        var m = Machine(running: 0b0001);
        m.Physical(2).BackingPage = 0x7000_0000;
        var o = m.WriteIcr(0, Icr.Low(0x40), Icr.High(2));
        Assert.Equal(IncompleteIpiCause.InvalidBackingPage, o.Cause);
        Assert.Equal(2, o.Index);
    }

    [Theory]
    [InlineData(Icr.DeliveryModeNmi, false, 0x40, IncompleteIpiCause.InvalidIntType)]
    [InlineData(Icr.DeliveryModeInit, false, 0x00, IncompleteIpiCause.InvalidIntType)]
    [InlineData(Icr.DeliveryModeLowestPriority, false, 0x40, IncompleteIpiCause.InvalidIntType)]
    [InlineData(Icr.DeliveryModeFixed, true, 0x40, IncompleteIpiCause.InvalidIntType)]
    [InlineData(Icr.DeliveryModeFixed, false, 0x0F, IncompleteIpiCause.InvalidVector)]
    public void UnacceleratedIpisExitWithoutTouchingIrr(uint mode, bool level, byte vector, IncompleteIpiCause cause)
    {
        var m = Machine(running: 0b0011);
        var o = m.WriteIcr(0, Icr.Low(vector, mode, level: level), Icr.High(1));
        Assert.Equal(SvmExitCode.AvicIncompleteIpi, o.ExitCode);
        Assert.Equal(cause, o.Cause);
        Assert.True(m.Page(1).Apic.Irr.IsEmpty);
        Assert.Equal(0, o.Doorbells);
    }

    [Fact]
    public void DoorbellWhileGuestRunsVmcb02EvaluatesVmcb02sPage()
    {
        // vCPU 1 runs L2 on core 1 under a hypothetical nested AVIC: vmcb02 points at page 5
        // while its physical entry (vmcb01's context) still says IsRunning on core 1.
        var m = Machine(running: 0b0011);
        m.Page(5).Apic.Irr.Set(0x90); // L2 has its own pending vector
        m.Vmrun(1, Vmcb(5));
        var o = m.WriteIcr(0, Icr.Low(0x41), Icr.High(1));

        Assert.Null(o.ExitCode);                      // the sender sees a delivered IPI
        Assert.True(m.Page(1).Apic.Irr.Test(0x41));   // L1's IRR was set...
        var d = m.Doorbell(1);
        Assert.Equal(DoorbellResult.Evaluated, d.Result);
        Assert.Equal(5, d.PageSlot);                  // ...but the doorbell evaluates vmcb02's page
        Assert.Equal(0x90, d.Vector);

        // With vmcb02's AVIC off (upstream), the doorbell evaluates nothing at all.
        m.Vmrun(1, Vmcb(5, avic: false));
        Assert.Equal(DoorbellResult.IgnoredAvicOff, m.Doorbell(1).Result);
        // In host mode it is dropped; back on vmcb01 the VMRUN itself finds 0x41.
        m.Vmexit(1);
        Assert.Equal(DoorbellResult.IgnoredHostMode, m.Doorbell(1).Result);
        m.Vmrun(1, Vmcb(1));
        Assert.True(m.Core(1).InterruptRecognized);
    }

    [Fact]
    public void DoorbellRespectsPpr()
    {
        var m = Machine(running: 0b0001);
        m.Page(0).Apic.Tpr = 0x50;
        m.Page(0).Apic.Irr.Set(0x45);
        Assert.Equal(-1, m.Doorbell(0).Vector); // class 4 is not above PPR class 5
        m.Page(0).Apic.Irr.Set(0x61);
        Assert.Equal(0x61, m.Doorbell(0).Vector);
        Assert.Equal(DoorbellResult.NoSuchCore, m.Doorbell(AvicMachine.CoreCount).Result);
    }

    [Theory]
    [InlineData(AvicBackingPage.TprOffset, true, AvicAccessKind.Accelerated)]
    [InlineData(AvicBackingPage.IdOffset, true, AvicAccessKind.Trap)]
    [InlineData(AvicBackingPage.IdOffset, false, AvicAccessKind.Allowed)]
    [InlineData(AvicBackingPage.LdrOffset, true, AvicAccessKind.Trap)]
    [InlineData(0x350, true, AvicAccessKind.Trap)]
    [InlineData(0x210, true, AvicAccessKind.Fault)]
    [InlineData(AvicBackingPage.AprOffset, false, AvicAccessKind.Fault)]
    [InlineData(AvicBackingPage.TimerCurrentCountOffset, false, AvicAccessKind.Fault)]
    [InlineData(AvicBackingPage.IcrHighOffset, true, AvicAccessKind.Allowed)]
    [InlineData(AvicBackingPage.IcrLowOffset, true, AvicAccessKind.Accelerated)]
    public void RegisterFilter(int offset, bool write, AvicAccessKind kind)
    {
        Assert.Equal(kind, AvicRegisterAccess.Classify(offset, write));
        Assert.Equal(kind is AvicAccessKind.Trap or AvicAccessKind.Fault ? SvmExitCode.AvicNoAccel : null,
            AvicRegisterAccess.ExitCode(kind));
    }

    [Fact]
    public void EoiTrapsOnlyForLevelAndNoAccelExitInfo()
    {
        Assert.Equal(AvicAccessKind.Accelerated, AvicRegisterAccess.Classify(AvicBackingPage.EoiOffset, true));
        Assert.Equal(AvicAccessKind.Trap, AvicRegisterAccess.Classify(AvicBackingPage.EoiOffset, true, levelEoi: true));
        Assert.Equal(1UL << 32 | 0x0D0, AvicRegisterAccess.ExitInfo1(AvicBackingPage.LdrOffset, write: true));
        Assert.Equal(0x090UL, AvicRegisterAccess.ExitInfo1(AvicBackingPage.AprOffset, write: false));
    }
}
