using NestedApic.Hardware.Vmx;

namespace NestedApic.Tests.Hardware.Vmx;

public class ConformanceTests
{
    public static TheoryData<string> Cases => ConformanceData.Ids();

    [Theory]
    [MemberData(nameof(Cases))]
    public void ArchitecturalCheckMatchesExpectation(string id)
    {
        var v = ConformanceData.Get(id);
        var rule = VmEntryChecks.Check(v.Controls, v.MaxPhyAddr);
        Assert.Equal(v.Expect, rule == VmEntryRule.None ? "ok" : "fail");
        Assert.Equal(v.Error, rule == VmEntryRule.None ? null : (int)VmEntryChecks.ErrorFor(rule));

        // Informative fields: the full violation set, and the first rule in KVM's order.
        var all = VmEntryChecks.CheckAll(v.Controls, v.MaxPhyAddr);
        var ids = new List<string>();
        foreach (var r in all) ids.Add(r.Id()!);
        Assert.Equal(v.Violations.Order(), ids.Order());
        if (rule != VmEntryRule.None) Assert.Equal(v.Rule, rule.Id());
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void KvmNestedCheckAgreesOnEveryCase(string id)
    {
        var v = ConformanceData.Get(id);
        var arch = VmEntryChecks.Check(v.Controls, v.MaxPhyAddr);
        // With warn_on_missed_cc KVM runs every rule in software, in the same order.
        var nested = VmEntryChecks.CheckNested(v.Controls, v.MaxPhyAddr,
            KvmNestedPolicy.TprThresholdRsvdBitsCheck | KvmNestedPolicy.WarnOnMissedCc);
        Assert.Equal(arch, nested.Rule);
        Assert.Equal(v.Error ?? 0, (int)nested.Error);
        // Default policy: the same verdict for L1, only the stage can differ.
        Assert.Equal(arch, VmEntryChecks.CheckNested(v.Controls, v.MaxPhyAddr).Rule);
    }

    [Fact]
    public void FileHoldsTheDocumentedNumberOfCases()
    {
        Assert.Equal(965, ConformanceData.All.Count);
        Assert.Equal(965, File.ReadLines(ConformanceData.VmEntryPath).Count(l => l.Length > 0));
        Assert.Equal(734, ConformanceData.All.Values.Count(v => v.Expect == "ok"));
    }
}
