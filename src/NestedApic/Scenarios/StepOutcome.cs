using NestedApic.Hardware.Svm;
using NestedApic.Hardware.Vmx;
using NestedApic.Hypervisor;
using NestedApic.Hypervisor.Svm;
using NestedApic.Hypervisor.Vmx;

namespace NestedApic.Scenarios;

/// <summary>
/// What a step meant where the changed fields alone do not say it: a VMLAUNCH/VMRESUME or VMRUN
/// that KVM's nested checks reject leaves L1 where it was, and a KVM reader expects the
/// instruction's failure and the rule, as L1 sees them.
/// </summary>
public static class StepOutcome
{
    /// <summary>A line to show before the step's changed fields, or null.</summary>
    public static string? Describe(KvmConfig config, KvmStep step)
    {
        if (step.Kind != EventKind.VmLaunch) return null;
        if (config.Vendor == CpuVendor.Intel && step.Arg < config.Vmcs12s.Count)
        {
            var v12 = config.Vmcs12s[step.Arg];
            var rule = Nested.CheckControls(v12);
            // nested_vmx_check_controls fails the instruction: VMfailValid with VM-instruction error 7.
            return rule == VmEntryRule.None ? null
                : $"rejected: VMfailValid({VmEntryChecks.ErrorFor(rule)}) to L1, rule {rule.Id()} (nested_vmx_check_controls on vmcs12 '{v12.Name}')";
        }
        if (config.Vendor == CpuVendor.Amd && step.Arg < config.Vmcb12s.Count)
        {
            var v12 = config.Vmcb12s[step.Arg];
            var rule = SvmNested.CheckControls(v12);
            // nested_vmcb_check_controls fails VMRUN: L1 gets #VMEXIT with exit code VMEXIT_INVALID.
            return rule == VmrunRule.None ? null
                : $"rejected: #VMEXIT({SvmExitCode.Name(VmrunChecks.ExitCodeFor(rule))}) to L1, rule {rule.Id()} (nested_vmcb_check_controls on vmcb12 '{v12.Name}')";
        }
        return null;
    }

    /// <summary>The step's changed fields, after its outcome line when it has one.</summary>
    public static IReadOnlyList<string> WithOutcome(KvmConfig config, KvmStep step, IReadOnlyList<string> changes) =>
        Describe(config, step) is { } line ? [line, .. changes] : changes;
}
