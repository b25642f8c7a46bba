namespace NestedApic.Hardware.Svm;

/// <summary>How AVIC handles a guest access to one backing-page register (APM §15.29.4, table 15-22).</summary>
public enum AvicAccessKind : byte
{
    /// <summary>Read or written in the backing page with no further action.</summary>
    Allowed,
    /// <summary>Written and acted on by hardware (TPR, edge EOI, ICRL: the IPI path).</summary>
    Accelerated,
    /// <summary>Written to the page, then #VMEXIT AVIC_NOACCEL (trap: RIP is past the access).</summary>
    Trap,
    /// <summary>#VMEXIT AVIC_NOACCEL before the access (fault: nothing written).</summary>
    Fault,
}

/// <summary>The register filter of table 15-22 and the EXITINFO of AVIC_NOACCEL (APM §15.29.9.2).</summary>
public static class AvicRegisterAccess
{
    /// <summary>EXITINFO1 bit 32: the access was a write.</summary>
    public const ulong ExitInfo1Write = 1UL << 32;
    /// <summary>EXITINFO1 bits 11:4: the register offset.</summary>
    public const ulong ExitInfo1OffsetMask = 0xFF0;

    /// <summary>
    /// Classifies an access at <paramref name="offset"/>. An EOI write is accelerated only when the
    /// highest in-service vector is edge-triggered; <paramref name="levelEoi"/> says it is not.
    /// Offsets the table does not list fault.
    /// </summary>
    public static AvicAccessKind Classify(int offset, bool write, bool levelEoi = false)
    {
        offset &= 0xFF0;
        switch (offset)
        {
            case AvicBackingPage.TprOffset:
                return write ? AvicAccessKind.Accelerated : AvicAccessKind.Allowed;
            case AvicBackingPage.EoiOffset:
                return !write ? AvicAccessKind.Allowed : levelEoi ? AvicAccessKind.Trap : AvicAccessKind.Accelerated;
            case AvicBackingPage.IcrLowOffset:
                // Unaccelerable IPIs leave through AVIC_INCOMPLETE_IPI, not NOACCEL.
                return write ? AvicAccessKind.Accelerated : AvicAccessKind.Allowed;
            case AvicBackingPage.IcrHighOffset:
                return AvicAccessKind.Allowed;
            case AvicBackingPage.AprOffset:
            case AvicBackingPage.TimerCurrentCountOffset:
                return AvicAccessKind.Fault;
            case AvicBackingPage.IdOffset:
            case AvicBackingPage.RrrOffset:
            case AvicBackingPage.LdrOffset:
            case AvicBackingPage.DfrOffset:
            case AvicBackingPage.SvrOffset:
            case AvicBackingPage.EsrOffset:
            case AvicBackingPage.TimerInitialCountOffset:
            case AvicBackingPage.TimerDivideOffset:
                return write ? AvicAccessKind.Trap : AvicAccessKind.Allowed;
            case AvicBackingPage.VersionOffset:
            case AvicBackingPage.PprOffset:
                return write ? AvicAccessKind.Fault : AvicAccessKind.Allowed;
        }
        if (offset >= AvicBackingPage.LvtTimerOffset && offset <= AvicBackingPage.LvtErrorOffset)
            return write ? AvicAccessKind.Trap : AvicAccessKind.Allowed;
        if (offset >= AvicBackingPage.IsrOffset && offset < AvicBackingPage.EsrOffset) // ISR, TMR, IRR
            return write ? AvicAccessKind.Fault : AvicAccessKind.Allowed;
        return AvicAccessKind.Fault;
    }

    /// <summary>The #VMEXIT an access causes: AVIC_NOACCEL for traps and faults, else null.</summary>
    public static long? ExitCode(AvicAccessKind kind) =>
        kind is AvicAccessKind.Trap or AvicAccessKind.Fault ? SvmExitCode.AvicNoAccel : null;

    /// <summary>EXITINFO1 of AVIC_NOACCEL: write flag in bit 32, offset in bits 11:4.</summary>
    public static ulong ExitInfo1(int offset, bool write) =>
        (write ? ExitInfo1Write : 0) | (ulong)offset & ExitInfo1OffsetMask;
}
