using NestedApic.Checking;
using NestedApic.Checking.Examples;

namespace NestedApic.Tests.Checking;

/// <summary>Which components share a half of the state tree (<see cref="Regroup"/>), and that the
/// choice changes how states are stored, never what the search finds.</summary>
public class RegroupTests
{
    static int[]? Order<TModel, TState>(TModel model) where TModel : IModel<TState, byte> where TState : unmanaged =>
        Regroup.Order<TModel, TState, byte>(model, model.Layout);

    [Fact]
    public void Philosophers_pcs_go_with_their_forks()
    {
        // Default cuts: pc[0..8), pc[8..16), fork[0..8), fork[8..16). A step of philosopher i
        // changes pc[i] and a fork next to it: the halves are the first eight philosophers with
        // their forks and the rest with theirs, not the pcs and the forks.
        Assert.Equal(new[] { 0, 2, 1, 3 }, Order<Philosophers, Philosophers.State>(new Philosophers(13)));
    }

    [Fact]
    public void Peterson_keeps_pcs_apart_from_levels_and_victims()
    {
        // pc, level, victim (8 bytes each). Every step changes a pc, most also a level or a
        // victim. In the layout's order pc and level share a half that takes about one value per
        // state; regrouped, the pcs (few values together) have a half of their own, which stays
        // in cache, and level and victim share the other.
        Assert.Equal(new[] { 1, 2, 0 }, Order<Peterson, Peterson.State>(new Peterson(6)));
    }

    [Fact]
    public void Orders_the_sample_cannot_clearly_improve_and_named_groups_are_kept()
    {
        // The alternating-bit protocol's steps mostly change the control fields alone, which the
        // layout's own order keeps with the channels' mostly empty ends: no split is clearly better.
        Assert.Null(Order<AlternatingBit, AlternatingBit.State>(new AlternatingBit(24, 127)));
        Assert.Null(Order<NamedCuts, Philosophers.State>(new NamedCuts(new Philosophers(13))));
    }

    [Fact]
    public void The_store_rejects_an_order_that_is_not_a_permutation()
    {
        var layout = StateLayout.Of<Philosophers.State>();
        Assert.Throws<ArgumentException>(() => new StateStore<Philosophers.State>(layout, [0, 1, 1, 3]));
        Assert.Throws<ArgumentException>(() => new StateStore<Philosophers.State>(layout, [0, 1, 2]));
    }

    /// <summary>The same philosophers, regrouped (default cuts) and in the layout's order (the
    /// same cuts, named as groups): the same states, transitions, depth and shortest deadlock,
    /// on one thread and on three.</summary>
    [Theory]
    [InlineData(10, false, 1)]
    [InlineData(10, false, 3)]
    [InlineData(9, true, 1)]
    [InlineData(9, true, 3)]
    public void Regrouping_changes_storage_not_the_search(int n, bool bug, int threads)
    {
        var o = new CheckOptions { Threads = threads, CheckDeadlock = true };
        var regrouped = Checker.Run<Philosophers, Philosophers.State, byte>(new Philosophers(n, bug), o);
        var inOrder = Checker.Run<NamedCuts, Philosophers.State, byte>(new NamedCuts(new Philosophers(n, bug)), o);
        Assert.NotNull(Order<Philosophers, Philosophers.State>(new Philosophers(n, bug)));
        Assert.Equal(inOrder.Verdict, regrouped.Verdict);
        Assert.Equal(bug ? Verdict.Deadlock : Verdict.Holds, regrouped.Verdict);
        Assert.Equal(inOrder.Stats.States, regrouped.Stats.States);
        Assert.Equal(inOrder.Stats.Transitions, regrouped.Stats.Transitions);
        Assert.Equal(inOrder.Stats.Depth, regrouped.Stats.Depth);
        Assert.Equal(inOrder.Trace.Select(e => e.Step), regrouped.Trace.Select(e => e.Step));
    }

    /// <summary>Philosophers with the default layout's cuts named as groups of one ("pc0.cut"), which
    /// <see cref="Regroup"/> leaves in the layout's order.</summary>
    readonly struct NamedCuts(Philosophers inner) : IModel<Philosophers.State, byte>
    {
        public Philosophers.State Initial() => inner.Initial();
        public int MaxSteps => inner.MaxSteps;
        public int Enabled(in Philosophers.State s, Span<byte> steps) => inner.Enabled(s, steps);
        public void Apply(ref Philosophers.State s, in byte step) => inner.Apply(ref s, step);
        public IReadOnlyList<string> Invariants => inner.Invariants;
        public int Violated(in Philosophers.State s) => inner.Violated(s);
        public bool IsFinal(in Philosophers.State s) => inner.IsFinal(s);
        public string Label(in byte step) => inner.Label(step);
        public string Explain(int invariant, in Philosophers.State s) => inner.Explain(invariant, s);
        public IReadOnlyList<string> Diff(in Philosophers.State a, in Philosophers.State b) => inner.Diff(a, b);
        public StateLayout Layout => new StateLayout.Builder(32).Cut(0, "pc0.cut").Cut(8, "pc8.cut").Cut(16, "fork0.cut").Cut(24, "fork8.cut").Build();
    }
}
