using System.Diagnostics;
using NestedApic.Cli;

namespace NestedApic.Tests.Cli;

/// <summary>The built tool as a user runs it: signals, exit codes and redirections that only a
/// real process shows.</summary>
[RunsLong(12)]
public class ProcessTests
{
    static void AssertOneLine(string err)
    {
        Assert.Single(err.TrimEnd('\n').Split('\n'));
        Assert.DoesNotContain("   at ", err);
        Assert.DoesNotContain("Unhandled exception", err);
    }

    [Fact]
    public void InternalError_Exits70_WithOneLine()
    {
        var (code, o, e) = ToolProcess.Run(["policies"], new Dictionary<string, string> { [NestedApic.Cli.Cli.FaultVariable] = "1" });
        Assert.Equal(ExitCodes.InternalError, code);
        Assert.Equal("", o);
        AssertOneLine(e);
        Assert.Contains("internal error", e);
    }

    [Fact]
    public void BadIntegerOption_Exits2_WithOneLine_NotAnAbort()
    {
        var (code, _, e) = ToolProcess.Run(["check", "seed", "--depth", "abc"]);
        Assert.Equal(2, code);
        AssertOneLine(e);
        Assert.Contains("--depth must be an integer in 1..1000, got 'abc'", e);
    }

    [Fact]
    public void OutputToAFullDisk_Exits2_WithOneLine()
    {
        if (!File.Exists("/dev/full")) return;
        var (code, _, e) = ToolProcess.Shell("$TOOL check seed --threads 1 > /dev/full");
        Assert.Equal(2, code);
        AssertOneLine(e);
        Assert.Contains("cannot write the output", e);
    }

    [Fact]
    public void AmdSaveTrace_RoundTrip_ThroughTheTool()
    {
        string file = Path.Combine(Directory.CreateTempSubdirectory().FullName, "a.scn");
        var (code, o, e) = ToolProcess.Run(["check", "amd-nested-ipi", "--policy", "no-nested-avic-inhibit", "--threads", "1", "--save-trace", file]);
        Assert.True(code == 0, e + o);
        var (replay, ro, re) = ToolProcess.Run(["run", file]);
        Assert.True(replay == 0, re + ro);
        Assert.Contains("expect violated avic-doorbell-into-l2: ok", ro);
    }

    [Fact]
    public async Task CtrlC_DuringASearch_Exits3_WithTheStatistics()
    {
        // intel-wide is far larger than the state bound; the bound only keeps a lost signal from running long.
        var psi = ToolProcess.Start(["check", "intel-wide", "--policy", "linux-7.0", "--threads", "1", "--max-states", "2000000", "--max-memory", "1G", "--json"],
            new Dictionary<string, string> { [ProgressPrinter.ForceVariable] = "1" });
        using var p = Process.Start(psi)!;
        using var reaper = ToolProcess.KillOnExit(p);
        p.StandardInput.Close();
        var stdout = p.StandardOutput.ReadToEndAsync();
        // The progress line says the search has begun.
        var buffer = new char[256];
        var err = new System.Text.StringBuilder();
        while (!err.ToString().Contains("states,"))
        {
            int n = p.StandardError.Read(buffer, 0, buffer.Length);
            Assert.True(n > 0, "the tool ended before its search began: " + err);
            err.Append(buffer, 0, n);
        }
        ToolProcess.Interrupt(p);
        var rest = p.StandardError.ReadToEndAsync();
        Assert.True(p.WaitForExit(60_000), "Ctrl-C did not stop the search");
        Assert.Equal(ExitCodes.Stopped, p.ExitCode);
        var report = System.Text.Json.Nodes.JsonNode.Parse(await stdout)!;
        Assert.Equal("bounded", (string)report["verdict"]!);
        Assert.Equal("Ctrl-C", (string)report["stopped_by"]!);
        Assert.True((long)report["stats"]!["states"]! > 1);
        Assert.DoesNotContain("   at ", await rest);
    }

