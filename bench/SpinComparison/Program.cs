using NestedApic.Checking;
using NestedApic.Checking.Examples;

// Runs one classic model through the checker and prints one key=value line for
// bench/run-spin-comparison.sh. Usage: SpinComparison MODEL SIZE [--threads N] [--modulus M] [--bug] [--exact]
//   peterson N · philosophers N · abp C (channel capacity; --modulus sets M, default 2)

if (args.Length < 2 || !int.TryParse(args[1], out int size))
{
    Console.Error.WriteLine("usage: SpinComparison peterson|philosophers|abp SIZE [--threads N] [--modulus M] [--bug] [--exact]");
    return 2;
}
string model = args[0];
int threads = Environment.ProcessorCount, modulus = 2;
bool bug = false, exact = false;
for (int i = 2; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--threads": threads = int.Parse(args[++i]); break;
        case "--modulus": modulus = int.Parse(args[++i]); break;
        case "--bug": bug = true; break;
        case "--exact": exact = true; break;
        default: Console.Error.WriteLine($"unknown option {args[i]}"); return 2;
    }
}
var options = new CheckOptions { Threads = threads, Exact = exact, CheckDeadlock = true };

var (verdict, stats) = model switch
{
    "peterson" => Summary(Checker.Run<Peterson, Peterson.State, byte>(new Peterson(size, bug), options)),
    "philosophers" => Summary(Checker.Run<Philosophers, Philosophers.State, byte>(new Philosophers(size, bug), options)),
    "abp" => Summary(Checker.Run<AlternatingBit, AlternatingBit.State, byte>(new AlternatingBit(size, modulus, bug), options)),
    _ => throw new ArgumentException($"unknown model {model}"),
};
Console.WriteLine(FormattableString.Invariant(
    $"model={model} size={size} threads={threads} verdict={verdict} states={stats.States} transitions={stats.Transitions} depth={stats.Depth} seconds={stats.Seconds:0.000} states_per_s={stats.StatesPerSecond:0} bytes_per_state={stats.BytesPerState:0.0}"));
return 0;

static (string, Statistics) Summary<TState, TStep>(CheckResult<TState, TStep> r)
    where TState : unmanaged where TStep : unmanaged =>
    (r.Verdict == Verdict.Holds ? "holds" : r.Verdict.ToString().ToLowerInvariant() + $"@{r.Trace.Count}", r.Stats);
