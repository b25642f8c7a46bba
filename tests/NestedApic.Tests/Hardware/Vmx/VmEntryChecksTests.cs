using NestedApic.Hardware.Vmx;
using static NestedApic.Hardware.Vmx.PinBasedControls;
using static NestedApic.Hardware.Vmx.PrimaryControls;
using static NestedApic.Hardware.Vmx.SecondaryControls;

namespace NestedApic.Tests.Hardware.Vmx;

/// <summary>Each SDM 26.2.1.1 rule both ways: broken, and the nearest configuration that passes.</summary>
public class VmEntryChecksTests
{
    private const int MaxPhy = 46;

    /// <summary>Everything on (x2APIC mode, APIC-register virtualization, VID, posted interrupts) and valid.</summary>
    private static VmxControls FullApicv() => new()
    {
        Pin = 0xbf,
        Primary = 0x84206172,
        Secondary = VirtualizeX2ApicMode | ApicRegisterVirtualization | VirtualInterruptDelivery,
        Exit = 0x002beffb,
        VirtualApicAddr = 0x4d6000,
        PiNotificationVector = 0xf2,
        PiDescAddr = 0x4d7040,
    };

    /// <summary>TPR shadow only (no VID, no VAA): the TPR-threshold rules apply.</summary>
    private static VmxControls TprShadowOnly() => new()
    {
        Pin = 0x3f, Primary = 0x04206172, Exit = 0x002b6ffb, VirtualApicAddr = 0x4d2000, Vtpr = 0xff,
    };

    private static void AssertFirst(VmEntryRule expected, in VmxControls c)
    {
        Assert.Equal(expected, VmEntryChecks.Check(c, MaxPhy));
        if (expected != VmEntryRule.None)
        {
            Assert.True(VmEntryChecks.CheckAll(c, MaxPhy).Contains(expected));
            Assert.Equal(7u, VmEntryChecks.ErrorFor(expected));
        }
    }

    [Fact]
    public void BaselinesPass()
    {
        AssertFirst(VmEntryRule.None, FullApicv());
        AssertFirst(VmEntryRule.None, TprShadowOnly());
        AssertFirst(VmEntryRule.None, VmxControls.KvmUnitTestsDefaults);
        Assert.Equal(0u, VmEntryChecks.ErrorFor(VmEntryRule.None));
    }

    [Theory]
    [InlineData(0x4d6001UL, false)]
    [InlineData(0x4d6800UL, false)]
    [InlineData(1UL << 46, false)]
    [InlineData((1UL << 46) - 0x1000, true)]
    [InlineData(0UL, true)]
    public void VapicAddrValid(ulong addr, bool ok)
    {
        var c = FullApicv(); c.VirtualApicAddr = addr;
        AssertFirst(ok ? VmEntryRule.None : VmEntryRule.VapicAddrValid, c);
        c.Primary &= ~UseTprShadow; c.Secondary = 0; c.Pin &= ~ProcessPostedInterrupts; // TPR shadow off: address not checked
        AssertFirst(VmEntryRule.None, c);
    }

    [Fact]
    public void TprThresholdRsvdBits()
    {
        var c = TprShadowOnly(); c.TprThreshold = 0x10;
        AssertFirst(VmEntryRule.TprThresholdRsvdBits, c);
        c.TprThreshold = 0xf;
        AssertFirst(VmEntryRule.None, c);
        var v = FullApicv(); v.TprThreshold = 0xffffffff; // VID on: unconstrained
        AssertFirst(VmEntryRule.None, v);
    }

    [Theory]
    [InlineData(0x5u, 0x40u, false)]
    [InlineData(0x5u, 0x50u, true)]
    [InlineData(0x1u, 0x0fu, false)]       // VTPR bits 3:0 do not count
    [InlineData(0x1u, 0xffffff0fu, false)] // nor do bits 31:8
    [InlineData(0xfu, 0xf0u, true)]
    public void TprThresholdVsVtpr(uint threshold, uint vtpr, bool ok)
    {
        var c = TprShadowOnly(); c.TprThreshold = threshold; c.Vtpr = vtpr;
        AssertFirst(ok ? VmEntryRule.None : VmEntryRule.TprThresholdVsVtpr, c);
        // With VAA on the entry succeeds and a TPR-below-threshold exit follows instead.
        c.Primary |= ActivateSecondaryControls; c.Secondary = VirtualizeApicAccesses; c.ApicAccessAddr = 0xfee00000;
        AssertFirst(VmEntryRule.None, c);
        Assert.Equal(!ok, VmEntryChecks.TprBelowThresholdExitAfterEntry(c));
    }

    [Fact]
    public void ApicAccessAddrValid()
    {
        var c = TprShadowOnly();
        c.Primary |= ActivateSecondaryControls; c.Secondary = VirtualizeApicAccesses; c.ApicAccessAddr = 0xfee00800;
        AssertFirst(VmEntryRule.ApicAccessAddrValid, c);
        c.ApicAccessAddr = 0xfee00000;
        AssertFirst(VmEntryRule.None, c);
        c.ApicAccessAddr = 0xffffffffffffffff; c.Primary &= ~ActivateSecondaryControls; // VAA inactive
        AssertFirst(VmEntryRule.None, c);
    }

