using System.Diagnostics;
using System.Globalization;

namespace NestedApic.Checking;

/// <summary>The process's memory as the kernel sees it: what a run may use and what it used.</summary>
public static class Memory
{
    /// <summary>About three quarters of what this process may use: the smaller of physical memory
    /// and the cgroup limit (the GC reads both, v1 and v2), and no more than 90% of what the
    /// kernel says is available now (MemAvailable, other processes' memory excluded).</summary>
    public static long DefaultBudget()
    {
        long limit = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        long budget = limit / 4 * 3;
        if (MemAvailable() is { } available) budget = Math.Min(budget, Environment.WorkingSet + available / 10 * 9);
        return Math.Max(budget, 64L << 20);
    }

    /// <summary>A zeroed array whose pages are faulted in by a write. A rehash reads a slot before
    /// it writes it: a page first read maps the shared zero page, and the write that follows must
    /// then flush that mapping from every CPU running the process, an interrupt to each (a VM exit
    /// in a guest). Writing first takes a fresh page with no flush. Measured on intel-wide, two
    /// threads: TLB shootdowns a run (/proc/interrupts) 2,109 before, 527 after.</summary>
    internal static ulong[] FaultedIn(long length)
    {
        var a = new ulong[length];
        for (long i = 0; i < a.Length; i += 4096 / sizeof(ulong)) a[i] = 0;
        return a;
    }

    /// <summary>MemAvailable of /proc/meminfo in bytes; null where there is none.</summary>
    public static long? MemAvailable() => KiB("/proc/meminfo", "MemAvailable:");

    /// <summary>What a search leaves the machine when other processes grow during it: below this
    /// much available memory it stops (StopReason.MachineMemory) rather than meet the OOM killer.</summary>
    public static long Reserve() => Math.Max(256L << 20, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 50);

    /// <summary>The current resident set of the process.</summary>
    public static long WorkingSet => Environment.WorkingSet;

    /// <summary>The peak resident set since the process started (VmHWM on Linux). Not reset per
    /// search: a reset would also hide the peak from getrusage and /usr/bin/time; in a process
    /// that runs several searches (the suite) it is the peak of all so far.</summary>
    public static long PeakWorkingSet()
    {
        // VmHWM straight from /proc: Process.GetCurrentProcess() reads several files and costs
        // more than the whole search of a small model.
        if (KiB("/proc/self/status", "VmHWM:") is { } hwm) return hwm;
        using var p = Process.GetCurrentProcess();
        return Math.Max(p.PeakWorkingSet64, p.WorkingSet64);
    }

    /// <summary>A "kB" field of a /proc file in bytes; null where there is none.</summary>
    static long? KiB(string file, string field)
    {
        try
        {
            foreach (var line in File.ReadLines(file))
                if (line.StartsWith(field, StringComparison.Ordinal))
                    return long.Parse(line.AsSpan(field.Length).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture) * 1024;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException) { }
        return null;
    }

    /// <summary>"512M", "16G", "2g", "1024K", "1T" or a byte count; null when it is none of these.</summary>
    public static long? ParseSize(string text)
    {
        var t = text.Trim();
        if (t.Length == 0) return null;
        int shift = char.ToUpperInvariant(t[^1]) switch { 'K' => 10, 'M' => 20, 'G' => 30, 'T' => 40, _ => 0 };
        if (shift > 0) t = t[..^1];
        if (t.EndsWith('i') || t.EndsWith('I')) return null;
        if (!decimal.TryParse(t, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var n) || n <= 0) return null;
        var bytes = n * (1L << shift);
        return bytes > long.MaxValue / 2 ? null : (long)bytes;
    }

    /// <summary>"1.5 GiB", "300 MiB".</summary>
    public static string Format(long bytes) => bytes switch
    {
        >= 1L << 30 => $"{bytes / (double)(1L << 30):0.##} GiB",
        >= 1L << 20 => $"{bytes / (double)(1L << 20):0.#} MiB",
        _ => $"{bytes / 1024.0:0.#} KiB",
    };
}
