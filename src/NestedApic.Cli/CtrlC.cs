namespace NestedApic.Cli;

/// <summary>
/// Ctrl-C for a command that searches: during a search it cancels the token (the search stops,
/// its report and statistics are printed, exit 3); at any other moment (reading input, even
/// blocked opening a FIFO) it ends the process at once with one line, exit 3.
/// </summary>
public sealed class CtrlC : IDisposable
{
    readonly CancellationTokenSource _cancel = new();
    readonly ConsoleCancelEventHandler _handler;
    readonly TextWriter _err;

    /// <summary>True while a search runs and will notice the token.</summary>
    public volatile bool Searching;

    public CancellationToken Token => _cancel.Token;

    CtrlC(TextWriter err)
    {
        _err = err;
        _handler = (_, e) =>
        {
            e.Cancel = true;
            if (Searching && !_cancel.IsCancellationRequested) { _cancel.Cancel(); return; }
            try { _err.WriteLine("nestedapic: stopped by Ctrl-C"); } catch (IOException) { }
            Environment.Exit(ExitCodes.Stopped);
        };
        Console.CancelKeyPress += _handler;
    }

    public static CtrlC Install(Io io) => new(io.Err);

    public void Dispose()
    {
        Console.CancelKeyPress -= _handler;
        _cancel.Dispose();
    }
}
