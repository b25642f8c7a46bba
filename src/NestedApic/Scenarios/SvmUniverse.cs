using NestedApic.Hypervisor.Svm;
using NestedApic.Scenarios.Toml;

namespace NestedApic.Scenarios;

/// <summary>The AMD parts of a universe file.</summary>
public static class SvmUniverse
{
    /// <summary>[[vmcb12]]: name, intercept-intr (default true), v-intr-masking (default true), or
    /// the raw intercept word at 00Ch and int_ctl.</summary>
    public static Vmcb12 ParseVmcb12(TomlValue item)
    {
        if (item is not TomlTable t) throw item.Error("each [[vmcb12]] must be a table");
        t.RejectUnknownKeys("name", "intercept-intr", "v-intr-masking", "intercept-misc1", "int-ctl", "asid");
        if (t.TryGet("intercept-intr", out var ii) && t.TryGet("intercept-misc1", out _))
            throw ii.Error("give intercept-intr or intercept-misc1, not both");
        if (t.TryGet("v-intr-masking", out var vm) && t.TryGet("int-ctl", out _))
            throw vm.Error("give v-intr-masking or int-ctl, not both");
        var d = new Vmcb12 { Name = "default" };
        uint misc1 = (uint)t.GetIntegerOr("intercept-misc1", d.InterceptMisc1, 0, uint.MaxValue);
        if (t.TryGet("intercept-intr", out _))
            misc1 = t.GetBooleanOr("intercept-intr", true) ? misc1 | Hardware.Svm.InterceptMisc1.Intr : misc1 & ~Hardware.Svm.InterceptMisc1.Intr;
        uint intCtl = (uint)t.GetIntegerOr("int-ctl", d.IntCtl, 0, uint.MaxValue);
        if (t.TryGet("v-intr-masking", out _))
            intCtl = t.GetBooleanOr("v-intr-masking", true) ? intCtl | Hardware.Svm.IntCtl.VIntrMasking : intCtl & ~Hardware.Svm.IntCtl.VIntrMasking;
        return new Vmcb12
        {
            Name = t.GetString("name"),
            InterceptMisc1 = misc1,
            IntCtl = intCtl,
            Asid = (uint)t.GetIntegerOr("asid", 1, 0, uint.MaxValue),
        };
    }
}
