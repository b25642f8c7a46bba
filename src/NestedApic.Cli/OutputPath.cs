using NestedApic.Scenarios;

namespace NestedApic.Cli;

/// <summary>Output files (--html, --save-trace) are checked before a search starts.</summary>
public static class OutputPath
{
    /// <summary>The folder exists, the path is not a folder, and a file there can be written;
    /// an existing file is opened for writing but left as it is.</summary>
    public static void CheckWritable(string path, string option)
    {
        try
        {
            if (path.Length == 0) throw new InputException($"{option}: an empty file name");
            if (Directory.Exists(path)) throw new InputException($"{option}: {path} is a directory, not a file");
            string dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
            if (!Directory.Exists(dir)) throw new InputException($"{option}: cannot write {path}: the directory {dir} does not exist");
            if (File.Exists(path)) { using var _ = new FileStream(path, FileMode.Open, FileAccess.Write); }
            else { using var _ = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose); }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new InputException($"{option}: cannot write {path}: {e.Message}");
        }
    }
}
