using System.Text;

namespace NestedApic.Scenarios;

/// <summary>
/// Reads the files users give (universes, scenarios, JSONL vectors) with a size cap and strict
/// UTF-8: a file over the cap (or /dev/zero) is refused after reading one byte past the cap, and
/// a byte sequence that is not UTF-8 is an error at its FILE:LINE:COL, as TOML 1.0 requires.
/// The caps are documented in docs/universes.md and docs/scenarios.md.
/// </summary>
public static class InputText
{
    /// <summary>A universe file: the shipped ones are under 4 KiB.</summary>
    public const int MaxUniverseBytes = 1 << 20;
    /// <summary>One scenario file (each include counts on its own).</summary>
    public const int MaxScenarioBytes = 1 << 20;
    /// <summary>All the lines a scenario and its includes may add up to.</summary>
    public const int MaxScenarioLines = 100_000;
    /// <summary>One line of a JSONL file (the file itself is read as a stream, without a cap).</summary>
    public const int MaxJsonlLineBytes = 64 << 10;

    static readonly UTF8Encoding Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The text of <paramref name="path"/>, at most <paramref name="maxBytes"/> bytes of
    /// UTF-8 (a leading BOM is dropped). <paramref name="what"/> names the input in errors.</summary>
    public static string ReadFile(string path, int maxBytes, string what)
    {
        if (Directory.Exists(path)) throw new InputException($"{path}: cannot read {what}: it is a directory");
        byte[] bytes;
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
            bytes = ReadCapped(stream, maxBytes, path, what);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new InputException($"{path}: cannot read {what}: {e.Message}");
        }
        return Decode(bytes, bytes.Length, path, 1);
    }

    static byte[] ReadCapped(Stream stream, int maxBytes, string path, string what)
    {
        var buffer = new MemoryStream();
        var chunk = new byte[64 << 10];
        int n;
        while ((n = stream.Read(chunk, 0, (int)Math.Min(chunk.Length, maxBytes + 1L - buffer.Length))) > 0)
        {
            buffer.Write(chunk, 0, n);
            if (buffer.Length > maxBytes)
                throw new InputException($"{path}: cannot read {what}: larger than {Size(maxBytes)}, the most it may be");
        }
        return buffer.ToArray();
    }

    public static string Size(long bytes) => bytes >= 1 << 20 ? $"{bytes >> 20} MiB" : $"{bytes >> 10} KiB";

    /// <summary>Decodes UTF-8 strictly; an invalid sequence is an error at its line and column
    /// (<paramref name="firstLine"/> is the line the bytes start on).</summary>
    public static string Decode(byte[] bytes, int count, string file, int firstLine, bool stripBom = true)
    {
        int start = stripBom && count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF ? 3 : 0;
        try { return Strict.GetString(bytes, start, count - start); }
        catch (DecoderFallbackException e)
        {
            int bad = start + Math.Max(0, e.Index);
            int lineStart = start, line = firstLine;
            for (int i = start; i < bad; i++)
                if (bytes[i] == (byte)'\n') { line++; lineStart = i + 1; }
            int col = Strict.GetCharCount(bytes, lineStart, bad - lineStart) + 1;
            throw new InputException($"{file}:{line}:{col}: invalid UTF-8 (byte 0x{bytes[bad]:X2}); the file must be UTF-8 text");
        }
    }

    /// <summary>The lines of a stream, each at most <paramref name="maxLineBytes"/> bytes and
    /// strict UTF-8, without reading more than one line ahead.</summary>
    public static IEnumerable<(int Line, string Text)> Lines(Stream stream, string file, int maxLineBytes)
    {
        var line = new byte[maxLineBytes];
        var chunk = new byte[8 << 10];
        int used = 0, lineNo = 1, n;
        bool first = true;
        while ((n = stream.Read(chunk, 0, chunk.Length)) > 0)
        {
            for (int i = 0; i < n; i++)
            {
                if (chunk[i] == (byte)'\n')
                {
                    yield return (lineNo, DecodeLine(line, used, file, lineNo, ref first));
                    lineNo++;
                    used = 0;
                    continue;
                }
                if (used == maxLineBytes)
                    throw new InputException($"{file}:{lineNo}: a line longer than {Size(maxLineBytes)}, the most a line may be");
                line[used++] = chunk[i];
            }
        }
        if (used > 0) yield return (lineNo, DecodeLine(line, used, file, lineNo, ref first));
    }

    static string DecodeLine(byte[] bytes, int count, string file, int lineNo, ref bool first)
    {
        if (count > 0 && bytes[count - 1] == (byte)'\r') count--;
        string text = Decode(bytes, count, file, lineNo, stripBom: first);
        first = false;
        return text;
    }
}
