using System.Runtime.ExceptionServices;

namespace NestedApic.Checking;

/// <summary>
/// The threads of one search: the caller and <c>threads - 1</c> dedicated threads that live as
/// long as the search. <see cref="Run"/> hands out work items 0..n-1 in order through one shared
/// counter and returns when all are done. A search runs hundreds of short parallel phases: the
/// same threads serve them all, in the order the counter gives, instead of a thread-pool
/// <c>Parallel.ForEach</c> (its partitioner and wake-ups) for each.
/// </summary>
internal sealed class WorkerPool : IDisposable
{
    readonly Thread[] _threads;
    readonly SemaphoreSlim _start = new(0);
    readonly ManualResetEventSlim _done = new(false);
    Action<int>? _body;
    int _items, _next, _running;
    volatile bool _stopping;
    ExceptionDispatchInfo? _error;

    public WorkerPool(int threads)
    {
        _threads = new Thread[Math.Max(0, threads - 1)];
        for (int t = 0; t < _threads.Length; t++)
        {
            _threads[t] = new Thread(Loop) { IsBackground = true, Name = $"nestedapic worker {t + 1}" };
            _threads[t].Start();
        }
    }

    /// <summary>Calls <paramref name="body"/> once for each of 0..<paramref name="items"/>-1, on
    /// every thread of the pool; the first exception is rethrown here once all have stopped.</summary>
    public void Run(int items, Action<int> body)
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
        _done.Reset();
        Volatile.Write(ref _running, _threads.Length);
        _start.Release(_threads.Length);
        Work();
        _done.Wait();
        _body = null;
        _error?.Throw();
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
        while (true)
        {
            _start.Wait();
            if (_stopping) return;
            Work();
            if (Interlocked.Decrement(ref _running) == 0) _done.Set();
        }
    }

    public void Dispose()
    {
        _stopping = true;
        if (_threads.Length > 0) _start.Release(_threads.Length);
        foreach (var t in _threads) t.Join();
        _start.Dispose();
        _done.Dispose();
    }
}
