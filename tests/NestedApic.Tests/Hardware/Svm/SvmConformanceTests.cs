using NestedApic.Hardware.Svm;

namespace NestedApic.Tests.Hardware.Svm;

public class SvmConformanceTests
{
    public static TheoryData<string> Cases => SvmConformanceData.Ids();

    [Theory]
    [MemberData(nameof(Cases))]
    public void VmrunCheckMatchesExpectation(string id)
    {
        var v = SvmConformanceData.Get(id);
        var rule = VmrunChecks.Check(v.Controls, v.MaxPhyAddr);
        Assert.Equal(v.Expect, rule == VmrunRule.None ? "ok" : "fail");
        Assert.Equal(v.ExitCode, SvmExitCode.Name(VmrunChecks.ExitCodeFor(rule)));
        // A failing case names the rule it probes; a passing one is tagged by it or by the baseline.
        if (rule != VmrunRule.None) Assert.Equal(v.Rule, rule.Id());
        else Assert.True(v.Rule == VmrunRuleIds.Baseline || VmrunRuleIds.TryParse(v.Rule!, out _), v.Rule);
    }

    [Fact]
    public void FileHoldsTheShippedCases()
    {
        // 12 of the 17 cases built from kvm-unit-tests x86/svm_tests.c ship; the other five are
        // held back.
        Assert.Equal(12, SvmConformanceData.All.Count);
        Assert.Equal(7, SvmConformanceData.All.Values.Count(v => v.Expect == "ok"));
        Assert.All(SvmConformanceData.All.Values, v => Assert.Equal(46, v.MaxPhyAddr));
    }
}
