using System.Diagnostics;
using System.Text.Json.Nodes;

namespace NestedApic.Distributed.Tests;

/// <summary>
/// Silos as separate processes of the CLI: `check --cluster local:2`, whose silos the client
/// starts and stops. The reports are compared with the local engine's (one thread). The tests
/// through PostgreSQL are a class of their own (<see cref="PostgresClusterTests"/>) so that
/// xUnit runs the two side by side: they spend much of their time waiting (for a silo's death
/// to be declared, for silos to notice their client is gone).
/// </summary>
public class ProcessClusterTests
{
    internal static readonly TimeSpan Limit = TimeSpan.FromSeconds(120);

    internal static JsonNode Check(params string[] args)
    {
        using var p = new CliProcess(["check", .. args, "--json"]);
        int code = p.Wait(Limit);
        Assert.True(code is 0 or 1, $"exit {code}; stderr:\n{p.Err}");
        return JsonNode.Parse(p.Out)!;
    }

    internal static void SameReport(JsonNode local, JsonNode cluster)
    {
        Assert.Equal((string?)local["verdict"], (string?)cluster["verdict"]);
        Assert.Equal((string?)local["property"], (string?)cluster["property"]);
        Assert.Equal((long)local["stats"]!["states"]!, (long)cluster["stats"]!["states"]!);
        Assert.Equal((int)local["stats"]!["depth"]!, (int)cluster["stats"]!["depth"]!);
        Assert.Equal(local["trace"]!.AsArray().Select(t => (string?)t!["event"]), cluster["trace"]!.AsArray().Select(t => (string?)t!["event"]));
    }

    [Fact]
    public void Local_cluster_of_two_silo_processes_matches_the_local_engine_and_saves_a_replayable_trace()
    {
        string scn = Path.Combine(Path.GetTempPath(), $"cluster-{Guid.NewGuid():N}.scn");
        try
        {
            var local = Check("tpr-threshold-ppr", "--threads", "1", "--no-reduce");
            var cluster = Check("tpr-threshold-ppr", "--cluster", "local:2", "--save-trace", scn);
            SameReport(local, cluster);
            Assert.Equal("violated", (string?)cluster["verdict"]);
            using var replay = new CliProcess("run", scn);
            Assert.Equal(0, replay.Wait(Limit));
            Assert.Contains("result: passed", replay.Out);
        }
        finally { File.Delete(scn); }
    }

    [Fact]
    public void Silos_of_a_client_that_dies_exit()
    {
        using var client = new CliProcess("check", "intel-wide", "--max-states", "100000", "--cluster", "local:2");
        client.WaitFor("cluster: depth 2:", Limit);
        // The silos are the client's children (dotnet processes running `silo --parent PID`).
        var silos = File.ReadAllText($"/proc/{client.Process.Id}/task/{client.Process.Id}/children")
            .Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).Select(System.Diagnostics.Process.GetProcessById).ToList();
        Assert.Equal(2, silos.Count);
        client.Process.Kill();
        foreach (var silo in silos)
        {
            bool exited = silo.WaitForExit(TimeSpan.FromSeconds(30));
            if (!exited) silo.Kill();
            Assert.True(exited, $"silo pid {silo.Id} still running 30 s after its client died");
        }
    }

}

/// <summary>Silo processes joined through a PostgreSQL membership table (a server this class
/// starts and stops): two silos serve a search that must match the local engine, then a second
/// client's search, in which one silo is killed. One test, so that the silos (a few CPU-seconds
/// of start-up each) serve both.</summary>
public class PostgresClusterTests(PostgresServer postgres) : IClassFixture<PostgresServer>
{
    static readonly TimeSpan Limit = ProcessClusterTests.Limit;

    CliProcess Silo(string cluster) =>
        new("silo", "--cluster", postgres.Url(cluster), "--port", CliProcess.FreePort().ToString(), "--gateway-port", CliProcess.FreePort().ToString());

    [Fact]
    public void Silos_joined_through_postgres_match_the_local_engine_and_killing_one_mid_search_ends_the_run_with_exit_3()
    {
        Assert.True(postgres.Problem is null, postgres.Problem);
        string id = "pg" + Guid.NewGuid().ToString("N")[..6];
        using var a = Silo(id);
        using var b = Silo(id);
        a.WaitFor("silo: ready", Limit);
        b.WaitFor("silo: ready", Limit);
        ProcessClusterTests.SameReport(ProcessClusterTests.Check("seed", "--threads", "1", "--no-reduce"), ProcessClusterTests.Check("seed", "--cluster", postgres.Url(id) + "&silos=2"));

        // A bounded slice of the wide universe: long enough to be killed in, small enough for a test.
        using var client = new CliProcess("check", "intel-wide", "--max-states", "100000", "--cluster", postgres.Url(id) + "&silos=2");
        client.WaitFor("cluster: depth 3:", Limit);
        var clock = Stopwatch.StartNew();
        b.Process.Kill();
        int code = client.Wait(TimeSpan.FromSeconds(30));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30));
        Assert.Equal(3, code);
        var last = client.Err.Trim().Split('\n')[^1];
        Assert.True(last.StartsWith("cluster: lost silo") && last.Contains($"pid {b.Process.Id}") && last.Contains("no verdict"),
            $"the last line should name the killed silo (pid {b.Process.Id}): {last}");
        Assert.Equal("", client.Out);
    }
}
