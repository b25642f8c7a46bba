using NestedApic.Hardware.Svm;

namespace NestedApic.Hypervisor.Svm;

/// <summary>
/// A vmcb12 as L1 writes it for L2: the intercepts and int_ctl nested SVM reads. L1 never sees
/// AVIC in CPUID (KVM does not advertise it), but may still set the bits; KVM drops them.
/// </summary>
public sealed record Vmcb12
{
    public required string Name { get; init; }
    /// <summary>Intercept word at 00Ch: INTR (bit 0) decides what an L1 interrupt does while L2 runs.</summary>
    public uint InterceptMisc1 { get; init; } = Hardware.Svm.InterceptMisc1.Intr | Hardware.Svm.InterceptMisc1.Shutdown;
    /// <summary>Intercept word at 010h: VMRUN must be intercepted (APM §15.5.1).</summary>
    public uint InterceptMisc2 { get; init; } = Hardware.Svm.InterceptMisc2.Vmrun | Hardware.Svm.InterceptMisc2.Vmmcall;
    /// <summary>int_ctl (060h): V_INTR_MASKING by default, as KVM itself runs its guests.</summary>
    public uint IntCtl { get; init; } = Hardware.Svm.IntCtl.VIntrMasking;
    public uint Asid { get; init; } = 1;

    /// <summary>nested_exit_on_intr: L1 intercepts physical interrupts.</summary>
    public bool InterceptIntr => (InterceptMisc1 & Hardware.Svm.InterceptMisc1.Intr) != 0;
    public bool VIntrMasking => (IntCtl & Hardware.Svm.IntCtl.VIntrMasking) != 0;

    /// <summary>The control fields KVM's nested checks read, on the test baseline's bitmaps.</summary>
    public VmcbControls Controls => VmcbControls.TestBaseline with
    {
        InterceptMisc1 = InterceptMisc1,
        InterceptMisc2 = InterceptMisc2,
        IntCtl = IntCtl,
        Asid = Asid,
    };
}
