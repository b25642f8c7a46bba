using System.Diagnostics;
using System.Runtime.InteropServices;

namespace NestedApic.Tests.Cli;

/// <summary>The built tool (NestedApic.Cli.dll, copied next to the tests) run as a child process.</summary>
public static partial class ToolProcess
{
    public static string Dll => Path.Combine(AppContext.BaseDirectory, "NestedApic.Cli.dll");

    /// <summary>The dotnet host running these tests, so the child uses the same runtime.</summary>
    public static string Dotnet =>
        Environment.ProcessPath is { } p && Path.GetFileNameWithoutExtension(p) == "dotnet" ? p : "dotnet";

    public static ProcessStartInfo Start(IEnumerable<string> args, IDictionary<string, string>? env = null)
    {
        var psi = new ProcessStartInfo(Dotnet)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        psi.ArgumentList.Add("exec");
        psi.ArgumentList.Add(Dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["NO_COLOR"] = "1";
        // The CLI counts calls for tier-1 compilation from the start (its runtimeconfig), which
        // pays in a long search but costs a process that lives a second twice the JIT work.
        psi.Environment["DOTNET_TC_CallCountingDelayMs"] = "100";
        foreach (var (k, v) in env ?? new Dictionary<string, string>()) psi.Environment[k] = v;
        return psi;
    }

    /// <summary>Runs to the end (at most <paramref name="timeoutSeconds"/>) and returns exit code and output.</summary>
    public static (int Code, string Out, string Err) Run(IEnumerable<string> args, IDictionary<string, string>? env = null, int timeoutSeconds = 60)
    {
        using var p = Process.Start(Start(args, env))!;
        p.StandardInput.Close();
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeoutSeconds * 1000))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"nestedapic {string.Join(' ', args)} ran past {timeoutSeconds} s");
        }
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>Runs a shell command line with <c>$TOOL</c> standing for the tool (for redirections such as &gt; /dev/full).</summary>
    public static (int Code, string Out, string Err) Shell(string script, int timeoutSeconds = 60)
    {
        var psi = new ProcessStartInfo("/bin/sh") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(script.Replace("$TOOL", "\"$NESTEDAPIC_DOTNET\" exec \"$NESTEDAPIC_DLL\""));
        psi.Environment["NESTEDAPIC_DOTNET"] = Dotnet;
        psi.Environment["NESTEDAPIC_DLL"] = Dll;
        psi.Environment["DOTNET_TC_CallCountingDelayMs"] = "100";
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeoutSeconds * 1000)) { p.Kill(true); throw new TimeoutException(script); }
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>Kills the child when a test ends before it did (a failed assertion must not leave
    /// a tool blocked on a FIFO or searching behind it).</summary>
    public static IDisposable KillOnExit(Process p) => new Reaper(p);

    sealed class Reaper(Process p) : IDisposable
    {
        public void Dispose()
        {
            try { if (!p.HasExited) p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
        }
    }

    const int SigInt = 2;

    [LibraryImport("libc", SetLastError = true)]
    private static partial int kill(int pid, int sig);

    /// <summary>What Ctrl-C sends.</summary>
    public static void Interrupt(Process p) => Assert.Equal(0, kill(p.Id, SigInt));
}