    [Fact]
    public void X2ApicModeExcludesApicAccess()
    {
        var c = FullApicv(); c.Secondary |= VirtualizeApicAccesses;
        AssertFirst(VmEntryRule.X2ApicModeExcludesApicAccess, c);
        c.Secondary &= ~VirtualizeX2ApicMode;
        AssertFirst(VmEntryRule.None, c);
    }

    [Fact]
    public void VidRequiresExtIntrExiting()
    {
        var c = FullApicv(); c.Pin &= ~(ExternalInterruptExiting | ProcessPostedInterrupts);
        AssertFirst(VmEntryRule.VidRequiresExtIntrExiting, c);
        c.Secondary &= ~VirtualInterruptDelivery;
        AssertFirst(VmEntryRule.None, c);
    }

    [Fact]
    public void PiRequiresVid()
    {
        var c = FullApicv(); c.Secondary &= ~VirtualInterruptDelivery;
        AssertFirst(VmEntryRule.PiRequiresVid, c);
        c = FullApicv(); c.Primary &= ~ActivateSecondaryControls; // VID written but inactive counts as off
        c.Secondary = VirtualInterruptDelivery;
        AssertFirst(VmEntryRule.PiRequiresVid, c);
    }

    [Fact]
    public void PiRequiresAckIntrOnExit()
    {
        var c = FullApicv(); c.Exit &= ~ExitControls.AcknowledgeInterruptOnExit;
        AssertFirst(VmEntryRule.PiRequiresAckIntrOnExit, c);
        c.Pin &= ~ProcessPostedInterrupts;
        AssertFirst(VmEntryRule.None, c);
    }

    [Theory]
    [InlineData((ushort)0x0000, true)] // vectors 0-15 are legal here
    [InlineData((ushort)0x00ff, true)]
    [InlineData((ushort)0x0100, false)]
    [InlineData((ushort)0xff00, false)]
    public void PiNvRange(ushort nv, bool ok)
    {
        var c = FullApicv(); c.PiNotificationVector = nv;
        AssertFirst(ok ? VmEntryRule.None : VmEntryRule.PiNvRange, c);
        c.Pin &= ~ProcessPostedInterrupts;
        AssertFirst(VmEntryRule.None, c);
    }

    [Theory]
    [InlineData(0x40UL, true)]
    [InlineData(0x3fffffffffc0UL, true)]
    [InlineData(0x20UL, false)]
    [InlineData(0x3fffffffffe0UL, false)]
    [InlineData(0x400000000040UL, false)]
    public void PiDescAddrValid(ulong addr, bool ok)
    {
        var c = FullApicv(); c.PiDescAddr = addr;
        AssertFirst(ok ? VmEntryRule.None : VmEntryRule.PiDescAddrValid, c);
    }

    [Theory]
    [InlineData(VirtualizeX2ApicMode)]
    [InlineData(ApicRegisterVirtualization)]
    [InlineData(VirtualInterruptDelivery)]
    public void ApicvRequiresTprShadow(uint feature)
    {
        var c = new VmxControls { Pin = 0x3f, Primary = 0x84006172, Secondary = feature, Exit = 0x002b6ffb };
        AssertFirst(VmEntryRule.ApicvRequiresTprShadow, c);
        c.Primary |= UseTprShadow;
        AssertFirst(VmEntryRule.None, c);
        c.Primary &= ~(UseTprShadow | ActivateSecondaryControls); // R0: inactive secondary is ignored
        AssertFirst(VmEntryRule.None, c);
    }

    [Fact]
    public void InactiveSecondaryWordIsIgnoredEntirely()
    {
        var c = VmxControls.KvmUnitTestsDefaults; c.Secondary = 0xffffffff;
        Assert.Equal(0u, c.EffectiveSecondary);
        AssertFirst(VmEntryRule.None, c);
        c.Primary |= ActivateSecondaryControls;
        Assert.False(VmEntryChecks.CheckAll(c, MaxPhy).IsEmpty);
    }

    [Fact]
    public void CheckAllListsEveryViolationInKvmOrder()
    {
        // VID without TPR shadow and without external-interrupt exiting (conformance vidext-0004).
        var c = new VmxControls { Pin = 0x3e, Primary = 0x84006172, Secondary = VirtualInterruptDelivery };
        var all = VmEntryChecks.CheckAll(c, MaxPhy);
        Assert.Equal(2, all.Count);
        var list = new List<VmEntryRule>();
        foreach (var r in all) list.Add(r);
        Assert.Equal([VmEntryRule.VidRequiresExtIntrExiting, VmEntryRule.ApicvRequiresTprShadow], list);
        Assert.Equal(VmEntryRule.VidRequiresExtIntrExiting, VmEntryChecks.Check(c, MaxPhy));
    }

