using System.CommandLine;

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
        cmd.SetAction(r => Execute(r.GetValue(file)!, io, evaluate));
        return cmd;
    }

    static int Execute(string file, Io io, Evaluate evaluate)
    {
        TextReader reader;
        if (file == "-") reader = io.In;
        else
        {
            try { reader = new StreamReader(file); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
            {
                io.Err.WriteLine($"{file}: cannot open: {e.Message}");
                return 2;
            }
        }
        string name = file == "-" ? "<stdin>" : file;
        try
        {
            int lineNo = 0;
            string? line;
            while ((line = reader.ReadLine()) is not null)
            {
                lineNo++;
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
        catch (IOException e)
        {
            io.Err.WriteLine($"{name}: read error: {e.Message}");
            return 2;
        }
        finally
        {
            if (!ReferenceEquals(reader, io.In)) reader.Dispose();
        }
    }
}
