using System.CommandLine;
using NestedApic.Scenarios;

namespace NestedApic.Cli;

/// <summary>
/// The shape shared by `vmentry` and `vmrun`: read a JSONL file (or - for standard input), turn
/// each non-blank line into one output line, stop at the first malformed line with its
/// FILE:LINE: field X: message. Exit 0 when every line was evaluated, 2 otherwise.
/// </summary>
public static class JsonlCommand
{
    /// <summary>One line's result: the output line, or how to word its error given file and line.</summary>
    public delegate (string? Output, Func<string, int, string>? Error) Evaluate(string line);

    public static Command Define(string name, string description, Io io, Evaluate evaluate)
    {
        var file = new Argument<string>("file") { Description = "a JSONL file, or - for standard input" };
        var cmd = new Command(name, description) { file };
        Cli.RejectOptionLike(cmd, file);
        cmd.SetAction(r =>
        {
            using var ctrlC = CtrlC.Install(io); // Ctrl-C ends the stream at once, exit 3, as for every command
            return Execute(r.GetValue(file)!, io, evaluate);
        });
        return cmd;
    }

    static int Execute(string file, Io io, Evaluate evaluate)
    {
        string name = file == "-" ? "<stdin>" : file;
        Stream stream;
        try
        {
            if (file == "-") stream = StandardInput(io);
            else if (Directory.Exists(file)) throw new InputException($"{file}: is a directory, not a JSONL file");
            else stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            io.Err.WriteLine($"{file}: cannot open: {e.Message}");
            return 2;
        }
        try
        {
            // Read as a stream: memory stays one line (at most InputText.MaxJsonlLineBytes) whatever the file's size.
            foreach (var (lineNo, line) in InputText.Lines(stream, name, InputText.MaxJsonlLineBytes))
            {
                if (string.IsNullOrWhiteSpace(line)) continue;
                var (output, error) = evaluate(line);
                if (error is not null)
                {
                    io.Err.WriteLine(error(name, lineNo));
                    return 2;
                }
                io.Out.WriteLine(output);
            }
            return 0;
        }
        catch (InputException e)
        {
            io.Err.WriteLine(e.Message);
            return 2;
        }
        catch (IOException e)
        {
            io.Err.WriteLine($"{name}: {e.Message}");
            return 2;
        }
        finally
        {
            stream.Dispose();
        }
    }

    /// <summary>The process's standard input as bytes (so invalid UTF-8 is seen); a test's reader as its text.</summary>
    static Stream StandardInput(Io io) => ReferenceEquals(io.In, Console.In)
        ? Console.OpenStandardInput()
        : new MemoryStream(System.Text.Encoding.UTF8.GetBytes(io.In.ReadToEnd()));
}
