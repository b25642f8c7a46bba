using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace NestedApic.Checking;

/// <summary>
/// Which components share a half of the state tree (<see cref="StateStore{TState}"/>), for a
/// layout of plain cuts such as the default one (<see cref="StateLayout.Of{TState}"/>). Cuts in
/// state order can put fields that change together (a philosopher's pc and the fork it takes) in
/// different halves: every step then re-interns both halves, and one of them holds about as many
/// values as there are states, so each step misses the cache there and each state is stored twice.
/// A short walk of the model (breadth-first from the initial state, then a random walk into deeper
/// states) counts which components each step changes and how many distinct values each half
/// would hold; the store takes the balanced split with the least of that work (LTSmin regroups
/// its state vector from the dependency matrix for the same reason). A layout that names groups
/// ("vcpu0.apic") keeps the model's own structure, and so does one the sample cannot clearly improve.
/// </summary>
internal static class Regroup
{
    /// <summary>States a breadth-first walk from the initial state visits, and steps a random walk
    /// takes after it (to see the deep states a breadth-first sample never reaches).</summary>
    public const int SampleStates = 4096, WalkSteps = 4096;
    /// <summary>More components than this are left in order.</summary>
    public const int MaxComponents = 16;
    /// <summary>Splits whose distinct half values are counted: the ones the fewest sampled steps
    /// cross (and the layout's own).</summary>
    const int Candidates = 32;

    /// <summary>The stored components (the layout's non-zero ones, by position) in the order the
    /// store should take them: the first half's, then the second's, each in state order. Null when
    /// the layout's own order is as good, or the layout is not plain cuts.</summary>
    public static int[]? Order<TModel, TState, TStep>(in TModel model, StateLayout layout)
        where TModel : IModel<TState, TStep> where TState : unmanaged where TStep : unmanaged
    {
        var parts = layout.Components.Where(c => !c.Zero).ToArray();
        int n = parts.Length;
        if (n < 3 || n > MaxComponents || parts.Any(c => c.Name.Contains('.'))) return null;
        Sample sample;
        try { sample = Walk<TModel, TState, TStep>(model, parts); }
        // The walk is only advice: a model that fails here fails the search, which reports it.
        catch (Exception) { return null; }
        int first = (n + 1) / 2;
        uint all = (1u << n) - 1, original = (1u << first) - 1;
        // Every subset of `first` components, in increasing order (Gosper's hack); the cheapest by
        // crossings first, so that the values are counted for a few splits only.
        var splits = new List<uint>();
        for (uint a = original; a <= all && a != 0;)
        {
            splits.Add(a);
            uint low = a & (uint)-(int)a, ripple = a + low;
            a = ripple == 0 ? 0 : (((ripple ^ a) >> 2) / low) | ripple;
        }
        var candidates = splits.OrderBy(a => Crossings(sample.Changes, a, all)).ThenBy(a => a).Take(Candidates).Append(original).Distinct();
        uint best = original;
        long originalCost = Cost(sample, original, all), bestCost = originalCost;
        foreach (uint a in candidates)
        {
            long cost = Cost(sample, a, all);
            if (cost < bestCost) { bestCost = cost; best = a; }
        }
        // The sample only estimates: the model's own order stays unless a split is clearly better.
        if (best == original || bestCost > originalCost * 3 / 4) return null;
        var order = new int[n];
        int w = 0;
        for (int c = 0; c < n; c++) if ((best >> c & 1) != 0) order[w++] = c;
        for (int c = 0; c < n; c++) if ((best >> c & 1) == 0) order[w++] = c;
        return order;
    }

    /// <summary>What a walk saw: how often each set of components (a bit mask) changed together
    /// in one step, and each sampled state's per-component hashes.</summary>
    sealed record Sample(Dictionary<uint, long> Changes, List<ulong[]> Hashes);

    static long Crossings(Dictionary<uint, long> changes, uint half, uint all)
    {
        long cost = 0;
        foreach (var (mask, count) in changes)
            if ((mask & half) != 0 && (mask & (all & ~half)) != 0) cost += count;
        return cost;
    }

