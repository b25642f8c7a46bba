namespace NestedApic.Scenarios.Toml;

/// <summary>
/// Entry point of the TOML reader for universe files: Tomlyn parses and validates (TOML 1.0 and
/// 1.1), TomlReader keeps each value's file, line and column; every error is a
/// <see cref="TomlException"/>. Dates and times are rejected.
/// </summary>
public static class Toml
{
    /// <summary>Parses <paramref name="text"/>; <paramref name="file"/> is only used in messages.</summary>
    public static TomlTable Parse(string text, string file)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(file);
        return TomlReader.Read(text, file);
    }

    /// <summary>Reads and parses a file; I/O failures become a TomlException naming the file.</summary>
    public static TomlTable ParseFile(string path)
    {
        string text;
        try
        {
            text = System.IO.File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            throw new TomlException(path, 0, 0, null, $"cannot read file: {e.Message}");
        }
        return Parse(text, path);
    }
}
