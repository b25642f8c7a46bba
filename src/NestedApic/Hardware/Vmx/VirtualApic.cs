using NestedApic.Hardware.Apic;

namespace NestedApic.Hardware.Vmx;

/// <summary>What an APIC-virtualization step leads to.</summary>
public enum ApicVirtualizationOutcome : byte
{
    /// <summary>No VM exit; no virtual interrupt is recognized.</summary>
    Continue,
    /// <summary>No VM exit; a pending virtual interrupt is now recognized (RVI[7:4] > VPPR[7:4]).</summary>
    VirtualInterruptRecognized,
    /// <summary>Trap-like VM exit "TPR below threshold" (basic reason 43).</summary>
    TprBelowThresholdExit,
    /// <summary>Trap-like EOI-induced VM exit (basic reason 45); the exit qualification is the vector.</summary>
    EoiInducedExit,
    /// <summary>Ordinary external-interrupt VM exit (basic reason 1), vector in the exit interruption info.</summary>
    ExternalInterruptExit,
}

/// <summary>
/// The virtual-APIC state of one guest under VMX: the virtual-APIC page, the guest interrupt
/// status (RVI/SVI) and whether a pending virtual interrupt is recognized. The methods are the
/// algorithms of SDM vol. 3C ch. 29 "APIC Virtualization and Virtual Interrupts", each named
/// after its section; the controls they consult come in through <see cref="VmxControls"/>.
/// </summary>
public struct VirtualApic
{
    public VirtualApicPage Page;
    public GuestInterruptStatus Status;
    /// <summary>Set by evaluation, cleared by delivery: a virtual interrupt awaits an instruction boundary.</summary>
    public bool Recognized;

    /// <summary>
    /// SDM 29.1.2 "TPR Virtualization", run after VTPR is written. Without VID: a "TPR below
    /// threshold" exit when VTPR[7:4] &lt; TPR threshold[3:0]. With VID: PPR virtualization, then
    /// evaluation of pending virtual interrupts, and never a threshold exit.
    /// </summary>
    public ApicVirtualizationOutcome TprVirtualization(in VmxControls c)
    {
        if (!c.VirtualInterruptDelivery)
        {
            return ((Page.Vtpr >> 4) & 0xF) < (c.TprThreshold & 0xF)
                ? ApicVirtualizationOutcome.TprBelowThresholdExit
                : ApicVirtualizationOutcome.Continue;
        }
        PprVirtualization();
        return EvaluatePendingVirtualInterrupts(in c);
    }

    /// <summary>
    /// SDM 29.1.3 "PPR Virtualization": VPPR = VTPR[7:0] when VTPR[7:4] >= SVI[7:4], else
    /// SVI &amp; 0xF0; bits 31:8 of VPPR are cleared.
    /// </summary>
    public void PprVirtualization()
    {
        uint vtpr = Page.Vtpr & 0xFF;
        byte svi = Status.Svi;
        Page.Vppr = (vtpr & 0xF0) >= (uint)(svi & 0xF0) ? vtpr : (uint)(svi & 0xF0);
    }

    /// <summary>
    /// SDM 29.1.4 "EOI Virtualization" (VID on, EOI written): V = SVI; clear VISR[V]; SVI = highest
    /// VISR bit or 0; PPR virtualization; then EOI_EXIT_BITMAP[V] decides between an EOI-induced VM
    /// exit with V as exit qualification and evaluation of pending virtual interrupts.
    /// </summary>
    public ApicVirtualizationOutcome EoiVirtualization(in VmxControls c, out byte vector)
    {
        vector = Status.Svi;
        Page.Visr.Clear(vector);
        int next = Page.Visr.Highest();
        Status.Svi = next < 0 ? (byte)0 : (byte)next;
        PprVirtualization();
        if (c.EoiExitBitmap.Test(vector)) return ApicVirtualizationOutcome.EoiInducedExit;
        return EvaluatePendingVirtualInterrupts(in c);
    }

    /// <summary>
    /// SDM 29.1.5 "Self-IPI Virtualization" (VID on, a self-IPI of vector V written to ICR):
    /// VIRR[V] = 1; RVI = max(RVI, V); evaluation of pending virtual interrupts.
    /// </summary>
    public ApicVirtualizationOutcome SelfIpiVirtualization(in VmxControls c, byte vector)
    {
        Page.Virr.Set(vector);
        if (vector > Status.Rvi) Status.Rvi = vector;
        return EvaluatePendingVirtualInterrupts(in c);
    }

