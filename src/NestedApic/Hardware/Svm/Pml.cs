namespace NestedApic.Hardware.Svm;

// AMD Page Modification Logging as the posted KVM series describes it ("KVM: SVM: Add Page
// modification logging support", v5 7/8, 2026-01-05, lore message-id
// 20260105063622.894410-8-nikunj@amd.com): two VMCB control fields, an enable bit in the nested
// control word, and a #VMEXIT when the 4-KiB log is full.

/// <summary>The VMCB fields and bits of PML (control area).</summary>
public static class VmcbPml
{
    /// <summary>PML_ADDR: host physical address of the 4-KiB log (512 GPA entries).</summary>
    public const int PmlAddrOffset = 0x1C8;
    /// <summary>PML_INDEX (16 bits): the next free entry; the CPU decrements it after each log.</summary>
    public const int PmlIndexOffset = 0x1D0;
    /// <summary>PML_HEAD_INDEX: an empty log.</summary>
    public const ushort HeadIndex = 511;
    /// <summary>#VMEXIT(PML_FULL).</summary>
    public const long PmlFullExitCode = 0x407;
}

/// <summary>Bits of the nested control word at 090h (<see cref="VmcbOffset.NestedControl"/>).</summary>
public static class NestedCtl
{
    public const ulong NpEnable = 1UL << 0;
    public const ulong SevEnable = 1UL << 1;
    public const ulong SevEsEnable = 1UL << 2;
    /// <summary>SVM_NESTED_CTL_PML_ENABLE: with nested paging, a guest write that sets an NPT
    /// dirty bit also appends the GPA to the log at PML_ADDR.</summary>
    public const ulong PmlEnable = 1UL << 11;

    /// <summary>Whether a guest write through a nested page table entry whose dirty bit the
    /// hypervisor cleared reaches the log: only with NP and PML both enabled in the running VMCB.</summary>
    public static bool LogsDirtyWrite(ulong nestedCtl) =>
        (nestedCtl & (NpEnable | PmlEnable)) == (NpEnable | PmlEnable);
}
