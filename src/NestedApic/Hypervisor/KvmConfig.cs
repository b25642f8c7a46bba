using NestedApic.Hypervisor.Svm;
using NestedApic.Hypervisor.Vmx;

namespace NestedApic.Hypervisor;

/// <summary>
/// What does not change during a run: the design (policy), the host's capabilities, the vmcs12s
/// L1 may use, the vectors in play and how often each bounded event may happen.
/// </summary>
public sealed record KvmConfig
{
    public required Policy Policy { get; init; }
    public int Vcpus { get; init; } = 2;
    /// <summary>kvm_intel.enable_apicv.</summary>
    public bool EnableApicv { get; init; } = true;
    /// <summary>flexpriority_enabled: KVM virtualizes APIC accesses in xAPIC mode.</summary>
    public bool Flexpriority { get; init; } = true;
    /// <summary>cpu_has_vmx_ipiv: the CPU has IPI virtualization (Sapphire Rapids and later).</summary>
    public bool IpiVirtualization { get; init; }
    /// <summary>cpu_has_vmx_virtualize_x2apic_mode.</summary>
    public bool X2ApicVirtualization { get; init; } = true;
    public IReadOnlyList<Vmcs12> Vmcs12s { get; init; } = [];
    /// <summary>Whose KVM module runs the VM: kvm_intel (the default) or kvm_amd.</summary>
    public CpuVendor Vendor { get; init; } = CpuVendor.Intel;
    /// <summary>AMD: the vmcb12s L1 may run L2 with.</summary>
    public IReadOnlyList<Vmcb12> Vmcb12s { get; init; } = [];
    /// <summary>AMD: the guest's CPUID has SVM and kvm_amd.nested=1 (5.18 inhibits AVIC VM-wide then).</summary>
    public bool NestedSvm { get; init; } = true;
    /// <summary>The vmcb12s (AMD) or vmcs12s (Intel) L1 may enter L2 with.</summary>
    public int NestedConfigs => Vendor == CpuVendor.Amd ? Vmcb12s.Count : Vmcs12s.Count;
    /// <summary>Vectors guests use in IPIs.</summary>
    public IReadOnlyList<byte> Vectors { get; init; } = [0xE0];
    /// <summary>Saved APICs userspace may restore with `set-lapic NAME` (KVM_SET_MSRS of the APIC
    /// base, then KVM_SET_LAPIC).</summary>
    public IReadOnlyList<LapicSave> LapicStates { get; init; } = [];
    /// <summary>The values guests write to CR8 (TPR priority classes 0..15).</summary>
    public IReadOnlyList<byte> Cr8Values { get; init; } = [0x0, 0xF];
    /// <summary>The properties checked, as bits indexed by Property (default: all).</summary>
    public uint CheckedProperties { get; init; } = uint.MaxValue;
    /// <summary>Maximum count per bounded event, indexed by EventKind (0: not allowed).</summary>
    public byte[] Budget { get; init; } = new byte[(int)EventKind.Count];
    /// <summary>Userspace calls KVM_SET_CPUID2 on a vCPU before its first KVM_RUN (universe key
    /// cpuid-before-run): KVM_RUN is withheld until then.</summary>
    public bool CpuidBeforeRun { get; init; }
    /// <summary>Whether the model tracks KVM_SET_CPUID2 and the first KVM_RUN (<see cref="VcpuCpuid"/>).</summary>
    public bool TracksCpuid => CpuidBeforeRun || Budget[(int)EventKind.SetCpuid] > 0;

    public KvmConfig WithBudget(EventKind k, int n)
    {
        var b = (byte[])Budget.Clone();
        b[(int)k] = (byte)n;
        return this with { Budget = b };
    }
}
