using NestedApic.Cli;

// Minimal dispatch: one case per command.
return Dispatch(args);

static int Dispatch(string[] args)
{
    switch (args.Length > 0 ? args[0] : "")
    {
        case "vmentry":
            return VmEntryCommand.Run(args[1..], Console.In, Console.Out, Console.Error);
        default:
            Console.Error.WriteLine("usage: nestedapic <command> [args]");
            Console.Error.WriteLine("commands:");
            Console.Error.WriteLine("  vmentry FILE.jsonl|-   evaluate VM-entry control checks for each line");
            return 2;
    }
}
