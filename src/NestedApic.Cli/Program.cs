using NestedApic.Cli;

// Minimal dispatch: one case per command (System.CommandLine arrives with the CLI issue).
return Dispatch(args);

static int Dispatch(string[] args)
{
    switch (args.Length > 0 ? args[0] : "")
    {
        case "check":
            return CheckCommand.Run(args[1..], Console.Out, Console.Error);
        case "run":
            return RunCommand.Run(args[1..], Console.Out, Console.Error);
        case "diff":
            return DiffCommand.Run(args[1..], Console.Out, Console.Error);
        case "policies":
            return PoliciesCommand.Run(args[1..], Console.Out, Console.Error);
        case "vmrun":
            return VmrunCommand.Run(args[1..], Console.In, Console.Out, Console.Error);
        case "vmentry":
            return VmEntryCommand.Run(args[1..], Console.In, Console.Out, Console.Error);
        default:
            Console.Error.WriteLine("usage: nestedapic <command> [args]");
            Console.Error.WriteLine("commands:");
            Console.Error.WriteLine("  check [UNIVERSE]        explore every interleaving; no universe: the built-in suite");
            Console.Error.WriteLine("  run FILE.scn            replay a scenario and check its expects");
            Console.Error.WriteLine("  diff UNIVERSE --policy A --policy B   where two designs' verdicts differ, property by property");
            Console.Error.WriteLine("  policies                list the presets and the switches a universe may override");
            Console.Error.WriteLine("  vmentry FILE.jsonl|-    evaluate VM-entry control checks for each line");
            Console.Error.WriteLine("  vmrun FILE.jsonl|-      evaluate VMRUN consistency checks for each line");
            return 2;
    }
}
