using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

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

    /// <summary>MemAvailable of /proc/meminfo in bytes; null where there is none.</summary>
    public static long? MemAvailable() => KiB("/proc/meminfo\0"u8, "MemAvailable:"u8);

    /// <summary>What a search leaves the machine when other processes grow during it: below this
    /// much available memory it stops (StopReason.MachineMemory) rather than meet the OOM killer.</summary>
    public static long Reserve() => Math.Max(256L << 20, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 50);

    /// <summary>The current resident set of the process: the second field of /proc/self/statm,
    /// in pages (Environment.WorkingSet where there is none).</summary>
    public static long WorkingSet
    {
        get
        {
            Span<byte> text = stackalloc byte[256];
            int n = Read("/proc/self/statm\0"u8, text);
            if (n > 0)
            {
                var fields = text[..n];
                int space = fields.IndexOf((byte)' ');
                if (space > 0 && Number(fields[(space + 1)..]) is { } pages) return pages * Environment.SystemPageSize;
            }
            return Environment.WorkingSet;
        }
    }

    /// <summary>The peak resident set since the process started (VmHWM on Linux). Not reset per
    /// search: a reset would also hide the peak from getrusage and /usr/bin/time; in a process
    /// that runs several searches (the suite) it is the peak of all so far.</summary>
    public static long PeakWorkingSet()
    {
        // VmHWM straight from /proc: Process.GetCurrentProcess() reads several files and costs
        // more than the whole search of a small model.
        if (KiB("/proc/self/status\0"u8, "VmHWM:"u8) is { } hwm) return hwm;
        using var p = Process.GetCurrentProcess();
        return Math.Max(p.PeakWorkingSet64, p.WorkingSet64);
    }

    /// <summary>A "kB" field of a /proc file in bytes; null where there is none. Read and parsed as
    /// bytes in a stack buffer, with libc's calls: a search samples these between rounds, and the
    /// framework's file and text readers, called that often, were compiled again (tiered up)
    /// mid-search, on the cores the search's threads run on (intel-wide, two threads: some 170
    /// framework methods, a third of the search's optimized JIT work, with the LINQ of the
    /// per-round bookkeeping).</summary>
    static long? KiB(ReadOnlySpan<byte> file, ReadOnlySpan<byte> field)
    {
        Span<byte> text = stackalloc byte[8192];
        for (var rest = text[..Math.Max(0, Read(file, text))]; rest.Length > 0;)
        {
            if (rest.StartsWith(field)) return Number(rest[field.Length..]) * 1024;
            int line = rest.IndexOf((byte)'\n');
            rest = line < 0 ? [] : rest[(line + 1)..];
        }
        return null;
    }

    /// <summary>The first decimal number after spaces or tabs; null where there is none.</summary>
    static long? Number(ReadOnlySpan<byte> text)
    {
        int i = 0;
        while (i < text.Length && (text[i] == (byte)' ' || text[i] == (byte)'\t')) i++;
        if (i == text.Length || !char.IsAsciiDigit((char)text[i])) return null;
        long v = 0;
        for (; i < text.Length && char.IsAsciiDigit((char)text[i]) && v < long.MaxValue / 20; i++) v = v * 10 + (text[i] - '0');
        return v;
    }

    /// <summary>Reads a small /proc file (<paramref name="path"/> ends in a NUL) whole into
    /// <paramref name="buffer"/>; the bytes read, or -1 where it cannot be read (not Linux).
    /// libc's calls where they resolve, the framework's otherwise.</summary>
    static unsafe int Read(ReadOnlySpan<byte> path, Span<byte> buffer)
    {
        if (!OperatingSystem.IsLinux()) return -1;
        int n = 0;
        if (!_noLibc)
        {
            try
            {
                fixed (byte* p = path)
                fixed (byte* b = buffer)
                {
                    int fd = Libc.Open(p, Libc.ReadOnly | Libc.CloseOnExec);
                    if (fd < 0) return -1;
                    for (nint got; n < buffer.Length && (got = Libc.PRead(fd, b + n, buffer.Length - n, n)) > 0;) n += (int)got;
                    Libc.Close(fd);
                    return n;
                }
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { _noLibc = true; }
        }
        try
        {
            using var handle = File.OpenHandle(System.Text.Encoding.ASCII.GetString(path[..^1]));
            for (int got; n < buffer.Length && (got = RandomAccess.Read(handle, buffer[n..], n)) > 0;) n += got;
            return n;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException) { return -1; }
    }

    static bool _noLibc;

    static unsafe class Libc
    {
        public const int ReadOnly = 0, CloseOnExec = 0x80000; // O_RDONLY, O_CLOEXEC (x86-64, arm64)
        [DllImport("libc", EntryPoint = "open")] public static extern int Open(byte* path, int flags);
        [DllImport("libc", EntryPoint = "pread")] public static extern nint PRead(int fd, byte* buffer, nint count, long offset);
        [DllImport("libc", EntryPoint = "close")] public static extern int Close(int fd);
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
