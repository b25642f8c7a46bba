using NestedApic.Hardware.Svm;

namespace NestedApic.Tests.Hardware.Svm;

/// <summary>APM §15.29.6.2: device interrupts posted by the IOMMU in GA mode.</summary>
public class GaIommuTests
{
    private static GaIrte Irte(bool isRun, bool gaLog = true) => new()
    {
        GuestMode = true, IsRun = isRun, GaLogIntr = gaLog, Vector = 0x55,
        Destination = 2, GaRootPointer = AvicMachine.PageAddress(1), GaTag = 0x0100_0001,
    };

    private static AvicMachine Machine()
    {
        var m = AvicMachine.Create(2);
        m.Vmrun(2, VmcbControls.TestBaseline with { IntCtl = IntCtl.AvicEnable, AvicBackingPage = AvicMachine.PageAddress(1) });
        return m;
    }

    [Fact]
    public void RunningTargetGetsIrrAndDoorbell()
    {
        var m = Machine();
        Assert.Equal(GaPostResult.Doorbell, m.PostGa(Irte(isRun: true)));
        Assert.True(m.Page(1).Apic.Irr.Test(0x55));
        Assert.True(m.Core(2).InterruptRecognized); // the doorbell made core 2 evaluate page 1
        Assert.Equal(0, m.GaLog.Count);
    }

    [Fact]
    public void NotRunningTargetGetsIrrAndAGaLogEntry()
    {
        var m = Machine();
        m.Vmexit(2);
        Assert.Equal(GaPostResult.GaLogged, m.PostGa(Irte(isRun: false)));
        Assert.True(m.Page(1).Apic.Irr.Test(0x55));
        Assert.False(m.Core(2).InterruptRecognized);
        Assert.True(m.GaLog.TryTake(out uint tag));
        Assert.Equal(0x0100_0001u, tag);
        Assert.False(m.GaLog.TryTake(out _));
    }

    [Fact]
    public void SilentLegacyAndInvalidRoot()
    {
        var m = Machine();
        Assert.Equal(GaPostResult.Silent, m.PostGa(Irte(isRun: false, gaLog: false)));
        Assert.Equal(0, m.GaLog.Count);
        Assert.True(m.Page(1).Apic.Irr.Test(0x55));

        var legacy = Irte(isRun: true) with { GuestMode = false, Vector = 0x66 };
        Assert.Equal(GaPostResult.Legacy, m.PostGa(legacy));
        Assert.False(m.Page(1).Apic.Irr.Test(0x66));
        Assert.Equal(GaPostResult.InvalidRoot, m.PostGa(Irte(isRun: true) with { GaRootPointer = 0x7000_0000 }));
    }

    [Fact]
    public void GaLogIsBounded()
    {
        var m = Machine();
        for (int i = 0; i < GaLog.Capacity; i++)
            Assert.Equal(GaPostResult.GaLogged, m.PostGa(Irte(isRun: false) with { GaTag = (uint)i }));
        Assert.Equal(GaPostResult.GaLogOverflow, m.PostGa(Irte(isRun: false)));
        Assert.True(m.GaLog.Overflowed);
        Assert.True(m.GaLog.TryTake(out uint first));
        Assert.Equal(0u, first); // oldest first
        Assert.Equal(GaLog.Capacity - 1, m.GaLog.Count);
    }
}
