using System.Runtime.InteropServices;

namespace NestedApic.Hypervisor;

/// <summary>Who acts in an event: the lane it is drawn in.</summary>
public enum Actor : byte { Userspace, L1, L2, L0 }

/// <summary>
/// The events the checker interleaves. Userspace and guest events are bounded by the universe;
/// the KVM and hardware events (L0) follow from the state and are never bounded.
/// </summary>
public enum EventKind : byte
{
    // Userspace (the VMM's ioctls)
    CreateVcpu,          // KVM_CREATE_VCPU, first half: kvm_arch_vcpu_create
    PublishVcpu,         // KVM_CREATE_VCPU, second half: the vCPU becomes visible in kvm->vcpus
    KvmRun,              // KVM_RUN
    ExitToUserspace,     // KVM_RUN returns (signal, immediate exit)
    SetNestedState,      // KVM_SET_NESTED_STATE into L2, Arg = vmcs12 index
    GuestDebugBlockIrq,  // KVM_SET_GUEST_DEBUG, Arg = 1 set / 0 clear BLOCKIRQ
    SynicAutoEoi,        // KVM_SET_MSRS on a SynIC SINT, Arg = 1 AutoEOI on / 0 off
    SetLapic,            // KVM_SET_LAPIC, Arg = the vector restored in ISR (0: none)
    SetCpuid,            // KVM_SET_CPUID2 (Cpuid.cs)
    // Guest L1
    VmLaunch,            // VMLAUNCH/VMRESUME, Arg = vmcs12 index
    ApicIdWrite,         // xAPIC ID write, Arg = 1 modified / 0 restored to vcpu_id (L1, or L2 through L1's APIC)
    ApicModeSwitch,      // WRMSR IA32_APIC_BASE, Arg = ApicMode (L1, or L2 through L1's APIC)
    SendIpi,             // fixed IPI through the ICR, Arg = target vCPU, Arg2 = vector
    PostToL2,            // L1 posts Arg2 in its descriptor for the L2 of vCPU Arg, then sends vmcs12's NV
    Eoi,                 // EOI to L1's APIC (L1, or L2 through L1's APIC)
    Sti,                 // L1 sets RFLAGS.IF
    Cr8Write,            // MOV to CR8, Arg = the new TPR class (L1 on its own APIC; L2 on L1's when vmcs12 neither shadows nor intercepts CR8)
    ApicMmioAccess,      // L1 touches its xAPIC page (0xFEE00000) through its TLB
    GuestWrite,          // L1 writes guest memory (dirty logging must see it)
    InitSignal,          // INIT IPI to vCPU Arg
    // Guest L2
    Vmcall,              // any exit L1 wants: reflected as a nested VM-exit
    // VM-wide (drawn in vCPU 0's lane)
    DirtyLogging,        // KVM_SET_USER_MEMORY_REGION toggles LOG_DIRTY_PAGES, Arg = 1 on / 0 off
    ApicPageMigrate,     // the host migrates the APIC-access page (MMU notifier)
    // Hardware, bounded
    VectoringExit,       // the VM entry injecting an interrupt into L1 exits during delivery (IDT-vectoring info)
    // AMD
    Hlt,                 // L1 executes HLT: kvm_vcpu_block
    DeviceIrq,           // a device MSI routed to vCPU Vcpu through the IOMMU, Arg2 = vector
    // Intel, added for issue 11
    VmxOperation,        // L1 executes VMXOFF (Arg = 1) or VMXON (Arg = 0)
    // KVM and hardware (L0)
    ServiceRequest,      // vcpu_enter_guest services the first pending request
    VmEnter,             // sync_pir_to_irr, then the hardware VM entry of the loaded VMCS
    Notification,        // a posted-interrupt notification IPI arrives at the vCPU's pCPU
    NestedNotification,  // a POSTED_INTR_NESTED_VECTOR notification arrives
    VirtualInterrupt,    // virtual-interrupt delivery in L1 (SDM 29.2.2)
    L2VirtualInterrupt,  // virtual-interrupt delivery in L2 from vmcs02's RVI
    AvicIncompleteIpi,   // KVM handles the sender's AVIC_INCOMPLETE_IPI #VMEXIT
    ApicvRefresh,        // __kvm_vcpu_update_apicv's second half: avic_refresh_apicv_exec_ctrl
    Unblock,             // a blocked vCPU is woken and re-checks for events
    Count,
}