    /// <summary>The work of a split: each sampled step re-interns every half it changed, and a
    /// half's table costs in proportion to the values it holds (a half with few values stays in
    /// cache; one with as many as there are states misses on every step and stores each state
    /// again), estimated by the distinct values of the half among the sampled states.</summary>
    static long Cost(Sample sample, uint half, uint all)
    {
        long d0 = Distinct(sample.Hashes, half), d1 = Distinct(sample.Hashes, all & ~half), cost = 0;
        foreach (var (mask, count) in sample.Changes)
            cost += count * (((mask & half) != 0 ? d0 : 0) + ((mask & all & ~half) != 0 ? d1 : 0));
        return cost;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static long Distinct(List<ulong[]> hashes, uint half)
    {
        var seen = new HashSet<ulong>();
        foreach (var h in hashes)
        {
            ulong x = 0;
            for (int c = 0; c < h.Length; c++)
                if ((half >> c & 1) != 0) x += InternTable.Mix(h[c] + (ulong)c * 0x9E3779B97F4A7C15UL);
            seen.Add(x);
        }
        return seen.Count;
    }

    /// <summary>A breadth-first walk of <see cref="SampleStates"/> states from the initial state,
    /// then, unless that was every state, a random walk of <see cref="WalkSteps"/> steps (a fixed
    /// seed: the same order every run), back to the initial state at a state without steps.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static Sample Walk<TModel, TState, TStep>(TModel model, StateComponent[] parts)
        where TModel : IModel<TState, TStep> where TState : unmanaged where TStep : unmanaged
    {
        var sample = new Sample([], []);
        var seen = new HashSet<ulong>();
        var queue = new Queue<TState>();
        var start = model.Initial();
        queue.Enqueue(start);
        seen.Add(StateHash.Fingerprint(start));
        var steps = new TStep[Math.Max(1, model.MaxSteps)];
        bool capped = false;
        while (queue.Count > 0)
        {
            var s = queue.Dequeue();
            sample.Hashes.Add(Hashes(s, parts));
            int count = model.Enabled(s, steps);
            for (int k = 0; k < count; k++)
            {
                var t = s;
                model.Apply(ref t, steps[k]);
                Count(sample.Changes, Changed(s, t, parts));
                ulong f = StateHash.Fingerprint(t);
                if (seen.Count < SampleStates) { if (seen.Add(f)) queue.Enqueue(t); }
                else capped |= !seen.Contains(f);
            }
        }
        // A walk that saw every state has nothing deeper to find.
        if (!capped) return sample;
        var state = start;
        ulong random = 0x2545F4914F6CDD1DUL;
        for (int i = 0; i < WalkSteps; i++)
        {
            int count = model.Enabled(state, steps);
            if (count == 0) { state = start; continue; }
            random ^= random << 13; random ^= random >> 7; random ^= random << 17;
            var next = state;
            model.Apply(ref next, steps[(int)(random % (ulong)count)]);
            Count(sample.Changes, Changed(state, next, parts));
            state = next;
            sample.Hashes.Add(Hashes(state, parts));
        }
        return sample;
    }

    static void Count(Dictionary<uint, long> changes, uint mask)
    {
        if (mask != 0) changes[mask] = changes.GetValueOrDefault(mask) + 1;
    }

    static ulong[] Hashes<TState>(in TState state, StateComponent[] parts) where TState : unmanaged
    {
        var b = MemoryMarshal.AsBytes(MemoryMarshal.CreateReadOnlySpan(in state, 1));
        var h = new ulong[parts.Length];
        for (int c = 0; c < parts.Length; c++) h[c] = StateHash.Hash(b.Slice(parts[c].Offset, parts[c].Length));
        return h;
    }

    static uint Changed<TState>(in TState before, in TState after, StateComponent[] parts) where TState : unmanaged
    {
        var a = MemoryMarshal.AsBytes(MemoryMarshal.CreateReadOnlySpan(in before, 1));
        var b = MemoryMarshal.AsBytes(MemoryMarshal.CreateReadOnlySpan(in after, 1));
        uint mask = 0;
        for (int c = 0; c < parts.Length; c++)
            if (!a.Slice(parts[c].Offset, parts[c].Length).SequenceEqual(b.Slice(parts[c].Offset, parts[c].Length)))
                mask |= 1u << c;
        return mask;
    }
}
