namespace NestedApic.Hardware.Svm;

/// <summary>
/// The VMCB control-area fields that the VMRUN checks and AVIC read, as raw hardware values
/// (offsets in <see cref="VmcbOffset"/>). Unmanaged and allocation-free.
/// </summary>
public struct VmcbControls
{
    /// <summary>Intercept word at 00Ch (<see cref="Svm.InterceptMisc1"/>).</summary>
    public uint InterceptMisc1;
    /// <summary>Intercept word at 010h (<see cref="Svm.InterceptMisc2"/>).</summary>
    public uint InterceptMisc2;
    public ulong IopmBasePa;
    public ulong MsrpmBasePa;
    public uint Asid;
    /// <summary>Bits 31:0 of 060h (<see cref="Svm.IntCtl"/>).</summary>
    public uint IntCtl;
    /// <summary>V_INTR_VECTOR (064h); ignored while AVIC is on.</summary>
    public byte IntVector;
    public ulong AvicApicBar;
    public ulong AvicBackingPage;
    public ulong AvicLogicalTable;
    /// <summary>Physical-table pointer (51:12) with MAX_INDEX (11:0).</summary>
    public ulong AvicPhysicalTable;

    public readonly bool InterceptVmrun => (InterceptMisc2 & Svm.InterceptMisc2.Vmrun) != 0;
    public readonly bool InterceptNmi => (InterceptMisc1 & Svm.InterceptMisc1.Nmi) != 0;
    public readonly bool InterceptMsrProt => (InterceptMisc1 & Svm.InterceptMisc1.MsrProt) != 0;
    public readonly bool InterceptIoioProt => (InterceptMisc1 & Svm.InterceptMisc1.IoioProt) != 0;
    public readonly bool AvicEnabled => (IntCtl & Svm.IntCtl.AvicEnable) != 0;
    public readonly bool X2AvicEnabled => (IntCtl & Svm.IntCtl.X2AvicEnable) != 0;
    public readonly bool VNmiEnabled => (IntCtl & Svm.IntCtl.VNmiEnable) != 0;
    public readonly byte VTpr => (byte)(IntCtl & Svm.IntCtl.VTprMask);

    /// <summary>AVIC_PHYSICAL_MAX_INDEX: the highest valid index into the physical table.</summary>
    public readonly int PhysicalMaxIndex => (int)(AvicPhysicalTable & AvicPointer.MaxIndexMask);
    public readonly ulong PhysicalTableAddress => AvicPhysicalTable & AvicPointer.AddressMask;

    /// <summary>The fields as kvm-unit-tests' vmcb_ident() leaves them (svm.c): ASID 1, VMRUN
    /// intercepted, int_ctl 0, the bitmaps on their own pages. The baseline of the conformance file.</summary>
    public static VmcbControls TestBaseline => new()
    {
        InterceptMisc1 = Svm.InterceptMisc1.Shutdown,
        InterceptMisc2 = Svm.InterceptMisc2.Vmrun | Svm.InterceptMisc2.Vmmcall,
        Asid = 1,
        MsrpmBasePa = 0x4d8000,
        IopmBasePa = 0x4dc000,
    };
}
