using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using NestedApic.Distributed;

namespace NestedApic.Cli;

/// <summary>
/// `--cluster local:N`: N silo processes of this program on this machine, in a dev: cluster on
/// free ports, each told to stop when this process exits. Disposing stops them. Their logs are
/// dropped unless NESTEDAPIC_SILO_LOG is set (then copied to standard error, each line prefixed).
/// </summary>
public sealed class LocalSilos : IDisposable
{
    readonly List<(Process Process, int Index)> _silos = [];
    public ClusterSpec Spec { get; }

    LocalSilos(ClusterSpec spec) => Spec = spec;

    public static LocalSilos Start(int count, TimeSpan wait)
    {
        var local = new LocalSilos(ClusterSpec.Parse($"dev:{FreeBasePort(count)}:{count}"));
        try
        {
            var ready = new List<Task>();
            for (int i = 0; i < count; i++) ready.Add(local.Launch(i));
            if (!Task.WhenAll(ready).Wait(wait))
                {
                string? exited = local.Exited();
                throw new ClusterLostException($"cluster: local silos not ready after {wait.TotalSeconds:0} s{(exited is null ? "" : $" ({exited})")}");
            }
            return local;
        }
        catch { local.Dispose(); throw; }
    }

    Task Launch(int index)
    {
        var (file, prefix) = Self();
        var info = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (var a in prefix) info.ArgumentList.Add(a);
        foreach (var a in new[] { "silo", "--cluster", Spec.Text.Split(':')[0] + ":" + Spec.BasePort, "--index", index.ToString(), "--parent", Environment.ProcessId.ToString() })
            info.ArgumentList.Add(a);
        var p = Process.Start(info)!;
        _silos.Add((p, index));
        var ready = new TaskCompletionSource();
        p.OutputDataReceived += (_, e) => { if (e.Data?.StartsWith("silo: ready") == true) ready.TrySetResult(); };
        p.ErrorDataReceived += (_, e) => { if (e.Data is { } line && Environment.GetEnvironmentVariable("NESTEDAPIC_SILO_LOG") is not null) Console.Error.WriteLine($"silo {index}: {line}"); };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return ready.Task;
    }

    /// <summary>How to start this program again: the app host, or `dotnet NestedApic.Cli.dll`.</summary>
    static (string File, string[] Prefix) Self()
    {
        string path = Environment.ProcessPath!;
        string dll = typeof(LocalSilos).Assembly.Location;
        return Path.GetFileNameWithoutExtension(path) == "dotnet" ? (path, [dll]) : (path, []);
    }

    /// <summary>A line naming a silo process that exited, or null: the coordinator's liveness check.</summary>
    public string? Exited()
    {
        foreach (var (p, i) in _silos)
            if (p.HasExited) return $"silo process {i} (pid {p.Id}) exited with code {p.ExitCode}";
        return null;
    }

    static int FreeBasePort(int count)
    {
        for (int attempt = 0; attempt < 50; attempt++)
        {
            int port = Random.Shared.Next(20000, 40000);
            if (Enumerable.Range(0, count).All(i => Free(port + i) && Free(port + 100 + i))) return port;
        }
        throw new ClusterLostException("cluster: no free ports for local silos");
    }

    static bool Free(int port)
    {
        try { var l = new TcpListener(IPAddress.Loopback, port); l.Start(); l.Stop(); return true; }
        catch (SocketException) { return false; }
    }

    public void Dispose()
    {
        foreach (var (p, _) in _silos)
        {
            try { if (!p.HasExited) { p.Kill(entireProcessTree: true); p.WaitForExit(5000); } }
            catch (InvalidOperationException) { }
            p.Dispose();
        }
        _silos.Clear();
    }
}
