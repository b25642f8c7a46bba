using NestedApic.Checking;
using NestedApic.Checking.Examples;

namespace NestedApic.Tests.Checking;

/// <summary>
/// The classic models against known counts. Each expected count was computed twice independently:
/// by SPIN 6.5.2 on bench/spin/*.pml (pan -DSAFETY -DNOREDUCE, "states, stored") and by the naive
/// reference search in these tests; the shortest counterexamples are argued by hand below.
/// </summary>
public class ClassicModelTests
{
    static readonly CheckOptions One = new() { Threads = 1, CheckDeadlock = true };

    [Theory]
    [InlineData(2, 20)]
    [InlineData(3, 417)]
    [InlineData(4, 9272)]
    public void Peterson_holds_with_known_count(int n, long states)
    {
        var r = Checker.Run<Peterson, Peterson.State, byte>(new Peterson(n), One);
        Assert.Equal(Verdict.Holds, r.Verdict);
        Assert.Equal(StopReason.Complete, r.StopReason);
        Assert.Equal(states, r.Stats.States);
        Assert.Equal(states, ReferenceSearch.Run<Peterson, Peterson.State, byte>(new Peterson(n)).States);
    }

    [Fact]
    public void Peterson_bug_breaks_mutual_exclusion_in_six_steps()
    {
        // Each process needs its 3 steps (victim, level, pass) to enter, so 6 is the least; and 6
        // suffice: P0 victim=0, P1 victim=1, P1 level=1, P1 passes (P0 is below), P0 level=1,
        // P0 passes (victim is 1).
        var r = Checker.Run<Peterson, Peterson.State, byte>(new Peterson(2, bug: true), One);
        Assert.Equal(Verdict.Violated, r.Verdict);
        Assert.Equal("mutual-exclusion", r.InvariantName);
        Assert.Equal(6, r.Trace.Count);
        Assert.Equal(6, ReferenceSearch.Run<Peterson, Peterson.State, byte>(new Peterson(2, bug: true)).FirstBadDepth);
    }

    [Theory]
    [InlineData(3, 27)]
    [InlineData(4, 81)]
    [InlineData(5, 243)]
    [InlineData(6, 729)]
    public void Philosophers_hold_with_3_to_the_n_states(int n, long states)
    {
        // 3^n (SPIN agrees for n = 3, 5): each fork is free, held by its left or by its right
        // neighbour, and with the ordered forks these fork states and pcs determine each other.
        var r = Checker.Run<Philosophers, Philosophers.State, byte>(new Philosophers(n), One);
        Assert.Equal(Verdict.Holds, r.Verdict);
        Assert.Equal(states, r.Stats.States);
        Assert.Equal(states, ReferenceSearch.Run<Philosophers, Philosophers.State, byte>(new Philosophers(n)).States);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(5)]
    public void Philosophers_bug_deadlocks_after_n_steps(int n)
    {
        // The only deadlock is everyone holding the left fork: n steps, one per philosopher.
        var r = Checker.Run<Philosophers, Philosophers.State, byte>(new Philosophers(n, bug: true), One);
        Assert.Equal(Verdict.Deadlock, r.Verdict);
        Assert.Equal(n, r.Trace.Count);
        Assert.All(r.Trace, t => Assert.StartsWith("philosopher", t.Label));
    }

    [Theory]
    [InlineData(1, 2, 24)]
    [InlineData(2, 2, 72)]
    [InlineData(3, 2, 160)]
    [InlineData(3, 3, 480)]
    public void Alternating_bit_delivers_in_order_with_known_count(int capacity, int modulus, long states)
    {
        var model = new AlternatingBit(capacity, modulus);
        var r = Checker.Run<AlternatingBit, AlternatingBit.State, byte>(model, One);
        Assert.Equal(Verdict.Holds, r.Verdict);
        Assert.Equal(states, r.Stats.States);
        Assert.Equal(states, ReferenceSearch.Run<AlternatingBit, AlternatingBit.State, byte>(model).States);
    }

    [Fact]
    public void Alternating_bit_bug_accepts_a_duplicate_in_four_steps()
    {
        // Two deliveries need two sends and two receives; send, resend, receive, receive does it.
        var r = Checker.Run<AlternatingBit, AlternatingBit.State, byte>(new AlternatingBit(2, bug: true), One);
        Assert.Equal(Verdict.Violated, r.Verdict);
        Assert.Equal("in-order-delivery", r.InvariantName);
        Assert.Equal(["Send", "Send", "ReceiveData", "ReceiveData"], r.Trace.Select(t => t.Label));
    }
}