    [Fact]
    public async Task CtrlC_StopsTheSuite_WithASummaryOfWhatRan()
    {
        var psi = ToolProcess.Start(["check", "--threads", "1", "--max-memory", "1G"],
            new Dictionary<string, string> { [ProgressPrinter.ForceVariable] = "1" });
        using var p = Process.Start(psi)!;
        using var reaper = ToolProcess.KillOnExit(p);
        p.StandardInput.Close();
        var stdout = p.StandardOutput.ReadToEndAsync();
        var buffer = new char[256];
        var err = new System.Text.StringBuilder();
        // The first progress line comes from the first run long enough to draw one.
        while (!err.ToString().Contains("states,"))
        {
            int n = p.StandardError.Read(buffer, 0, buffer.Length);
            Assert.True(n > 0, "the suite ended before any progress: " + err);
            err.Append(buffer, 0, n);
        }
        ToolProcess.Interrupt(p);
        var rest = p.StandardError.ReadToEndAsync();
        Assert.True(p.WaitForExit(120_000), "Ctrl-C did not stop the suite");
        Assert.Equal(ExitCodes.Stopped, p.ExitCode);
        string table = await stdout;
        Assert.Matches(@"suite: stopped by Ctrl-C after \d+ of \d+ runs", table);
        // The run Ctrl-C stopped (if it came during one, not between two) reads "unknown", never a mismatch.
        Assert.DoesNotContain("MISMATCH", table);
        Assert.DoesNotContain("   at ", await rest);
    }

    [Theory]
    [InlineData("check", "universe.toml")]
    [InlineData("run", "replay.scn")]
    [InlineData("vmentry", "cases.jsonl")]
    public async Task CtrlC_WhileBlockedOpeningAFifo_Exits3(string command, string name)
    {
        if (!OperatingSystem.IsLinux()) return;
        string fifo = Path.Combine(Directory.CreateTempSubdirectory().FullName, name);
        Assert.Equal(0, ToolProcess.Shell($"mkfifo '{fifo}'").Code);
        using var p = Process.Start(ToolProcess.Start([command, fifo]))!;
        using var reaper = ToolProcess.KillOnExit(p);
        p.StandardInput.Close();
        var stderr = p.StandardError.ReadToEndAsync();
        // Wait until a thread of the tool sleeps in the kernel's FIFO open (no writer will come).
        var until = DateTime.UtcNow.AddSeconds(30);
        var start = DateTime.UtcNow;
        // Where the kernel hides wchan (it reads "0"), a few seconds stand in for the evidence.
        while (DateTime.UtcNow < until && !BlockedInFifoOpen(p.Id) && !(WchanHidden(p.Id) && DateTime.UtcNow - start > TimeSpan.FromSeconds(3)))
            Thread.Sleep(50);
        Assert.True(BlockedInFifoOpen(p.Id) || WchanHidden(p.Id), "the tool never blocked opening the FIFO");
        // The runtime hands SIGINT to managed handlers only a moment after start-up; the tool is blocked by now either way.
        Thread.Sleep(2000);
        Assert.False(p.HasExited);
        ToolProcess.Interrupt(p);
        Assert.True(p.WaitForExit(30_000), "Ctrl-C did not stop the tool blocked on a FIFO");
        Assert.Equal(ExitCodes.Stopped, p.ExitCode);
        string err = await stderr;
        AssertOneLine(err);
        Assert.Contains("stopped by Ctrl-C", err);
    }

    static bool WchanHidden(int pid)
    {
        try { return Directory.GetDirectories($"/proc/{pid}/task").All(t => File.ReadAllText(Path.Combine(t, "wchan")) is "0" or ""); }
        catch (IOException) { return true; }
        catch (UnauthorizedAccessException) { return true; }
    }

    static bool BlockedInFifoOpen(int pid)
    {
        try
        {
            return Directory.GetDirectories($"/proc/{pid}/task")
                .Any(t => File.ReadAllText(Path.Combine(t, "wchan")) is "wait_for_partner" or "fifo_open");
        }
        catch (IOException) { return false; }
        catch (UnauthorizedAccessException) { return false; }
    }
}
