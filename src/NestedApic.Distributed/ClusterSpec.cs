using System.Net;

namespace NestedApic.Distributed;

public enum ClusterKind
{
    /// <summary>local:N — the client starts N silo processes on this machine.</summary>
    Local,
    /// <summary>dev:PORT — development clustering on this machine: silo 0 listens on PORT and the
    /// others join it; silo i uses PORT+i and gateway PORT+100+i.</summary>
    Dev,
    /// <summary>postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE — ADO.NET membership table on PostgreSQL.</summary>
    Postgres,
}

/// <summary>The --cluster argument: which membership provider, and where.</summary>
public sealed record ClusterSpec(ClusterKind Kind, string Text)
{
    public int Count { get; init; }
    public int BasePort { get; init; }
    public string ConnectionString { get; init; } = "";
    public string ClusterId { get; init; } = "nestedapic";
    /// <summary>Silos a client waits for before it starts a search.</summary>
    public int Silos { get; init; } = 1;
    public int PartitionsPerSilo { get; init; } = 2;

    public const string Forms = "local:N, dev:PORT or postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?cluster=ID&silos=N&partitions=K]";

    /// <summary>Parses a SPEC; a FormatException's message is one line naming what is wrong.</summary>
    public static ClusterSpec Parse(string text)
    {
        if (text.StartsWith("local:"))
        {
            if (!int.TryParse(text[6..], out int n) || n is < 1 or > 64) throw Bad(text, "local:N needs N in 1..64");
            return new(ClusterKind.Local, text) { Count = n, Silos = n };
        }
        if (text.StartsWith("dev:"))
        {
            var parts = text[4..].Split(':');
            if (!int.TryParse(parts[0], out int port) || port is < 1024 or > 65000) throw Bad(text, "dev:PORT needs PORT in 1024..65000");
            int silos = 1;
            if (parts.Length > 2 || parts.Length == 2 && (!int.TryParse(parts[1], out silos) || silos is < 1 or > 64)) throw Bad(text, "dev:PORT[:SILOS] needs SILOS in 1..64");
            return new(ClusterKind.Dev, text) { BasePort = port, Silos = silos };
        }
        if (text.StartsWith("postgres://") || text.StartsWith("postgresql://")) return Postgres(text);
        throw Bad(text, $"expected {Forms}");
    }

    static FormatException Bad(string text, string why) => new($"--cluster '{text}': {why}");

    static ClusterSpec Postgres(string text)
    {
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Host.Length == 0 || uri.AbsolutePath.Trim('/').Length == 0)
            throw Bad(text, "expected postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE");
        var user = uri.UserInfo.Split(':', 2);
        var query = uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Select(kv => kv.Split('=', 2)).ToDictionary(kv => kv[0], kv => kv.Length > 1 ? Uri.UnescapeDataString(kv[1]) : "");
        foreach (var key in query.Keys)
            if (key is not ("cluster" or "silos" or "partitions")) throw Bad(text, $"unknown parameter '{key}' (known: cluster, silos, partitions)");
        int silos = 1, partitions = 2;
        if (query.TryGetValue("silos", out var s) && (!int.TryParse(s, out silos) || silos is < 1 or > 1024)) throw Bad(text, "silos must be in 1..1024");
        if (query.TryGetValue("partitions", out var p) && (!int.TryParse(p, out partitions) || partitions is < 1 or > 256)) throw Bad(text, "partitions must be in 1..256");
        var cs = $"Host={uri.Host};Port={(uri.Port > 0 ? uri.Port : 5432)};Database={Uri.UnescapeDataString(uri.AbsolutePath.Trim('/'))}";
        if (user[0].Length > 0) cs += $";Username={Uri.UnescapeDataString(user[0])}";
        if (user.Length > 1) cs += $";Password={Uri.UnescapeDataString(user[1])}";
        return new(ClusterKind.Postgres, text)
        {
            ConnectionString = cs,
            ClusterId = query.GetValueOrDefault("cluster", "nestedapic"),
            Silos = silos,
            PartitionsPerSilo = partitions,
        };
    }

    /// <summary>The database host, for picking the address a silo advertises.</summary>
    public string? DatabaseHost => Kind == ClusterKind.Postgres ? ConnectionString.Split(';')[0][5..] : null;

    public static IPEndPoint Loopback(int port) => new(IPAddress.Loopback, port);
}
