using System.Diagnostics;

namespace NestedApic.Distributed.Tests;

/// <summary>
/// A throw-away PostgreSQL server for the membership table: initdb into a temp directory, started
/// with pg_ctl on a free port (TCP on 127.0.0.1 and a socket in that directory), stopped and
/// deleted at the end. The binaries come from PATH or Debian's /usr/lib/postgresql/VERSION/bin.
/// initdb refuses to run as root, so under root it runs as the "postgres" user. When no server
/// can be started, the tests that need one fail with <see cref="Problem"/>, never skip.
/// </summary>
public sealed class PostgresServer : IDisposable
{
    readonly string _dir = Path.Combine(Path.GetTempPath(), "nestedapic-pg-" + Guid.NewGuid().ToString("N")[..8]);
    readonly string? _bin;
    readonly bool _asPostgres;
    public int Port { get; } = CliProcess.FreePort();
    /// <summary>Why the server is not running, or null when it is.</summary>
    public string? Problem { get; private set; }

    public string Url(string cluster) => $"postgres://postgres@127.0.0.1:{Port}/postgres?cluster={cluster}";

    public PostgresServer()
    {
        _bin = FindBin();
        if (_bin is null)
        {
            Problem = "PostgreSQL is not installed: no initdb on PATH or in /usr/lib/postgresql/*/bin (Debian/Ubuntu: apt-get install postgresql)";
            return;
        }
        _asPostgres = Environment.UserName == "root";
        Directory.CreateDirectory(_dir);
        if (_asPostgres && Run("chown", "postgres", _dir) is { } chown) { Problem = $"cannot hand {_dir} to the postgres user: {chown}"; return; }
        Problem = Pg("initdb", "-D", Path.Combine(_dir, "data"), "-A", "trust", "-U", "postgres", "--no-sync")
            ?? Pg("pg_ctl", "-D", Path.Combine(_dir, "data"), "-l", Path.Combine(_dir, "log"), "-w", "-t", "60",
                "-o", $"-p {Port} -k {_dir} -c listen_addresses=127.0.0.1 -c fsync=off", "start");
        if (Problem is not null) Problem = $"cannot start PostgreSQL from {_bin}: {Problem}";
    }

    static string? FindBin()
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':'))
            if (File.Exists(Path.Combine(dir, "initdb")) && File.Exists(Path.Combine(dir, "pg_ctl"))) return dir;
        if (!Directory.Exists("/usr/lib/postgresql")) return null;
        return Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin"))
            .Where(d => File.Exists(Path.Combine(d, "initdb"))).OrderDescending().FirstOrDefault();
    }

    string? Pg(string tool, params string[] args) =>
        _asPostgres ? Run("runuser", ["-u", "postgres", "--", Path.Combine(_bin!, tool), .. args]) : Run(Path.Combine(_bin!, tool), args);

    /// <summary>Runs a command; null when it succeeds, else its exit code and last output line.</summary>
    static string? Run(string file, params string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) info.ArgumentList.Add(a);
        try
        {
            using var p = Process.Start(info)!;
            var err = p.StandardError.ReadToEndAsync();
            var output = p.StandardOutput.ReadToEnd();
            if (!p.WaitForExit(90_000)) { p.Kill(true); return $"{file} did not finish in 90 s"; }
            if (p.ExitCode == 0) return null;
            string last = (err.Result + output).Trim().Split('\n').LastOrDefault() ?? "";
            return $"{Path.GetFileName(file)} exited with {p.ExitCode}: {last}";
        }
        catch (System.ComponentModel.Win32Exception e) { return $"cannot run {file}: {e.Message}"; }
    }

    public void Dispose()
    {
        if (_bin is not null && Directory.Exists(Path.Combine(_dir, "data")))
            Pg("pg_ctl", "-D", Path.Combine(_dir, "data"), "-m", "immediate", "-w", "stop");
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