/// <summary>A step: an event, the vCPU it happens on, and up to two arguments.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public struct KvmStep
{
    public EventKind Kind;
    public Actor Actor;
    public byte Vcpu;
    public byte Arg;
    public byte Arg2;

    public KvmStep(EventKind kind, Actor actor, int vcpu, int arg = 0, int arg2 = 0)
    { Kind = kind; Actor = actor; Vcpu = (byte)vcpu; Arg = (byte)arg; Arg2 = (byte)arg2; }
}

public static class KvmEvents
{
    /// <summary>The name of an event in universe files, scenarios and traces.</summary>
    public static string Name(this EventKind k) => k switch
    {
        EventKind.CreateVcpu => "create-vcpu",
        EventKind.PublishVcpu => "publish-vcpu",
        EventKind.KvmRun => "kvm-run",
        EventKind.ExitToUserspace => "exit-to-userspace",
        EventKind.SetNestedState => "set-nested-state",
        EventKind.GuestDebugBlockIrq => "guest-debug-blockirq",
        EventKind.SynicAutoEoi => "synic-autoeoi",
        EventKind.SetLapic => "set-lapic",
        EventKind.SetCpuid => "set-cpuid",
        EventKind.VmLaunch => "vmlaunch",
        EventKind.ApicIdWrite => "apic-id-write",
        EventKind.ApicModeSwitch => "apic-mode",
        EventKind.SendIpi => "ipi",
        EventKind.PostToL2 => "post-l2",
        EventKind.Eoi => "eoi",
        EventKind.Sti => "sti",
        EventKind.Cr8Write => "cr8-write",
        EventKind.ApicMmioAccess => "apic-mmio",
        EventKind.GuestWrite => "guest-write",
        EventKind.InitSignal => "init",
        EventKind.Vmcall => "vmcall",
        EventKind.DirtyLogging => "dirty-logging",
        EventKind.ApicPageMigrate => "apic-page-migrate",
        EventKind.VectoringExit => "vectoring-exit",
        EventKind.ServiceRequest => "service-request",
        EventKind.VmEnter => "vm-enter",
        EventKind.Notification => "notification",
        EventKind.NestedNotification => "nested-notification",
        EventKind.VirtualInterrupt => "virtual-interrupt",
        EventKind.L2VirtualInterrupt => "l2-virtual-interrupt",
        EventKind.Hlt => "hlt",
        EventKind.DeviceIrq => "device-irq",
        EventKind.AvicIncompleteIpi => "avic-incomplete-ipi",
        EventKind.ApicvRefresh => "apicv-refresh",
        EventKind.Unblock => "unblock",
        EventKind.VmxOperation => "vmx",
        _ => k.ToString(),
    };

    public static bool IsBounded(this EventKind k) => k < EventKind.ServiceRequest;

    /// <summary>The name on a vendor: AMD's L1 enters L2 with VMRUN and L2 exits with VMMCALL.</summary>
    public static string Name(this EventKind k, CpuVendor vendor) => (vendor, k) switch
    {
        (CpuVendor.Amd, EventKind.VmLaunch) => "vmrun",
        (CpuVendor.Amd, EventKind.Vmcall) => "vmmcall",
        _ => k.Name(),
    };

    /// <summary>The events a vendor's model can produce (the rest never appear in its universes).</summary>
    public static bool AppliesTo(this EventKind k, CpuVendor vendor) => vendor == CpuVendor.Amd
        ? k is not (EventKind.PostToL2 or EventKind.Notification or EventKind.NestedNotification or EventKind.L2VirtualInterrupt or EventKind.VmxOperation)
        : k is not (EventKind.Hlt or EventKind.DeviceIrq or EventKind.AvicIncompleteIpi or EventKind.ApicvRefresh or EventKind.Unblock);

    public static EventKind? Parse(string name, CpuVendor vendor)
    {
        for (var k = (EventKind)0; k < EventKind.Count; k++)
            if (k.AppliesTo(vendor) && k.Name(vendor) == name) return k;
        return null;
    }

    public static IEnumerable<EventKind> BoundedOn(CpuVendor vendor) => Bounded.Where(k => k.AppliesTo(vendor));

    public static EventKind? Parse(string name)
    {
        for (var k = (EventKind)0; k < EventKind.Count; k++)
            if (k.Name() == name) return k;
        return null;
    }

    public static IEnumerable<EventKind> Bounded =>
        Enumerable.Range(0, (int)EventKind.Count).Select(i => (EventKind)i).Where(IsBounded);
}
