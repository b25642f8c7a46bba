namespace NestedApic.Hardware.Svm;

/// <summary>ICR fields an AVIC IPI reads (xAPIC ICR: low word at 300h, high word at 310h).</summary>
public static class Icr
{
    public const uint VectorMask = 0xFF;
    public const int DeliveryModeShift = 8;
    /// <summary>Delivery mode 000b: fixed, the only type AVIC accelerates.</summary>
    public const uint DeliveryModeFixed = 0;
    public const uint DeliveryModeLowestPriority = 1;
    public const uint DeliveryModeNmi = 4;
    public const uint DeliveryModeInit = 5;
    public const uint LogicalDestination = 1u << 11;
    public const uint LevelTriggered = 1u << 15;
    public const int ShorthandShift = 18;
    public const uint ShorthandNone = 0;
    public const uint ShorthandSelf = 1;
    public const uint ShorthandAllIncludingSelf = 2;
    public const uint ShorthandAllExcludingSelf = 3;
    /// <summary>Destination field: ICR high bits 31:24 (xAPIC).</summary>
    public const int DestinationShift = 24;
    public const byte BroadcastDestination = 0xFF;

    public static uint Low(byte vector, uint deliveryMode = DeliveryModeFixed, bool logical = false,
        bool level = false, uint shorthand = ShorthandNone) =>
        vector | deliveryMode << DeliveryModeShift | (logical ? LogicalDestination : 0) |
        (level ? LevelTriggered : 0) | shorthand << ShorthandShift;

    public static uint High(byte destination) => (uint)destination << DestinationShift;
}

/// <summary>
/// Result of an ICR write under AVIC. <see cref="ExitCode"/> is null when no #VMEXIT follows, else
/// AVIC_INCOMPLETE_IPI with EXITINFO1 = ICRH:ICRL and EXITINFO2 = cause (63:32) : index (11:0).
/// <see cref="IrrSet"/> has bit i for each physical-table entry i whose IRR was set;
/// <see cref="Doorbells"/> bit h for each host APIC ID that was sent a doorbell.
/// </summary>
public readonly record struct AvicIpiOutcome(long? ExitCode, ulong ExitInfo1, ulong ExitInfo2, byte IrrSet, byte Doorbells)
{
    public IncompleteIpiCause Cause => (IncompleteIpiCause)(ExitInfo2 >> 32);
    public int Index => (int)(ExitInfo2 & 0xFFF);
}