    /// <summary>
    /// SDM 29.2.1 "Evaluation of Pending Virtual Interrupts": with interrupt-window exiting 0,
    /// RVI[7:4] > VPPR[7:4] makes a virtual interrupt recognized; otherwise none is. Only VM entry,
    /// TPR/EOI/self-IPI virtualization and posted-interrupt processing run it.
    /// </summary>
    public ApicVirtualizationOutcome EvaluatePendingVirtualInterrupts(in VmxControls c)
    {
        Recognized = !c.InterruptWindowExiting && (Status.Rvi >> 4) > ((Page.Vppr >> 4) & 0xF);
        return Recognized ? ApicVirtualizationOutcome.VirtualInterruptRecognized : ApicVirtualizationOutcome.Continue;
    }

    /// <summary>
    /// SDM 29.2.2 "Virtual-Interrupt Delivery", at an instruction boundary where a recognized
    /// virtual interrupt is not blocked (<paramref name="interruptible"/>: RFLAGS.IF = 1 and no
    /// blocking by STI or MOV/POP SS) and interrupt-window exiting is 0: V = RVI; VISR[V] = 1; SVI = V; VPPR = V &amp; 0xF0; VIRR[V] = 0;
    /// RVI = highest VIRR bit or 0; recognition ceases. Returns V (delivered through the guest
    /// IDT), or -1 when nothing was delivered.
    /// </summary>
    public int DeliverVirtualInterrupt(in VmxControls c, bool interruptible)
    {
        if (!Recognized || !interruptible || c.InterruptWindowExiting) return -1;
        byte v = Status.Rvi;
        Page.Visr.Set(v);
        Status.Svi = v;
        Page.Vppr = (uint)(v & 0xF0);
        Page.Virr.Clear(v);
        int next = Page.Virr.Highest();
        Status.Rvi = next < 0 ? (byte)0 : (byte)next;
        Recognized = false;
        return v;
    }

    /// <summary>
    /// SDM 29.6 "Posted-Interrupt Processing", for an external interrupt of (already acknowledged)
    /// vector <paramref name="physicalVector"/> arriving in VMX non-root operation. If posted
    /// interrupts are off or the vector is not the notification vector, an ordinary
    /// external-interrupt VM exit follows. Otherwise: clear ON; (the physical EOI of step 4 is the
    /// caller's, see the LocalApic overload); VIRR |= PIR and PIR = 0 in one step; RVI =
    /// max(RVI, highest PIR bit), unchanged when PIR was empty; evaluation of pending virtual interrupts.
    /// </summary>
    public ApicVirtualizationOutcome ProcessPostedInterrupt(in VmxControls c, byte physicalVector,
        ref PostedInterruptDescriptor pid)
    {
        if (!c.ProcessPostedInterrupts || physicalVector != (c.PiNotificationVector & 0xFF))
            return ApicVirtualizationOutcome.ExternalInterruptExit;
        pid.On = false;
        var pir = pid.TakePir();
        Page.Virr.UnionWith(in pir);
        int high = pir.Highest();
        if (high > Status.Rvi) Status.Rvi = (byte)high;
        return EvaluatePendingVirtualInterrupts(in c);
    }

    /// <summary>
    /// Posted-interrupt processing with the physical local APIC: step 1 acknowledges its highest
    /// deliverable vector (none: <see cref="ApicVirtualizationOutcome.Continue"/>, vector -1); on a
    /// notification-vector match step 4 writes its EOI. On a mismatch the vector stays in service
    /// for the host, as with "acknowledge interrupt on exit".
    /// </summary>
    public ApicVirtualizationOutcome ProcessPostedInterrupt(in VmxControls c, ref LocalApic apic,
        ref PostedInterruptDescriptor pid, out int physicalVector)
    {
        physicalVector = apic.Deliver();
        if (physicalVector < 0) return ApicVirtualizationOutcome.Continue;
        var outcome = ProcessPostedInterrupt(in c, (byte)physicalVector, ref pid);
        if (outcome != ApicVirtualizationOutcome.ExternalInterruptExit) apic.Eoi(out _);
        return outcome;
    }

    /// <summary>
    /// The APIC-virtualization part of a successful VM entry (SDM 26.3.2.5 and "VM Exits Induced by
    /// the TPR Threshold"): with VID, PPR virtualization and evaluation; with TPR shadow, VAA and no
    /// VID, an immediate "TPR below threshold" exit when threshold[3:0] > VTPR[7:4].
    /// </summary>
    public ApicVirtualizationOutcome OnVmEntry(in VmxControls c)
    {
        if (c.VirtualInterruptDelivery)
        {
            PprVirtualization();
            return EvaluatePendingVirtualInterrupts(in c);
        }
        // VTPR comes from this page, not from the Vtpr copy in the controls.
        bool below = c.UseTprShadow && c.VirtualizeApicAccesses &&
            (c.TprThreshold & 0xF) > ((Page.Vtpr >> 4) & 0xF);
        return below
            ? ApicVirtualizationOutcome.TprBelowThresholdExit
            : ApicVirtualizationOutcome.Continue;
    }
}
