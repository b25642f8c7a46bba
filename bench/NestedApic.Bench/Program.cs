using BenchmarkDotNet.Running;

// BenchmarkSwitcher finds every benchmark class in this assembly; pass --filter to pick some.
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