    [Fact]
    public void MaxPhyAddrIsTheAddressWidth()
    {
        var c = FullApicv(); c.VirtualApicAddr = 1UL << 39;
        Assert.Equal(VmEntryRule.VapicAddrValid, VmEntryChecks.Check(c, 39));
        Assert.Equal(VmEntryRule.None, VmEntryChecks.Check(c, 40));
    }

    [Fact]
    public void RuleIdsRoundTripAndAreUnique()
    {
        var seen = new HashSet<string>();
        for (var r = VmEntryRule.VapicAddrValid; r <= VmEntryRule.TprThresholdVsVtpr; r++)
        {
            string id = r.Id()!;
            Assert.True(seen.Add(id));
            Assert.True(VmEntryRuleIds.TryParse(id, out var back));
            Assert.Equal(r, back);
        }
        Assert.Equal(11, seen.Count);
        Assert.Null(VmEntryRule.None.Id());
        Assert.False(VmEntryRuleIds.TryParse(VmEntryRuleIds.ApicvConfigValid, out _));
    }

    [Fact]
    public void NestedStagesFollowKvmVersionAndParameters()
    {
        var c = TprShadowOnly(); c.TprThreshold = 5; c.Vtpr = 0x40;
        Assert.Equal(new NestedCheckResult(VmEntryRule.TprThresholdVsVtpr, NestedCheckStage.HardwareOnVmcs02),
            VmEntryChecks.CheckNested(c, MaxPhy));
        Assert.Equal(NestedCheckStage.LateConsistencyCheck,
            VmEntryChecks.CheckNested(c, MaxPhy, KvmNestedPolicy.Current | KvmNestedPolicy.WarnOnMissedCc).Stage);

        c.TprThreshold = 0x10; c.Vtpr = 0xff;
        Assert.Equal(NestedCheckStage.ConsistencyCheck, VmEntryChecks.CheckNested(c, MaxPhy).Stage);
        var old = VmEntryChecks.CheckNested(c, MaxPhy, KvmNestedPolicy.None);
        Assert.Equal(new NestedCheckResult(VmEntryRule.TprThresholdRsvdBits, NestedCheckStage.HardwareOnVmcs02), old);
        Assert.Equal(7u, old.Error); // L1 sees error 7 either way

        Assert.True(VmEntryChecks.CheckNested(FullApicv(), MaxPhy).Passed);
    }

    [Fact]
    public void NestedApicvControlsUsesKvmOrder()
    {
        // PI without VID and without ack: KVM's first complaint is the missing VID (conformance pivid-0001).
        var c = new VmxControls { Pin = 0xbf, Primary = 0x84206172, Exit = 0x002b6ffb, ApicAccessAddr = 0x4d1000 };
        Assert.Equal(VmEntryRule.PiRequiresVid, VmEntryChecks.NestedApicvControls(c, MaxPhy));
        Assert.Equal(2, VmEntryChecks.CheckAll(c, MaxPhy).Count);
    }
}

/// <summary>The fast <see cref="VmEntryChecks.Check"/> and the per-rule predicates must agree.</summary>
public class VmEntryChecksAgreementTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void FastCheckIsFirstOfCheckAllOnRandomControls(int seed)
    {
        var rng = new Random(seed);
        // Draw each word from a few values that matter, so every rule is hit both ways.
        uint[] pins = [0x3e, 0x3f, 0xbe, 0xbf];
        uint[] primaries = [0x04006172, 0x04206172, 0x84006172, 0x84206172];
        uint[] exits = [0x002b6ffb, 0x002beffb];
        ulong[] addrs = [0, 0x20, 0x40, 0x800, 0x4d6000, 1UL << 46, (1UL << 46) - 0x1000];
        int failures = 0;
        for (int i = 0; i < 20000; i++)
        {
            var c = new VmxControls
            {
                Pin = pins[rng.Next(pins.Length)],
                Primary = primaries[rng.Next(primaries.Length)],
                Secondary = (uint)rng.Next(0, 0x400) & 0x311,
                Exit = exits[rng.Next(exits.Length)],
                TprThreshold = rng.Next(4) == 0 ? 0x10u : (uint)rng.Next(16),
                Vtpr = (uint)rng.Next(256),
                VirtualApicAddr = addrs[rng.Next(addrs.Length)],
                ApicAccessAddr = addrs[rng.Next(addrs.Length)],
                PiDescAddr = addrs[rng.Next(addrs.Length)],
                PiNotificationVector = rng.Next(3) == 0 ? (ushort)0x1f2 : (ushort)0xf2,
            };
            var first = VmEntryRule.None;
            foreach (var r in VmEntryChecks.CheckAll(c, 46)) { first = r; break; }
            Assert.Equal(first, VmEntryChecks.Check(c, 46));
            var nested = VmEntryChecks.CheckNested(c, 46, KvmNestedPolicy.Current | KvmNestedPolicy.WarnOnMissedCc);
            Assert.Equal(first, nested.Rule);
            if (first != VmEntryRule.None) failures++;
        }
        Assert.InRange(failures, 1000, 19000);
    }
}
