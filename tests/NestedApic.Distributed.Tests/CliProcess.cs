using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace NestedApic.Distributed.Tests;

/// <summary>The CLI as a child process (`dotnet NestedApic.Cli.dll ...`), its output collected.</summary>
public sealed class CliProcess : IDisposable
{
    readonly StringBuilder _out = new(), _err = new();
    public Process Process { get; }

    public CliProcess(params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "NestedApic.Cli.dll"));
        foreach (var a in args) info.ArgumentList.Add(a);
        // The CLI counts calls for tier-1 compilation from the start (its runtimeconfig), which
        // pays in a long search but doubles the CPU time of a short-lived silo or client (JIT
        // work: 7 CPU-s instead of 3 for `check --cluster local:2` of a small universe). These
        // processes live seconds: the runtime's default delay. The silos of local:N inherit it.
        info.Environment["DOTNET_TC_CallCountingDelayMs"] = "100";
        Process = Process.Start(info)!;
        Process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_out) _out.AppendLine(e.Data); };
        Process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_err) _err.AppendLine(e.Data); };
        Process.BeginOutputReadLine();
        Process.BeginErrorReadLine();
    }

    public string Out { get { lock (_out) return _out.ToString(); } }
    public string Err { get { lock (_err) return _err.ToString(); } }

    /// <summary>Waits for the exit; a process still running after <paramref name="limit"/> is killed and the test fails.</summary>
    public int Wait(TimeSpan limit)
    {
        if (!Process.WaitForExit(limit))
        {
            Process.Kill(entireProcessTree: true);
            Assert.Fail($"still running after {limit.TotalSeconds:0} s; stderr:\n{Err}");
        }
        Process.WaitForExit(); // drains the output
        return Process.ExitCode;
    }

    /// <summary>Waits until standard output or error holds <paramref name="text"/>.</summary>
    public void WaitFor(string text, TimeSpan limit)
    {
        var until = DateTime.UtcNow + limit;
        while (!Out.Contains(text) && !Err.Contains(text))
        {
            if (Process.HasExited) Assert.Fail($"exited ({Process.ExitCode}) before printing '{text}'; stderr:\n{Err}");
            if (DateTime.UtcNow > until) Assert.Fail($"no '{text}' after {limit.TotalSeconds:0} s; stderr:\n{Err}");
            Thread.Sleep(100);
        }
    }

    public static int FreePort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        int port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    public void Dispose()
    {
        try { if (!Process.HasExited) { Process.Kill(entireProcessTree: true); Process.WaitForExit(5000); } }
        catch (InvalidOperationException) { }
        Process.Dispose();
    }
}
