// The command line: every command is defined in its own file and parsed by System.CommandLine.
return NestedApic.Cli.Cli.Start(args);
