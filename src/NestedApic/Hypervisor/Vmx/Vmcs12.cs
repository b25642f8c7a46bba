using NestedApic.Hardware.Vmx;

namespace NestedApic.Hypervisor.Vmx;

/// <summary>
/// A vmcs12 as L1 configures it for L2: the controls, and which of L1's own APIC accesses L1
/// lets L2 make without an exit to L1 (then L0 emulates them on L1's local APIC).
/// </summary>
public sealed record Vmcs12
{
    public required string Name { get; init; }
    public uint Pin { get; init; } = PinBasedControls.ExternalInterruptExiting;
    public uint Primary { get; init; }
    public uint Secondary { get; init; }
    public uint Exit { get; init; } = ExitControls.AcknowledgeInterruptOnExit;
    public uint TprThreshold { get; init; }
    public ushort PostedIntrNv { get; init; }
    /// <summary>L1 does not intercept its xAPIC MMIO page, x2APIC MSRs or IA32_APIC_BASE for L2.</summary>
    public bool ApicPassthrough { get; init; }
    /// <summary>RFLAGS.IF in vmcs12's guest state: L2 starts with interrupts enabled (the default) or not.</summary>
    public bool GuestIf { get; init; } = true;

    public bool ExtIntrExiting => (Pin & PinBasedControls.ExternalInterruptExiting) != 0;
    public bool PostedInterrupts => (Pin & PinBasedControls.ProcessPostedInterrupts) != 0;
    public uint EffectiveSecondary => (Primary & PrimaryControls.ActivateSecondaryControls) != 0 ? Secondary : 0;
    public bool Vid => (EffectiveSecondary & SecondaryControls.VirtualInterruptDelivery) != 0;

    /// <summary>The control view KVM's nested checks read (nested_vmx_check_controls).</summary>
    public VmxControls Controls => new()
    {
        Pin = Pin,
        Primary = Primary,
        Secondary = Secondary,
        Exit = Exit,
        TprThreshold = TprThreshold,
        VirtualApicAddr = VmcsLayout.VirtualApicPage + 0x2000,
        ApicAccessAddr = VmcsLayout.ApicAccessPage,
        PiDescAddr = VmcsLayout.PostedIntrDesc + 0x2000,
        PiNotificationVector = PostedIntrNv,
    };
}
