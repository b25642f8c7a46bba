using System.Text;

namespace NestedApic.Scenarios.Toml;

/// <summary>
/// A syntax or semantic error in a TOML file. <see cref="Exception.Message"/> is ready to show the
/// user as is: <c>FILE:LINE:COL: key 'a.b': reason</c>, so callers never need a stack trace.
/// </summary>
public sealed class TomlException : Exception
{
    public TomlException(string file, int line, int column, string? key, string reason)
        : base(Format(file, line, column, key, reason))
    {
        File = file;
        Line = line;
        Column = column;
        Key = key;
        Reason = reason;
    }

    /// <summary>The file name as given to <see cref="Toml.Parse"/>.</summary>
    public string File { get; }

    /// <summary>1-based line; 0 when unknown.</summary>
    public int Line { get; }

    /// <summary>1-based column (UTF-16 code units); 0 when unknown.</summary>
    public int Column { get; }

    /// <summary>Dotted key path the error is about, or null.</summary>
    public string? Key { get; }

    /// <summary>The message without the position and key prefix.</summary>
    public string Reason { get; }

    internal static string Format(string file, int line, int column, string? key, string reason)
    {
        var sb = new StringBuilder(file);
        if (line > 0)
        {
            sb.Append(':').Append(line);
            if (column > 0) sb.Append(':').Append(column);
        }
        sb.Append(": ");
        if (key != null) sb.Append("key '").Append(key).Append("': ");
        return sb.Append(reason).ToString();
    }
}
