using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace NestedApic.Checking;

/// <summary>
/// The threads of one search: the caller and <c>threads - 1</c> dedicated threads that live as
/// long as the search. <see cref="Run"/> hands out work items 0..n-1 in order through one shared
/// counter and returns when all are done. A search runs hundreds of short parallel phases: the
/// same threads serve them all, in the order the counter gives, instead of a thread-pool
/// <c>Parallel.ForEach</c> (its partitioner and wake-ups) for each.
/// Between phases a thread spins for a while before it sleeps: the serial work between two phases
/// is short, and waking a sleeping thread took 0.3 ms on average on a 2-vCPU VM (a halted vCPU
/// is woken through the host), 0.07 s of a 2.2 s search on two threads (intel-wide).
/// </summary>
internal sealed class WorkerPool : IDisposable
{
    /// <summary>How long a thread spins for the next phase (or the caller for the last item)
    /// before it blocks.</summary>
    static readonly long SpinTicks = Stopwatch.Frequency / 1000;

    readonly Thread[] _threads;
    [ThreadStatic] static int t_index;

    /// <summary>The calling thread's index in the pool running it: 0 for the caller of
    /// <see cref="Run"/>, 1 to <c>threads - 1</c> for the pool's own; for per-thread scratch.</summary>
    public static int ThreadIndex => t_index;
    readonly object _gate = new();
    Action<int>? _body;
    int _items, _next, _running, _generation, _sleepers, _callerWaiting;
    volatile bool _stopping;
    ExceptionDispatchInfo? _error;

    public WorkerPool(int threads)
    {
        _threads = new Thread[Math.Max(0, threads - 1)];
        for (int t = 0; t < _threads.Length; t++)
        {
            int index = t + 1;
            _threads[t] = new Thread(() => { t_index = index; Loop(); }) { IsBackground = true, Name = $"nestedapic worker {index}" };
            _threads[t].Start();
        }
    }

    /// <summary>The threads of the pool, the caller of <see cref="Run"/> included.</summary>
    public int Threads => _threads.Length + 1;

    /// <summary>Calls <paramref name="body"/> once for each of 0..<paramref name="items"/>-1, on
    /// every thread of the pool; the first exception is rethrown here once all have stopped.</summary>
    public void Run(int items, Action<int> body)
    {
        int caller = t_index;
        t_index = 0;
        try { RunAll(items, body); }
        finally { t_index = caller; }
    }

    void RunAll(int items, Action<int> body)
    {
        if (_threads.Length == 0 || items <= 1)
        {
            for (int i = 0; i < items; i++) body(i);
            return;
        }
        _body = body;
        _items = items;
        _next = 0;
        _error = null;
        Volatile.Write(ref _running, _threads.Length);
        Start();
        Work();
        // The count is the only signal: an event set by the last thread of one phase could be
        // set late, after the next phase began.
        WaitWhile(ref _running, 0, equal: false, ref _callerWaiting);
        _body = null;
        _error?.Throw();
    }

    /// <summary>Publishes a new phase; wakes the threads that went to sleep. The generation's
    /// increment and the sleepers' count are both full fences (Dekker's handshake with Loop; the
    /// same for the caller waiting on the count of running threads).</summary>
    void Start()
    {
        Interlocked.Increment(ref _generation);
        if (Volatile.Read(ref _sleepers) > 0)
            lock (_gate) Monitor.PulseAll(_gate);
    }

    /// <summary>Spins while <paramref name="field"/> is (or, not <paramref name="equal"/>, is
    /// not) <paramref name="value"/>, for <see cref="SpinTicks"/> at most; false when it timed out.</summary>
    static bool SpinWhile(ref int field, int value, bool equal)
    {
        long until = Stopwatch.GetTimestamp() + SpinTicks;
        // SpinWait yields the CPU between spins: another thread of the process (the JIT's, the
        // collector's) may be waiting for it, and one spinning through its wait would make that
        // thread take a time slice from a busy one instead.
        var spin = new SpinWait();
        while ((Volatile.Read(ref field) == value) == equal)
        {
            if (Stopwatch.GetTimestamp() > until) return false;
            spin.SpinOnce(sleep1Threshold: -1);
        }
        return true;
    }

    /// <summary>Spins, then sleeps on the gate, while <paramref name="field"/> is (or, not
    /// <paramref name="equal"/>, is not) <paramref name="value"/>. A sleeper counts itself in
    /// <paramref name="waiters"/> before it looks again: whoever changes the field reads that
    /// count after its own interlocked write and pulses the gate when it is not zero.</summary>
    void WaitWhile(ref int field, int value, bool equal, ref int waiters)
    {
        if (SpinWhile(ref field, value, equal)) return;
        lock (_gate)
        {
            Interlocked.Increment(ref waiters);
            while ((Volatile.Read(ref field) == value) == equal) Monitor.Wait(_gate);
            Interlocked.Decrement(ref waiters);
        }
    }

    void Work()
    {
        try
        {
            int i;
            while ((i = Interlocked.Increment(ref _next) - 1) < _items) _body!(i);
        }
        catch (Exception e)
        {
            Interlocked.CompareExchange(ref _error, ExceptionDispatchInfo.Capture(e), null);
            Volatile.Write(ref _next, _items); // the others stop at their next item
        }
    }

    void Loop()
    {
        int seen = 0;
        while (true)
        {
            WaitWhile(ref _generation, seen, equal: true, ref _sleepers);
            seen = Volatile.Read(ref _generation);
            if (_stopping) return;
            Work();
            if (Interlocked.Decrement(ref _running) == 0 && Volatile.Read(ref _callerWaiting) > 0)
                lock (_gate) Monitor.PulseAll(_gate);
        }
    }

    public void Dispose()
    {
        _stopping = true;
        Start();
        foreach (var t in _threads) t.Join();
    }
}
