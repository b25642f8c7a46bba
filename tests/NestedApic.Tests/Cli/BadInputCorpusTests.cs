using NestedApic.Cli;

namespace NestedApic.Tests.Cli;

/// <summary>
/// tests/data/bad-input/cases.txt: every bad input of every format and command (wrong types,
/// out-of-range values, huge inputs, bad encodings, unreadable paths, bad options) exits with its
/// code and exactly one line on stderr naming what it blames, never a stack trace.
/// </summary>
public class BadInputCorpusTests
{
    static readonly string Folder = Path.Combine(AppContext.BaseDirectory, "data", "bad-input");

    public static TheoryData<int, int, string, string> Cases()
    {
        var data = new TheoryData<int, int, string, string>();
        int lineNo = 0;
        foreach (var line in File.ReadLines(Path.Combine(Folder, "cases.txt")))
        {
            lineNo++;
            if (line.Length == 0 || line.StartsWith('#')) continue;
            var parts = line.Split(" | ", 3);
            data.Add(lineNo, int.Parse(parts[0]), parts[1], parts[2].Trim());
        }
        return data;
    }

    static string Expand(string s) => s.Replace("{d}", Folder);

    [Theory]
    [MemberData(nameof(Cases))]
    public void BadInput_ExitsWithItsCode_AndOneLineNamingTheInput(int line, int exit, string expected, string commandLine)
    {
        var words = commandLine.Split(' ', StringSplitOptions.RemoveEmptyEntries).ToList();
        TextReader stdin = TextReader.Null;
        int redirect = words.IndexOf("<");
        if (redirect >= 0)
        {
            stdin = new StringReader(File.ReadAllText(Expand(words[redirect + 1])));
            words.RemoveRange(redirect, 2);
        }
        var (o, e) = (new StringWriter(), new StringWriter());
        var io = new Io(stdin, o, e);
        int code = NestedApic.Cli.Cli.Invoke(NestedApic.Cli.Cli.Root(io), words.Select(Expand).ToArray(), io);
        string err = e.ToString();
        Assert.True(code == exit, $"cases.txt:{line}: exit {code}, expected {exit}; stderr: {err}");
        Assert.True(err.TrimEnd('\n').Split('\n').Length == 1 && err.Length > 1, $"cases.txt:{line}: stderr is not one line: {err}");
        Assert.DoesNotContain("   at ", err);
        Assert.DoesNotContain("Exception", err);
        Assert.True(err.Contains(Expand(expected)), $"cases.txt:{line}: stderr lacks '{Expand(expected)}': {err}");
    }

    [Fact]
    public void TheCorpus_CoversEveryCommandAndInputFormat()
    {
        var commands = Cases().Select(row => ((string)row[3]).Split(' ')[0]).ToHashSet();
        foreach (var c in new[] { "check", "run", "diff", "vmentry", "vmrun" }) Assert.Contains(c, commands);
        foreach (var folder in new[] { "universe", "scenario", "jsonl" })
            foreach (var f in Directory.GetFiles(Path.Combine(Folder, folder)))
                Assert.True(Cases().Any(row => ((string)row[3]).Contains($"{folder}/{Path.GetFileName(f)}")), $"{folder}/{Path.GetFileName(f)} has no case");
    }

    [Fact]
    public void AnOverlongJsonlLine_IsRefused_WithoutReadingTheRest()
    {
        string file = Path.Combine(Directory.CreateTempSubdirectory().FullName, "long.jsonl");
        File.WriteAllText(file, "{\"id\": \"" + new string('x', 70_000) + "\"}\n");
        var (o, e) = (new StringWriter(), new StringWriter());
        Assert.Equal(2, VmEntryCommand.Run([file], TextReader.Null, o, e));
        Assert.Contains($"{file}:1: a line longer than 64 KiB", e.ToString());
    }

    [Fact]
    public void AnOversizedUniverse_IsRefused()
    {
        string file = Path.Combine(Directory.CreateTempSubdirectory().FullName, "big.toml");
        File.WriteAllText(file, "# " + new string('x', (1 << 20) + 10) + "\n");
        var (o, e) = (new StringWriter(), new StringWriter());
        Assert.Equal(2, CheckCommand.Run([file], o, e));
        Assert.Contains($"{file}: cannot read the universe: larger than 1 MiB", e.ToString());
    }

    [Fact]
    public void AnUnreadableFile_IsOneLine()
    {
        if (Environment.UserName == "root" || OperatingSystem.IsWindows()) return; // root reads mode-000 files
        string file = Path.Combine(Directory.CreateTempSubdirectory().FullName, "locked.toml");
        File.WriteAllText(file, "vcpus = 2\n");
        File.SetUnixFileMode(file, UnixFileMode.None);
        var (o, e) = (new StringWriter(), new StringWriter());
        Assert.Equal(2, CheckCommand.Run([file], o, e));
        Assert.Contains($"{file}: cannot read the universe", e.ToString());
        Assert.Single(e.ToString().TrimEnd('\n').Split('\n'));
    }
}
