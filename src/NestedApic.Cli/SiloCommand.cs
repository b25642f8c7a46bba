using System.CommandLine;
using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.Hosting;
using NestedApic.Distributed;

namespace NestedApic.Cli;

/// <summary>
/// `nestedapic silo --cluster SPEC [--index I] [--port P] [--gateway-port G] [--address IP]
/// [--parent PID]`: runs one member of a checking cluster until Ctrl-C, SIGTERM, or the exit of
/// process PID (how `check --cluster local:N` ties its silos to itself). Prints "silo: ready ..."
/// once it has joined. Exit 0 when stopped, 2 on a bad argument, 3 when it cannot join.
/// </summary>
public static class SiloCommand
{
    public static Command Define(Io io)
    {
        var cluster = new Option<string>("--cluster") { Description = "the membership: dev:PORT or postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?cluster=ID]", Required = true };
        var index = Cli.IntOption("--index", "this silo's place in a dev: cluster (0: the primary)", 0, 63);
        var port = Cli.IntOption("--port", "silo-to-silo port (postgres:); default 11111", 1, 65535);
        var gateway = Cli.IntOption("--gateway-port", "port clients connect to (postgres:); default 30000", 1, 65535);
        var address = new Option<string?>("--address") { Description = "address to advertise (postgres:); default: the one that reaches the database" };
        var parent = Cli.IntOption("--parent", "stop when this process exits", 1, int.MaxValue);
        var cmd = new Command("silo", "Run one member of an Orleans cluster that `check --cluster` distributes searches over.")
        {
            cluster, index, port, gateway, address, parent,
        };
        cmd.SetAction(r => Run(r.GetValue(cluster)!, r.GetValue(index) ?? 0, r.GetValue(port) ?? 11111, r.GetValue(gateway) ?? 30000,
            r.GetValue(address), r.GetValue(parent), io));
        return cmd;
    }

    static int Run(string specText, int index, int port, int gateway, string? addressText, int? parent, Io io)
    {
        ClusterSpec spec;
        IPAddress? address = null;
        try
        {
            spec = ClusterSpec.Parse(specText);
            if (spec.Kind == ClusterKind.Local) throw new FormatException($"--cluster '{specText}': a silo joins dev:PORT or postgres://...; local:N is for `check`, which starts its silos itself");
            if (addressText is not null && !IPAddress.TryParse(addressText, out address)) throw new FormatException($"--address '{addressText}': not an IP address");
        }
        catch (FormatException e) { io.Err.WriteLine($"nestedapic silo: {e.Message}"); return 2; }

        IHost host;
        try
        {
            host = ClusterHosting.BuildSilo(spec, new SiloEndpoint(index, port, gateway, address), new ClusterModels());
            host.StartAsync().GetAwaiter().GetResult();
        }
        catch (Exception e)
        {
            io.Err.WriteLine($"nestedapic silo: cannot join {specText}: {e.GetBaseException().Message.ReplaceLineEndings(" ")}");
            return 3;
        }
        io.Out.WriteLine($"silo: ready in cluster {spec.ClusterId}{(spec.Kind == ClusterKind.Dev ? $" as member {index}" : "")} (pid {Environment.ProcessId})");
        io.Out.Flush();
        using (host)
        {
            if (parent is { } pid) WatchParent(pid, host);
            host.WaitForShutdownAsync().GetAwaiter().GetResult();
        }
        return 0;
    }

    static void WatchParent(int pid, IHost host)
    {
        Process? p;
        try { p = Process.GetProcessById(pid); } catch (ArgumentException) { p = null; }
        _ = Task.Run(async () =>
        {
            if (p is not null) await p.WaitForExitAsync();
            await host.StopAsync(TimeSpan.FromSeconds(5));
        });
    }
}
