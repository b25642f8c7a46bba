namespace NestedApic.Hardware.Apic;

/// <summary>Result of <see cref="LocalApic.Accept"/>.</summary>
public enum AcceptResult : byte
{
    /// <summary>The vector was not pending; its IRR bit is now set.</summary>
    Accepted,
    /// <summary>The IRR bit was already set: the two requests merge into one (the APIC holds one bit per vector).</summary>
    Coalesced,
    /// <summary>Vectors 0-15 are illegal for fixed delivery (SDM 10.5.3 "Received Illegal Vector"); nothing is latched.</summary>
    IllegalVector,
}

/// <summary>
/// The interrupt-priority state of a local APIC (SDM vol. 3A ch. 10, "Advanced Programmable
/// Interrupt Controller": 10.8 "Handling Interrupts"). Only fixed-delivery interrupts are modelled.
/// </summary>
public struct LocalApic
{
    /// <summary>Interrupt-request register: accepted, not yet delivered.</summary>
    public VectorSet Irr;
    /// <summary>In-service register: delivered, not yet EOI'd.</summary>
    public VectorSet Isr;
    /// <summary>Trigger-mode register: set on acceptance of a level-triggered vector, cleared for edge.</summary>
    public VectorSet Tmr;
    /// <summary>Task-priority register (bits 7:0; CR8 is TPR[7:4]).</summary>
    public byte Tpr;

    /// <summary>Highest in-service vector (ISRV), 0 when the ISR is empty.</summary>
    public readonly byte Isrv { get { int h = Isr.Highest(); return h < 0 ? (byte)0 : (byte)h; } }

    /// <summary>
    /// Processor-priority register, SDM 10.8.3.1: PPR = TPR when TPR[7:4] >= ISRV[7:4],
    /// otherwise ISRV[7:4] with bits 3:0 cleared.
    /// </summary>
    public readonly byte Ppr
    {
        get
        {
            byte isrv = Isrv;
            return (Tpr & 0xF0) >= (isrv & 0xF0) ? Tpr : (byte)(isrv & 0xF0);
        }
    }

    /// <summary>Highest vector in the IRR, or -1.</summary>
    public readonly int HighestPending => Irr.Highest();

    /// <summary>
    /// Whether the highest pending vector may be delivered now: its priority class (v[7:4]) must be
    /// above the processor-priority class PPR[7:4] (SDM 10.8.3.1).
    /// </summary>
    public readonly bool HasDeliverable
    {
        get { int v = Irr.Highest(); return v >= 0 && (v >> 4) > (Ppr >> 4); }
    }

    /// <summary>
    /// Latches a fixed interrupt into the IRR and records its trigger mode in the TMR
    /// (SDM 10.8.4). Vectors 0-15 are rejected as illegal.
    /// </summary>
    public AcceptResult Accept(byte vector, bool levelTriggered)
    {
        if (vector < 16) return AcceptResult.IllegalVector;
        bool was = Irr.Test(vector);
        Irr.Set(vector);
        if (levelTriggered) Tmr.Set(vector); else Tmr.Clear(vector);
        return was ? AcceptResult.Coalesced : AcceptResult.Accepted;
    }

    /// <summary>
    /// Delivers the highest pending vector to the core if it is deliverable: IRR bit to ISR
    /// (SDM 10.8.4). Returns the vector, or -1 when nothing is deliverable.
    /// </summary>
    public int Deliver()
    {
        if (!HasDeliverable) return -1;
        byte v = (byte)Irr.Highest();
        Irr.Clear(v);
        Isr.Set(v);
        return v;
    }

    /// <summary>
    /// A write to the EOI register (SDM 10.8.5): clears the highest ISR bit. Returns that vector
    /// (-1 with an empty ISR) and whether the TMR marked it level-triggered, in which case the
    /// EOI must be broadcast to the I/O APICs (or, under VID, may be an EOI-exit candidate).
    /// </summary>
    public int Eoi() => Eoi(out _);

    /// <inheritdoc cref="Eoi()"/>
    public int Eoi(out bool levelTriggered)
    {
        int v = Isr.Highest();
        if (v < 0) { levelTriggered = false; return -1; }
        Isr.Clear((byte)v);
        levelTriggered = Tmr.Test((byte)v);
        return v;
    }
}
