namespace NestedApic.Hypervisor.Svm;

public readonly partial struct SvmModel
{
    public void Apply(ref KvmState s, in KvmStep step)
    {
        if (KvmCommon.Apply(ref s, _c, step)) return;
        int v = step.Vcpu;
        ref var vc = ref s.Vcpus[v];
        switch (step.Kind)
        {
            case EventKind.KvmRun: // vcpu_load at the start of the ioctl
                vc.Phase = VcpuPhase.InKernel;
                SvmOps.VcpuLoad(ref s, v);
                break;
            case EventKind.ExitToUserspace: // vcpu_put at its end
                vc.Phase = VcpuPhase.Userspace;
                SvmOps.VcpuPut(ref s, v);
                break;
            case EventKind.SetNestedState: SvmNested.SetNestedState(ref s, _c, v, step.Arg); break;
            case EventKind.VmLaunch: SvmNested.Vmrun(ref s, _c, v, step.Arg); break;
            case EventKind.Vmcall: // VMMCALL, intercepted by L1: a nested #VMEXIT
                vc.Phase = VcpuPhase.InKernel;
                SvmNested.VmExit(ref s, _c, v);
                break;
            case EventKind.SendIpi: SvmOps.WriteIcr(ref s, _c, v, step.Arg, step.Arg2); break;
            case EventKind.Hlt: SvmOps.Halt(ref s, v); break;
            case EventKind.DeviceIrq: SvmOps.DeviceInterrupt(ref s, _c, v, step.Arg2); break;
            case EventKind.VmEnter: SvmOps.VcpuRun(ref s, _c, v); break;
            case EventKind.VirtualInterrupt: SvmHw.Deliver(ref vc); break;
            case EventKind.AvicIncompleteIpi: SvmOps.IncompleteIpiInterception(ref s, _c, v); break;
            case EventKind.ApicvRefresh: Avic.CompleteDeactivation(ref s, _c, v); break;
            case EventKind.Unblock: SvmOps.Unblock(ref s, v); break;
            case EventKind.DirtyLogging: KvmDirtyLogging.SetLogDirtyPages(ref s, _c, step.Arg != 0); break;
            case EventKind.GuestWrite: SvmPmlOps.GuestWrite(ref s, _c, v); break;
        }
    }
}
