using System.Runtime.InteropServices;
using NestedApic.Hardware.Vmx;

namespace NestedApic.Hypervisor.Vmx;

/// <summary>
/// The fields of one hardware VMCS (vmcs01 or vmcs02) that interrupt virtualization reads. The
/// addresses are not part of the explored state: KVM maps the pages once and they stay valid,
/// so they are constants of <see cref="VmcsLayout"/>.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public struct Vmcs
{
    public uint Pin;
    public uint Primary;
    public uint Secondary;
    public uint Exit;
    public uint TprThreshold;
    public ushort PostedIntrNv;
    /// <summary>GUEST_INTR_STATUS: RVI in bits 7:0, SVI in bits 15:8.</summary>
    public ushort GuestIntrStatus;
    /// <summary>APIC_ACCESS_ADDR as the host page it names: 0 never written, n = page n-1 of
    /// <see cref="KvmState.ApicAccessPage"/>, <see cref="VmcsLayout.Vmcs12ApicAccessPage"/> = L1's page for L2.</summary>
    public byte ApicAccessPage;
    /// <summary>Tertiary processor-based controls, the low byte (only IPI virtualization is modelled).</summary>
    public byte Tertiary;

    /// <summary>TERTIARY_EXEC_IPI_VIRT (bit 4 of the tertiary processor-based controls).</summary>
    public const byte TertiaryIpiVirt = 1 << 4;
    public readonly bool IpiVirt => (Tertiary & TertiaryIpiVirt) != 0;

    public readonly byte Rvi => (byte)GuestIntrStatus;
    public readonly byte Svi => (byte)(GuestIntrStatus >> 8);
    public void SetRvi(byte v) => GuestIntrStatus = (ushort)((GuestIntrStatus & 0xFF00) | v);
    public void SetSvi(byte v) => GuestIntrStatus = (ushort)((GuestIntrStatus & 0x00FF) | (v << 8));

    /// <summary>Secondary controls as the CPU sees them: all 0 unless "activate secondary controls".</summary>
    public readonly uint EffectiveSecondary =>
        (Primary & PrimaryControls.ActivateSecondaryControls) != 0 ? Secondary : 0;

    public readonly bool Has(uint secondaryBit) => (EffectiveSecondary & secondaryBit) != 0;
    public readonly bool PostedInterrupts => (Pin & PinBasedControls.ProcessPostedInterrupts) != 0;
    public readonly bool Vid => Has(SecondaryControls.VirtualInterruptDelivery);
    public readonly bool ApicRegVirt => Has(SecondaryControls.ApicRegisterVirtualization);
    public readonly bool TprShadow => (Primary & PrimaryControls.UseTprShadow) != 0;
    public readonly bool VirtualizesApicAccesses => Has(SecondaryControls.VirtualizeApicAccesses);
    public readonly bool Pml => Has(SecondaryControls.EnablePml);

    /// <summary>The APICv control tuple ctl(V) of the reference: (PIN.PI, SEC.APIC_REG_VIRT, SEC.VID).</summary>
    public readonly string ApicvTuple => $"PI={B(PostedInterrupts)} APIC_REG_VIRT={B(ApicRegVirt)} VID={B(Vid)}";
    static int B(bool b) => b ? 1 : 0;
}

/// <summary>Guest-physical addresses KVM gives its pages: valid, aligned and below MAXPHYADDR.</summary>
public static class VmcsLayout
{
    public const int MaxPhyAddr = 46;
    public const ulong VirtualApicPage = 0x0000_0001_0000_0000;
    public const ulong ApicAccessPage = 0x0000_0000_FEE0_0000;
    public const ulong PostedIntrDesc = 0x0000_0001_0000_1000;
    /// <summary>The APIC_ACCESS_ADDR value of vmcs02 when vmcs12 virtualizes APIC accesses.</summary>
    public const byte Vmcs12ApicAccessPage = 0xFF;

    /// <summary>The physical address an APIC_ACCESS_ADDR field value names (page-aligned).</summary>
    public static ulong ApicAccessAddr(byte field) => field switch
    {
        0 => 0,
        Vmcs12ApicAccessPage => ApicAccessPage, // vmcs12.apic_access_addr
        _ => 0x0000_0001_0010_0000 + (ulong)(field - 1) * 0x1000,
    };

    /// <summary>The control view the hardware checks at VM entry.</summary>
    public static VmxControls Controls(in Vmcs v, byte vtpr) => new()
    {
        Pin = v.Pin,
        Primary = v.Primary,
        Secondary = v.Secondary,
        Exit = v.Exit,
        TprThreshold = v.TprThreshold,
        VirtualApicAddr = VirtualApicPage,
        ApicAccessAddr = ApicAccessAddr(v.ApicAccessPage),
        PiDescAddr = PostedIntrDesc,
        PiNotificationVector = v.PostedIntrNv,
        Vtpr = vtpr,
    };
}
