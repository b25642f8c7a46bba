using NestedApic.Checking;
using NestedApic.Checking.Examples;

namespace NestedApic.Tests.Checking;

/// <summary>The engine's bounds, growth, determinism, traces and modes, on small models.</summary>
public class EngineTests
{
    static CheckResult<GridModel.State, byte> Grid(GridModel m, CheckOptions o) =>
        Checker.Run<GridModel, GridModel.State, byte>(m, o);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Table_grows_past_its_initial_size(bool exact)
    {
        // 250·200 = 50,000 states, well past the 4,096-slot table the search starts with.
        var r = Grid(new GridModel(250, 200), new CheckOptions { Threads = 2, Exact = exact });
        Assert.Equal(Verdict.Holds, r.Verdict);
        Assert.Equal(50_000, r.Stats.States);
        Assert.Equal(249 * 200 + 250 * 199, r.Stats.Transitions); // edges of the grid: rightward plus upward
        Assert.Equal(249 + 199, r.Stats.Depth);
    }

    [Fact]
    public void Depth_bound_stops_with_holds()
    {
        // States with x+y ≤ 10 in a large grid: 1+2+…+11 = 66.
        var r = Grid(new GridModel(100, 100), new CheckOptions { Threads = 1, MaxDepth = 10 });
        Assert.Equal(Verdict.Holds, r.Verdict);
        Assert.Equal(StopReason.DepthBound, r.StopReason);
        Assert.Equal(10, r.Stats.Depth);
        Assert.Equal(66, r.Stats.States);
    }

    [Fact]
    public void State_bound_stops_bounded()
    {
        var r = Grid(new GridModel(300, 300), new CheckOptions { Threads = 1, MaxStates = 1000 });
        Assert.Equal(Verdict.Bounded, r.Verdict);
        Assert.Equal(StopReason.StateBound, r.StopReason);
        Assert.True(r.Stats.States > 1000 && r.Stats.States < 90_000);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Tiny_memory_budget_stops_bounded(bool exact)
    {
        var r = Grid(new GridModel(300, 300), new CheckOptions { Threads = 2, MemoryBudgetBytes = 1, Exact = exact });
        Assert.Equal(Verdict.Bounded, r.Verdict);
        Assert.Equal(StopReason.MemoryBudget, r.StopReason);
    }

    [Fact]
    public void One_thread_is_deterministic_and_threads_agree()
    {
        var bug = new Peterson(3, bug: true);
        var o = new CheckOptions { Threads = 1 };
        var a = Checker.Run<Peterson, Peterson.State, byte>(bug, o);
        var b = Checker.Run<Peterson, Peterson.State, byte>(bug, o);
        Assert.Equal(Verdict.Violated, a.Verdict);
        Assert.Equal(a.Trace.Select(t => t.Label), b.Trace.Select(t => t.Label));
        Assert.Equal(a.Trace.Select(t => StateHash.Fingerprint(t.After)), b.Trace.Select(t => StateHash.Fingerprint(t.After)));
        Assert.Equal(a.Stats.States, b.Stats.States);
        Assert.Equal(a.Stats.Transitions, b.Stats.Transitions);

        var full1 = Checker.Run<Philosophers, Philosophers.State, byte>(new Philosophers(9), o);
        foreach (int threads in new[] { 2, 4 })
        {
            var many = new CheckOptions { Threads = threads };
            var c = Checker.Run<Peterson, Peterson.State, byte>(bug, many);
            Assert.Equal(Verdict.Violated, c.Verdict);
            Assert.Equal(a.Trace.Count, c.Trace.Count);
            var full = Checker.Run<Philosophers, Philosophers.State, byte>(new Philosophers(9), many);
            Assert.Equal(full1.Stats.States, full.Stats.States);
            Assert.Equal(full1.Stats.Transitions, full.Stats.Transitions);
            Assert.Equal(full1.Stats.Depth, full.Stats.Depth);
        }
    }

    [Fact]
    public void Violation_in_the_initial_state_has_an_empty_trace()
    {
        var r = Grid(new GridModel(10, 10, badSum: 0), new CheckOptions { Threads = 2 });
        Assert.Equal(Verdict.Violated, r.Verdict);
        Assert.Empty(r.Trace);
        Assert.Equal("sum", r.InvariantName);
    }

    [Fact]
    public void Violation_trace_is_a_shortest_path_that_replays()
    {
        var r = Grid(new GridModel(50, 50, badSum: 37), new CheckOptions { Threads = 2 });
        Assert.Equal(Verdict.Violated, r.Verdict);
        Assert.Equal(37, r.Trace.Count);
        Assert.Equal(37, r.Trace[^1].After.X + r.Trace[^1].After.Y);
    }

    [Fact]
    public void Deadlock_is_found_only_when_asked()
    {
        var m = new GridModel(20, 30, cornerIsFinal: false);
        var r = Grid(m, new CheckOptions { Threads = 2, CheckDeadlock = true });
        Assert.Equal(Verdict.Deadlock, r.Verdict);
        Assert.Equal(19 + 29, r.Trace.Count);
        Assert.Equal(Verdict.Holds, Grid(m, new CheckOptions { Threads = 2 }).Verdict);
        Assert.Equal(Verdict.Holds, Grid(new GridModel(20, 30), new CheckOptions { CheckDeadlock = true }).Verdict);

        var stuck = Grid(new GridModel(1, 1, cornerIsFinal: false), new CheckOptions { CheckDeadlock = true });
        Assert.Equal(Verdict.Deadlock, stuck.Verdict);
        Assert.Empty(stuck.Trace);
    }

    [Fact]
    public void Exact_mode_agrees_with_fingerprints()
    {
        foreach (bool exact in new[] { false, true })
        {
            var o = new CheckOptions { Threads = 2, Exact = exact };
            Assert.Equal(9272, Checker.Run<Peterson, Peterson.State, byte>(new Peterson(4), o).Stats.States);
            Assert.Equal(19683, Checker.Run<Philosophers, Philosophers.State, byte>(new Philosophers(9), o).Stats.States);
            Assert.Equal(480, Checker.Run<AlternatingBit, AlternatingBit.State, byte>(new AlternatingBit(3, 3), o).Stats.States);
        }
    }

    [Fact]
    public void Cancellation_stops_the_search()
    {
        using var before = new CancellationTokenSource();
        before.Cancel();
        var r = Grid(new GridModel(100, 100), new CheckOptions { Cancel = before.Token });
        Assert.Equal(Verdict.Bounded, r.Verdict);
        Assert.Equal(StopReason.Cancelled, r.StopReason);

        // Cancelled from the progress callback, between rounds, part way through.
        using var during = new CancellationTokenSource();
        var s = Grid(new GridModel(300, 300), new CheckOptions
        {
            Threads = 1,
            ProgressInterval = TimeSpan.Zero,
            Progress = p => { if (p.States > 500) during.Cancel(); },
            Cancel = during.Token,
        });
        Assert.Equal(StopReason.Cancelled, s.StopReason);
        Assert.True(s.Stats.States < 90_000);
    }
}
