namespace NestedApic.Checking;

public sealed partial class Checker<TModel, TState, TStep>
{
    /// <summary>The most steps one chain takes before it stores its state: a cycle of
    /// single-step states must end somewhere, and the stored state then meets the proviso.</summary>
    const int ChainLimit = 64;

    /// <summary>
    /// Single-step chains, part of the partial-order reduction: a successor whose reduced
    /// expansion would be one step (its only enabled step, or an ample set of one) is not stored;
    /// that step is taken at once, and so on, and only the state where the chain stops is stored:
    /// one with no step, two or more to explore, a violated property, or the end of
    /// <see cref="ChainLimit"/>. SPIN merges chains of local statements the same way (statement
    /// merging, off with <c>spin -o3</c>).
    /// <para>Why this keeps every verdict: each state a chain passes has the successors the
    /// ample-set conditions allow (C0 to C2, see AmpleSets), and properties are checked on it
    /// (the chain stops at a violation). The cycle proviso (C3) is met at the stored states: a
    /// parent whose chain ends at a state stored by an earlier level is expanded in full, so, as
    /// in plain breadth-first search, every cycle of stored states has a fully expanded one, and
    /// a cycle through chained states passes a stored state (chains stop at the limit). A state
    /// several chains pass is walked by each of them instead of being looked up: a chain is a
    /// function of its first state, so every thread count walks the same ones.</para>
    /// </summary>
    /// <param name="room">Steps left before the depth bound: a chain stops there, so no state
    /// beyond the bound is reached (the bound counts steps, not levels).</param>
    /// <returns>The steps taken; <paramref name="taken"/>, when given, receives them.</returns>
    int Chain(ref TState state, Span<TStep> steps, int room, List<TStep>? taken = null)
    {
        int length = 0, limit = Math.Min(ChainLimit, room);
        while (length < limit)
        {
            int n = Successors(state, steps);
            if (n == 0) break;
            int k = n == 1 ? 0 : _reducer!.SelectOne(state, steps[..n]);
            if (k < 0) break;
            // Last: a state where the chain stops is checked when it is stored (if new).
            if (_model.Violated(state) >= 0) break;
            taken?.Add(steps[k]);
            _model.Apply(ref state, steps[k]);
            length++;
        }
        return length;
    }
}
