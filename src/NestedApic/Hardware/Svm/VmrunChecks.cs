namespace NestedApic.Hardware.Svm;

/// <summary>
/// VMRUN's consistency checks on the control area (APM vol. 2 §15.5.1, §15.21.10, §15.29).
/// Every failure is #VMEXIT(VMEXIT_INVALID); hardware does not say which rule failed, so
/// <see cref="Check"/> names the first in <see cref="VmrunRule"/> order. Guest-state checks (EFER,
/// CR0/CR3/CR4, segment state) and EVENTINJ are outside this layer. AVIC is assumed supported.
/// </summary>
public static class VmrunChecks
{
    /// <summary>The exit code of every failed check.</summary>
    public const long VmexitInvalid = SvmExitCode.VmexitInvalid;

    public const int MinMaxPhyAddr = 32;
    public const int MaxMaxPhyAddr = 52;

    /// <summary>Bytes of the MSR permission map that VMRUN checks: 8 KiB (APM §15.11).</summary>
    public const ulong MsrpmCheckedBytes = 0x2000;

    /// <summary>
    /// Bytes of the I/O permission map that VMRUN checks: the 8-KiB port bitmap plus one byte for
    /// accesses that straddle port FFFFh. The map occupies 12 KiB (APM §15.10.1), but the
    /// kvm-unit-tests expectations (IOPM at top-12K and top-8K-2 pass) only fit 8 KiB + 1. [inference]
    /// </summary>
    public const ulong IopmCheckedBytes = 0x2001;

    /// <summary>
    /// The first violated rule, or <see cref="VmrunRule.None"/>. <paramref name="maxPhyAddr"/> is
    /// CPUID 8000_0008h:EAX[7:0]; <paramref name="x2AvicExt"/> is CPUID Fn8000_000A_ECX[6].
    /// </summary>
    public static VmrunRule Check(in VmcbControls c, int maxPhyAddr, bool x2AvicExt = false)
    {
        if (!c.InterceptVmrun) return VmrunRule.VmrunIntercept;
        if (c.Asid == 0) return VmrunRule.AsidNonzero;
        if (!PermissionMapLegal(c.MsrpmBasePa, MsrpmCheckedBytes, maxPhyAddr)) return VmrunRule.MsrpmAddr;
        if (!PermissionMapLegal(c.IopmBasePa, IopmCheckedBytes, maxPhyAddr)) return VmrunRule.IopmAddr;
        if (c.VNmiEnabled && !c.InterceptNmi) return VmrunRule.VnmiRequiresNmiIntercept;
        return CheckAvic(in c, maxPhyAddr, x2AvicExt);
    }

    /// <summary>The exit code for a check result: <see cref="VmexitInvalid"/>, or null when VMRUN proceeds.</summary>
    public static long? ExitCodeFor(VmrunRule rule) => rule == VmrunRule.None ? null : VmexitInvalid;

    /// <summary>The AVIC rules alone (APM §15.29.1, §15.29.3); nothing is checked with AVIC off,
    /// apart from x2AVIC without AVIC.</summary>
    public static VmrunRule CheckAvic(in VmcbControls c, int maxPhyAddr, bool x2AvicExt = false)
    {
        if (!c.AvicEnabled) return c.X2AvicEnabled ? VmrunRule.X2AvicRequiresAvic : VmrunRule.None;
        int limit = !c.X2AvicEnabled ? AvicPointer.XAvicMaxIndexLimit
            : x2AvicExt ? AvicPointer.X2AvicExtMaxIndexLimit : AvicPointer.X2AvicMaxIndexLimit;
        if (c.PhysicalMaxIndex > limit) return VmrunRule.AvicPhysicalMaxIndex;
        if (!AddressLegal(c.AvicBackingPage, 0xFFF, maxPhyAddr)) return VmrunRule.AvicBackingPageAddr;
        // The low 12 bits of 0F8h are MAX_INDEX, so only the address bits can be wrong.
        if (!AddressLegal(c.PhysicalTableAddress, 0, maxPhyAddr)) return VmrunRule.AvicPhysicalTableAddr;
        // x2AVIC does not use the logical table (APM §15.29.10).
        if (!c.X2AvicEnabled && !AddressLegal(c.AvicLogicalTable, 0xFFF, maxPhyAddr)) return VmrunRule.AvicLogicalTableAddr;
        return VmrunRule.None;
    }

    /// <summary>
    /// APM §15.5.1: illegal when "the MSR or IOIO intercept tables extend to a physical address
    /// that is greater than or equal to the maximum supported physical address". VMRUN ignores
    /// bits 11:0 of the base (§15.10.1, §15.11), so the table spans page..page+size-1; it is
    /// illegal when that last byte reaches 2^MAXPHYADDR - 1, i.e. page + size >= 2^MAXPHYADDR.
    /// Checked whether or not the MSR/IOIO intercept is on, as the manual states it unconditionally.
    /// </summary>
    public static bool PermissionMapLegal(ulong basePa, ulong size, int maxPhyAddr)
    {
        ulong page = basePa & ~0xFFFUL;
        ulong top = 1UL << maxPhyAddr;
        return page < top && top - page > size;
    }

    /// <summary>No bit of <paramref name="alignMask"/> set and below 2^MAXPHYADDR.</summary>
    public static bool AddressLegal(ulong addr, ulong alignMask, int maxPhyAddr) =>
        (addr & alignMask) == 0 && (addr >> maxPhyAddr) == 0;
}
