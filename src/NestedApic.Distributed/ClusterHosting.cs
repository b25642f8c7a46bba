using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Orleans.Configuration;

namespace NestedApic.Distributed;

/// <summary>Where one silo listens. Index: its place in a dev: cluster (0 is the primary).</summary>
public sealed record SiloEndpoint(int Index = 0, int SiloPort = 11111, int GatewayPort = 30000, IPAddress? Address = null);

/// <summary>Builds silo and client hosts for a <see cref="ClusterSpec"/>.</summary>
public static class ClusterHosting
{
    /// <summary>Failure detection tuned so a dead silo is declared within about ten seconds:
    /// probes every 2 s, three misses, one vote enough (the default needs two voters, which a
    /// two-silo cluster that lost one does not have).</summary>
    static void Tune(ClusterMembershipOptions o)
    {
        o.ProbeTimeout = TimeSpan.FromSeconds(2);
        o.NumMissedProbesLimit = 3;
        o.NumVotesForDeathDeclaration = 1;
        o.TableRefreshTimeout = TimeSpan.FromSeconds(5);
        o.IAmAliveTablePublishTimeout = TimeSpan.FromSeconds(10);
    }

    public static IHost BuildSilo(ClusterSpec spec, SiloEndpoint at, IModelCatalog catalog, LogLevel logLevel = LogLevel.Warning)
    {
        var builder = Host.CreateApplicationBuilder();
        Quiet(builder.Logging, logLevel);
        builder.Services.AddSingleton(catalog);
        builder.UseOrleans(silo =>
        {
            switch (spec.Kind)
            {
                case ClusterKind.Dev or ClusterKind.Local:
                    silo.UseLocalhostClustering(spec.BasePort + at.Index, spec.BasePort + 100 + at.Index,
                        ClusterSpec.Loopback(spec.BasePort), spec.ClusterId, spec.ClusterId);
                    break;
                case ClusterKind.Postgres:
                    EnsureSchema(spec.ConnectionString);
                    silo.UseAdoNetClustering(o => { o.Invariant = "Npgsql"; o.ConnectionString = spec.ConnectionString; });
                    silo.Configure<Orleans.Configuration.ClusterOptions>(o => { o.ClusterId = spec.ClusterId; o.ServiceId = spec.ClusterId; });
                    silo.ConfigureEndpoints(at.Address ?? AddressTowards(spec.DatabaseHost!), at.SiloPort, at.GatewayPort, listenOnAnyHostAddress: true);
                    break;
            }
            silo.Configure<ClusterMembershipOptions>(Tune);
            // A level's expansion can be long: the coordinator watches liveness itself.
            silo.Configure<SiloMessagingOptions>(o => o.ResponseTimeout = TimeSpan.FromMinutes(10));
        });
        return builder.Build();
    }

    public static IHost BuildClient(ClusterSpec spec, LogLevel logLevel = LogLevel.Critical)
    {
        var builder = Host.CreateApplicationBuilder();
        Quiet(builder.Logging, logLevel);
        builder.UseOrleansClient(client =>
        {
            switch (spec.Kind)
            {
                case ClusterKind.Dev or ClusterKind.Local:
                    client.UseLocalhostClustering(spec.BasePort + 100, spec.ClusterId, spec.ClusterId);
                    break;
                case ClusterKind.Postgres:
                    client.UseAdoNetClustering(o => { o.Invariant = "Npgsql"; o.ConnectionString = spec.ConnectionString; });
                    client.Configure<Orleans.Configuration.ClusterOptions>(o => { o.ClusterId = spec.ClusterId; o.ServiceId = spec.ClusterId; });
                    break;
            }
            client.Configure<ClientMessagingOptions>(o => o.ResponseTimeout = TimeSpan.FromHours(1));
        });
        return builder.Build();
    }

    /// <summary>Orleans logs plenty at Information; a checker's output is its report, so silos log
    /// warnings and errors, on standard error, and a client only what the coordinator cannot say
    /// in its own one line.</summary>
    static void Quiet(ILoggingBuilder logging, LogLevel level)
    {
        logging.ClearProviders();
        logging.AddSimpleConsole(o => o.SingleLine = true);
        logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        logging.SetMinimumLevel(level);
        // Start-up notes (server GC, a watchdog's first tick) are not warnings worth a user's eye.
        logging.AddFilter("Orleans.Runtime.Silo", LogLevel.Error);
        logging.AddFilter("Orleans.Runtime.Watchdog", LogLevel.Error);
    }

    /// <summary>Creates the membership tables and queries when they are missing (see MembershipSchema.sql).</summary>
    public static void EnsureSchema(string connectionString)
    {
        using var stream = typeof(ClusterHosting).Assembly.GetManifestResourceStream("MembershipSchema.sql")!;
        string sql = new StreamReader(stream).ReadToEnd();
        using var connection = new NpgsqlConnection(connectionString);
        connection.Open();
        using var command = new NpgsqlCommand(sql, connection);
        command.ExecuteNonQuery();
    }

    /// <summary>The local address packets to <paramref name="host"/> leave from: what other
    /// machines that reach the same database can reach this silo on.</summary>
    public static IPAddress AddressTowards(string host)
    {
        var target = Dns.GetHostAddresses(host).FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork) ?? IPAddress.Loopback;
        if (IPAddress.IsLoopback(target)) return IPAddress.Loopback;
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        probe.Connect(target, 9);
        return ((IPEndPoint)probe.LocalEndPoint!).Address;
    }
}
