using NestedApic.Checking;

namespace NestedApic.Tests.Checking;

/// <summary>The search's threads: every item of a phase runs once, and a phase returns only
/// once all of its items are done, whether the threads spin between phases or go to sleep, and
/// with more threads than cores (a thread preempted between its last item and its report is the
/// case a phase-done event set late got wrong).</summary>
public class WorkerPoolTests
{
    [Theory]
    [InlineData(2, 2000)]
    [InlineData(8, 1000)]
    public void A_phase_returns_when_every_item_ran_once(int threads, int phases)
    {
        using var pool = new WorkerPool(threads);
        var rng = new Random(threads);
        for (int p = 0; p < phases; p++)
        {
            int items = 2 + rng.Next(40);
            var ran = new int[items];
            int done = 0;
            // Now and then a slow item (the caller's spin runs out and it blocks) or a pause
            // between phases (the threads' spin runs out and they sleep).
            int slow = rng.Next(4) == 0 ? rng.Next(items) : -1;
            if (rng.Next(100) == 0) Thread.Sleep(3);
            pool.Run(items, i =>
            {
                if (i == slow) Thread.Sleep(1);
                else Thread.SpinWait(50);
                Interlocked.Increment(ref ran[i]);
                Interlocked.Increment(ref done);
            });
            Assert.Equal(items, Volatile.Read(ref done));
            for (int i = 0; i < items; i++)
                if (ran[i] != 1) Assert.Fail($"phase {p}: item {i} of {items} ran {ran[i]} times");
        }
    }

    [Fact]
    public void An_item_that_throws_stops_the_phase_and_the_exception_reaches_the_caller()
    {
        using var pool = new WorkerPool(2);
        var e = Assert.Throws<InvalidOperationException>(() => pool.Run(1000, i =>
        {
            if (i == 17) throw new InvalidOperationException("item 17");
            Thread.SpinWait(100);
        }));
        Assert.Equal("item 17", e.Message);
        // The pool still serves the next phase.
        int count = 0;
        pool.Run(100, _ => Interlocked.Increment(ref count));
        Assert.Equal(100, count);
    }
}
