using NestedApic.Hardware.Vmx;

namespace NestedApic.Tests.Hardware.Vmx;

/// <summary>The hardware values from the SDM tables (Vol. 3C appendix B; tables 24-5 to 24-7 and
/// 24-10 of the 2016 edition), as KVM's arch/x86/include/asm/vmx.h spells them.</summary>
public class EncodingTests
{
    [Theory]
    [InlineData(VmcsField.PostedInterruptNotificationVector, 0x0002u)]
    [InlineData(VmcsField.GuestInterruptStatus, 0x0810u)]
    [InlineData(VmcsField.VirtualApicAddress, 0x2012u)]
    [InlineData(VmcsField.ApicAccessAddress, 0x2014u)]
    [InlineData(VmcsField.PostedInterruptDescriptorAddress, 0x2016u)]
    [InlineData(VmcsField.EoiExitBitmap0, 0x201Cu)]
    [InlineData(VmcsField.EoiExitBitmap3, 0x2022u)]
    [InlineData(VmcsField.PinBasedControls, 0x4000u)]
    [InlineData(VmcsField.PrimaryControls, 0x4002u)]
    [InlineData(VmcsField.ExitControls, 0x400Cu)]
    [InlineData(VmcsField.TprThreshold, 0x401Cu)]
    [InlineData(VmcsField.SecondaryControls, 0x401Eu)]
    [InlineData(VmcsField.VmInstructionError, 0x4400u)]
    public void VmcsEncodings(VmcsField field, uint encoding) => Assert.Equal(encoding, (uint)field);

    [Fact]
    public void ControlMasks()
    {
        Assert.Equal(0x3fu, PinBasedControls.ExternalInterruptExiting | PinBasedControls.NmiExiting |
            PinBasedControls.VirtualNmis | 0x16u);
        Assert.Equal(0x80u, PinBasedControls.ProcessPostedInterrupts);
        Assert.Equal(0x80200000u, PrimaryControls.ActivateSecondaryControls | PrimaryControls.UseTprShadow);
        Assert.Equal(0x180000u, PrimaryControls.Cr8LoadExiting | PrimaryControls.Cr8StoreExiting);
        Assert.Equal(0x311u, SecondaryControls.VirtualizeApicAccesses | SecondaryControls.VirtualizeX2ApicMode |
            SecondaryControls.ApicRegisterVirtualization | SecondaryControls.VirtualInterruptDelivery);
        Assert.Equal(0x8000u, ExitControls.AcknowledgeInterruptOnExit);
        Assert.Equal(7u, VmInstructionError.EntryInvalidControlFields);
    }

    [Fact]
    public void EncodingWidthsFollowBits14To13()
    {
        // SDM appendix B: bits 14:13 of an encoding give the width (0 = 16, 1 = 64, 2 = 32, 3 = natural).
        Assert.Equal(0u, ((uint)VmcsField.PostedInterruptNotificationVector >> 13) & 3);
        Assert.Equal(1u, ((uint)VmcsField.PostedInterruptDescriptorAddress >> 13) & 3);
        Assert.Equal(2u, ((uint)VmcsField.TprThreshold >> 13) & 3);
        Assert.Equal(3u, ((uint)VmcsField.ExitQualification >> 13) & 3);
    }
}
