using NestedApic.Checking;
using NestedApic.Checking.Examples;

namespace NestedApic.Tests.Checking;

/// <summary>The compressed engine: same traces on any thread count, the shallowest error first,
/// the memory budget, and the layouts it stores states by.</summary>
public class CompressedEngineTests
{
    /// <summary>0 → {1, 2} in that order; 1 → 3 (3 breaks "ok"); 2 has no step (a deadlock).
    /// Expanding depth 1 meets the violation at depth 2 (from 1) before the deadlock at depth 1 (2).</summary>
    readonly struct DeadlockAfterViolation : IModel<DeadlockAfterViolation.State, byte>
    {
        public struct State { public byte Node; }
        public State Initial() => default;
        public int MaxSteps => 2;
        public IReadOnlyList<string> Invariants => ["ok"];
        public int Enabled(in State s, Span<byte> steps)
        {
            switch (s.Node)
            {
                case 0: steps[0] = 1; steps[1] = 2; return 2;
                case 1: steps[0] = 3; return 1;
                default: return 0;
            }
        }
        public void Apply(ref State s, in byte step) => s.Node = step;
        public int Violated(in State s) => s.Node == 3 ? 0 : -1;
        public bool IsFinal(in State s) => false;
        public string Label(in byte step) => $"to {step}";
        public string Explain(int invariant, in State s) => "node 3";
        public IReadOnlyList<string> Diff(in State before, in State after) => [];
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void A_deadlock_one_step_shallower_wins_over_a_violation_found_first(int threads)
    {
        var r = Checker.Run<DeadlockAfterViolation, DeadlockAfterViolation.State, byte>(new(), new CheckOptions { Threads = threads, CheckDeadlock = true });
        Assert.Equal(Verdict.Deadlock, r.Verdict);
        Assert.Equal(["to 2"], r.Trace.Select(t => t.Label));
        var v = Checker.Run<DeadlockAfterViolation, DeadlockAfterViolation.State, byte>(new(), new CheckOptions { Threads = threads });
        Assert.Equal(Verdict.Violated, v.Verdict);
        Assert.Equal(["to 1", "to 3"], v.Trace.Select(t => t.Label));
    }

    [Fact]
    public void Traces_and_counts_are_identical_on_one_and_many_threads()
    {
        // Philosophers deadlock and Peterson's seeded bug, with many same-level duplicates
        // (diamonds) that threads race to insert: the smallest parent must win every time.
        var one = new CheckOptions { Threads = 1, CheckDeadlock = true };
        var a = Checker.Run<Philosophers, Philosophers.State, byte>(new Philosophers(8, bug: true), one);
        var p = Checker.Run<Peterson, Peterson.State, byte>(new Peterson(4, bug: true), one);
        var full = Checker.Run<AlternatingBit, AlternatingBit.State, byte>(new AlternatingBit(4, 5), one);
        foreach (int threads in new[] { 2, 3, 4 })
        {
            var many = one with { Threads = threads };
            var b = Checker.Run<Philosophers, Philosophers.State, byte>(new Philosophers(8, bug: true), many);
            Assert.Equal(a.Verdict, b.Verdict);
            Assert.Equal(a.Trace.Select(t => t.Label), b.Trace.Select(t => t.Label));
            Assert.Equal(a.Stats.States, b.Stats.States);
            var q = Checker.Run<Peterson, Peterson.State, byte>(new Peterson(4, bug: true), many);
            Assert.Equal(p.Trace.Select(t => t.Label), q.Trace.Select(t => t.Label));
            Assert.Equal(p.Stats.States, q.Stats.States);
            var f = Checker.Run<AlternatingBit, AlternatingBit.State, byte>(new AlternatingBit(4, 5), many);
            Assert.Equal(full.Stats.States, f.Stats.States);
            Assert.Equal(full.Stats.Transitions, f.Stats.Transitions);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Levels_count_the_states_at_each_depth_and_leave_out_a_stopped_searchs_partial_level(int threads)
    {
        // A 300×200 grid has the cells with x + y = d at depth d, counted here directly.
        var full = Checker.Run<GridModel, GridModel.State, byte>(new GridModel(300, 200), new CheckOptions { Threads = threads });
        var expected = Enumerable.Range(0, 300 + 200 - 1)
            .Select(d => (long)Enumerable.Range(0, 300).Count(x => d - x >= 0 && d - x < 200)).ToArray();
        Assert.Equal(expected, full.Stats.Levels);
        Assert.Equal(full.Stats.States, full.Stats.Levels.Sum());
        var cut = Checker.Run<GridModel, GridModel.State, byte>(new GridModel(300, 200), new CheckOptions { Threads = threads, MaxStates = 20_000 });
        Assert.Equal(StopReason.StateBound, cut.StopReason);
        Assert.Equal(expected.Take(cut.Stats.Levels.Length), cut.Stats.Levels);
        Assert.True(cut.Stats.Levels.Sum() < cut.Stats.States);
    }

    [Fact]
    public void Memory_sizes_parse_as_the_cli_takes_them()
    {
        Assert.Equal(512L << 20, Memory.ParseSize("512M"));
        Assert.Equal(16L << 30, Memory.ParseSize("16G"));
        Assert.Equal(3L << 29, Memory.ParseSize("1.5g"));
        // No overflow on hostile sizes; the largest accepted is half of long's range.
        Assert.Null(Memory.ParseSize("99999999T"));
        Assert.Equal(long.MaxValue / 2, Memory.ParseSize($"{long.MaxValue / 2}"));
        Assert.Equal("1 GiB", Memory.Format(1L << 30));
        Assert.Equal("1.5 GiB", Memory.Format(3L << 29));
        Assert.Equal("1 MiB", Memory.Format(1L << 20));
        Assert.Equal("300 MiB", Memory.Format(300L << 20));
        Assert.Equal("512 KiB", Memory.Format(512L << 10));
        Assert.Equal(4096, Memory.ParseSize("4096"));
        Assert.Null(Memory.ParseSize("12Q"));
        Assert.Null(Memory.ParseSize("0"));
        Assert.Null(Memory.ParseSize(""));
        Assert.True(Memory.DefaultBudget() <= GC.GetGCMemoryInfo().TotalAvailableMemoryBytes);
    }
}

/// <summary>The tests that measure the process's working set, which every other test running in
/// the process moves (one failed with 171 states when a parallel test allocated): they run
/// alone, after the parallel tests.</summary>
[CollectionDefinition(nameof(ProcessMemoryCollection), DisableParallelization = true)]
public sealed class ProcessMemoryCollection;

/// <summary>The memory budget and the machine's available memory, in the search's own terms: the
/// working set above where it started.</summary>
[Collection(nameof(ProcessMemoryCollection))]
public class CompressedEngineMemoryTests
{
    /// <summary>The same search, bounded, first: in a fresh process (a filtered run) the first
    /// search's JIT and first allocations alone took the 12 MiB (stopped at 528 states).</summary>
    static void WarmUp()
    {
        Checker.Run<GridModel, GridModel.State, byte>(new GridModel(3000, 3000), new CheckOptions { Threads = 2, MaxStates = 50_000 });
        GC.Collect();
        GC.WaitForPendingFinalizers();
    }

    [Fact]
    public void The_kernels_memory_figures_are_read_in_bytes()
    {
        // statm's pages times the page size, status's and meminfo's kB times 1024: the resident set
        // is the one the runtime reads its own way, a moment apart in a process that holds still.
        long ours = Memory.WorkingSet, runtime = Environment.WorkingSet;
        Assert.InRange(ours, runtime - (16L << 20), runtime + (16L << 20));
        var touched = new byte[64 << 20];
        for (int i = 0; i < touched.Length; i += 4096) touched[i] = 1;
        long grown = Memory.WorkingSet - ours;
        Assert.InRange(grown, 48L << 20, 96L << 20);
        Assert.True(Memory.PeakWorkingSet() >= ours + (48L << 20), $"peak {Memory.PeakWorkingSet()}, resident {ours} + {grown}");
        Assert.InRange(Memory.MemAvailable() ?? 0, 1L << 20, 1L << 50);
        GC.KeepAlive(touched);
    }

    [Fact]
    public void Memory_budget_stops_the_search_before_the_tables_pass_it()
    {
        // 9 M grid states need far more than 12 MiB above what the process holds now.
        WarmUp();
        long budget = Memory.WorkingSet + (12L << 20);
        var r = Checker.Run<GridModel, GridModel.State, byte>(new GridModel(3000, 3000), new CheckOptions { Threads = 2, MemoryBudgetBytes = budget });
        Assert.Equal(Verdict.Bounded, r.Verdict);
        Assert.Equal(StopReason.MemoryBudget, r.StopReason);
        Assert.True(r.Stats.StoreBytes < 12L << 20, $"{r.Stats.StoreBytes} bytes in the search's tables");
        Assert.Equal(budget, r.Stats.MemoryBudgetBytes);
        Assert.True(r.Stats.States is > 1000 and < 9_000_000, $"{r.Stats.States} states");
    }

    [Fact]
    public void Other_processes_taking_the_machines_memory_stop_the_search_before_the_oom_killer()
    {
        // The budget is ample, but the machine's available memory falls as the search grows (as
        // if another process took it): the search stops with the reserve still free, and says why.
        WarmUp();
        long start = Memory.WorkingSet, reserve = Memory.Reserve();
        long? Available() => reserve + (12L << 20) - Math.Max(0, Memory.WorkingSet - start);
        var r = Checker.Run<GridModel, GridModel.State, byte>(new GridModel(3000, 3000),
            new CheckOptions { Threads = 2, MemoryBudgetBytes = 1L << 40, AvailableMemory = Available });
        Assert.Equal(Verdict.Bounded, r.Verdict);
        Assert.Equal(StopReason.MachineMemory, r.StopReason);
        Assert.True(r.Stats.States is > 1000 and < 9_000_000, $"{r.Stats.States} states");
        Assert.True(Memory.WorkingSet - start < 96L << 20, $"grew by {(Memory.WorkingSet - start) >> 20} MiB");
        Assert.Contains("the machine's available memory ran low", r.VerdictLine);
    }
}
