using NestedApic.Checking;

namespace NestedApic.Cli;

/// <summary>
/// Live statistics on one terminal line (stderr), redrawn in place; silent when stderr is not a
/// terminal so CI logs and pipes stay clean. The engine calls it between rounds, at most four
/// times a second, so it costs the search nothing measurable.
/// </summary>
public sealed class ProgressPrinter(TextWriter err, long? maxStates)
{
    bool _drawn;

    /// <summary>Set (to anything), the progress line is drawn even when stderr is not a terminal
    /// (the process tests wait for it to know a search has begun).</summary>
    public const string ForceVariable = "NESTEDAPIC_PROGRESS";

    public static ProgressPrinter? ForTerminal(long? maxStates) =>
        Console.IsErrorRedirected && string.IsNullOrEmpty(Environment.GetEnvironmentVariable(ForceVariable))
            ? null : new ProgressPrinter(Console.Error, maxStates);

    public void Report(Statistics s)
    {
        long memory = Environment.WorkingSet;
        string eta = maxStates is { } max && s.StatesPerSecond > 0 && max > s.States
            ? $", bound in ~{TimeSpan.FromSeconds((max - s.States) / s.StatesPerSecond):hh\\:mm\\:ss}" : "";
        err.Write($"\r  {Count(s.States)} states, {Count((long)s.StatesPerSecond)}/s, depth {s.Depth}, queue {Count(s.Queue)}, {memory / (1 << 20):N0} MiB{eta}   ");
        _drawn = true;
    }

    /// <summary>Clears the line before the report is printed.</summary>
    public void Done()
    {
        if (_drawn) err.Write("\r" + new string(' ', 100) + "\r");
        _drawn = false;
    }

    static string Count(long n) => n switch
    {
        >= 1_000_000 => $"{n / 1e6:0.0} M",
        >= 10_000 => $"{n / 1e3:0} k",
        _ => n.ToString(),
    };
}