public partial struct AvicMachine
{
    /// <summary>
    /// A guest write of ICRL (ICRH already written) on <paramref name="core"/>, which must be running
    /// a VMCB with AVIC on. APM §15.29.6.1, in order: non-fixed or level-triggered IPIs and bad
    /// vectors exit; self IPIs set the sender's own IRR and doorbell itself; otherwise every target
    /// is looked up (logical table, then physical table; broadcasts skip invalid entries, directed
    /// IPIs exit on them), IRR is set in every valid target and running targets get a doorbell,
    /// then AVIC_INCOMPLETE_IPI with cause 1 if any target was not running. The exit is a trap: the
    /// write is complete. All lookups finish before the first IRR write. [inference: the APM's
    /// steps do not say whether an invalid target aborts before or after IRR writes to the others]
    /// </summary>
    public AvicIpiOutcome WriteIcr(int core, uint icrLow, uint icrHigh)
    {
        ref var c = ref _cores[core];
        if (!c.InGuest || !c.AvicEnabled || !TryResolvePage(c.BackingPage, out int senderSlot))
            throw new InvalidOperationException("the core must run a VMCB with AVIC on and a known backing page");
        ref var sender = ref _pages[senderSlot];
        sender.IcrLow = icrLow;
        sender.IcrHigh = icrHigh;
        ulong info1 = (ulong)icrHigh << 32 | icrLow;

        byte vector = (byte)(icrLow & Icr.VectorMask);
        uint mode = icrLow >> Icr.DeliveryModeShift & 7, shorthand = icrLow >> Icr.ShorthandShift & 3;
        if (mode != Icr.DeliveryModeFixed || (icrLow & Icr.LevelTriggered) != 0)
            return Exit(info1, IncompleteIpiCause.InvalidIntType, 0);
        if (vector < 16) return Exit(info1, IncompleteIpiCause.InvalidVector, 0);

        if (shorthand == Icr.ShorthandSelf)
        {
            sender.Apic.Accept(vector, levelTriggered: false);
            Doorbell(core);
            byte self = sender.XApicId < TableEntries ? (byte)(1 << sender.XApicId) : (byte)0;
            return new(null, 0, 0, self, (byte)(1 << core));
        }

        byte dest = (byte)(icrHigh >> Icr.DestinationShift);
        byte targets = 0;
        if (shorthand != Icr.ShorthandNone || dest == Icr.BroadcastDestination)
        {
            // Broadcast: every valid entry up to MAX_INDEX; invalid ones are skipped, not errors.
            for (int i = 0; i <= Math.Min(MaxIndex, TableEntries - 1); i++)
            {
                if (!_physical[i].Valid) continue;
                if (shorthand == Icr.ShorthandAllExcludingSelf && i == sender.XApicId) continue;
                targets |= (byte)(1 << i);
            }
        }
        else if ((icrLow & Icr.LogicalDestination) != 0)
        {
            bool flat = sender.FlatModel;
            int cluster = dest >> 4;
            if (!flat && cluster == 0xF) return Exit(info1, IncompleteIpiCause.InvalidIntType, 0);
            int bits = flat ? dest : dest & 0xF;
            for (int b = 0; b < 8; b++)
            {
                if ((bits >> b & 1) == 0) continue;
                int li = flat ? AvicLogicalIndex.Flat(b) : AvicLogicalIndex.Cluster(cluster, b);
                var le = li < LogicalEntries ? _logical[li] : default;
                if (!le.Valid) return Exit(info1, IncompleteIpiCause.InvalidTarget, li);
                int id = le.GuestPhysicalApicId;
                if (!DirectedTargetValid(id)) return Exit(info1, IncompleteIpiCause.InvalidTarget, id);
                targets |= (byte)(1 << id);
            }
        }
        else
        {
            if (!DirectedTargetValid(dest)) return Exit(info1, IncompleteIpiCause.InvalidTarget, dest);
            targets = (byte)(1 << dest);
        }

        for (int i = 0; i < TableEntries; i++)
        {
            if ((targets >> i & 1) != 0 && !TryResolvePage(_physical[i].BackingPage, out _))
                return Exit(info1, IncompleteIpiCause.InvalidBackingPage, i);
        }

        byte doorbells = 0;
        int notRunning = -1;
        for (int i = 0; i < TableEntries; i++)
        {
            if ((targets >> i & 1) == 0) continue;
            var e = _physical[i];
            TryResolvePage(e.BackingPage, out int slot);
            _pages[slot].Apic.Accept(vector, levelTriggered: false);
            if (e.IsRunning)
            {
                Doorbell(e.HostApicId);
                if (e.HostApicId < CoreCount) doorbells |= (byte)(1 << e.HostApicId);
            }
            else if (notRunning < 0) notRunning = i;
        }
        return notRunning < 0
            ? new(null, 0, 0, targets, doorbells)
            : new(SvmExitCode.AvicIncompleteIpi, info1, (ulong)IncompleteIpiCause.TargetNotRunning << 32 | (uint)notRunning, targets, doorbells);
    }

    /// <summary>A directed target must be within MAX_INDEX (and this model's table) and valid.</summary>
    private readonly bool DirectedTargetValid(int id) =>
        id <= MaxIndex && id < TableEntries && _physical[id].Valid;

    private static AvicIpiOutcome Exit(ulong info1, IncompleteIpiCause cause, int index) =>
        new(SvmExitCode.AvicIncompleteIpi, info1, (ulong)cause << 32 | (uint)index & 0xFFF, 0, 0);
}
