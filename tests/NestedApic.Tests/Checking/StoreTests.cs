using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using CsCheck;
using NestedApic.Checking;

namespace NestedApic.Tests.Checking;

[InlineArray(24)] public struct Bytes24 { byte _b; }

/// <summary>
/// The compressed store below the checker, driven directly: a random layout (components, groups
/// named "g.part", zero components), random walks of states in which a child changes a few
/// components of its parent, each child encoded against its parent with a scratch index buffer
/// that still holds the previous state's indices (as the checker's batch buffers do). Equal states
/// must get equal keys, different states different keys, and every key must decode to its state.
/// Then the two tables' arenas past their first 16 chunks, and on two threads at once.
/// </summary>
public class StoreTests
{
    public struct State { public Bytes24 B; }

    /// <summary>A layout of 24 bytes: cuts at sorted distinct offsets, each named into one of a few
    /// groups (or none), some declared zero.</summary>
    sealed record LayoutSpec(int[] Cuts, int[] Groups, bool[] Zero, int Values, ulong Seed)
    {
        public StateLayout Build()
        {
            var b = new StateLayout.Builder(24);
            for (int i = 0; i < Cuts.Length; i++)
            {
                string name = Groups[i] < 0 ? $"c{i}" : $"g{Groups[i]}.c{i}";
                if (Zero[i] && i > 0) b.Zero(Cuts[i], name); else b.Cut(Cuts[i], name);
            }
            return b.Build();
        }

        public override string ToString() =>
            $"cuts [{string.Join(",", Cuts)}], groups [{string.Join(",", Groups)}], zero [{string.Join(",", Zero)}], {Values} values, seed {Seed}";
    }

    static readonly Gen<LayoutSpec> Layouts =
        from n in Gen.Int[1, 10]
        from rest in Gen.Int[1, 23].HashSet[n - 1]
        from groups in Gen.Int[-1, 3].Array[n]
        from zero in Gen.Frequency((5, Gen.Const(false)), (1, Gen.Const(true))).Array[n]
        from values in Gen.Int[2, 6]
        from seed in Gen.ULong
        select new LayoutSpec([0, .. rest.Order()], groups, zero, values, seed);

    [Fact]
    public void Keys_are_exact_and_decode_to_their_states() =>
        Layouts.SampleFixed(RoundTrips, "0000000000s1", 300);

    static void RoundTrips(LayoutSpec spec)
    {
        var layout = spec.Build();
        var store = new StateStore<State>(layout);
        var comps = layout.Components;
        var rng = new Random(unchecked((int)spec.Seed));
        var blocks = new IndexBlock[store.TableCount];
        using var pool = new WorkerPool(1);
        var keys = new Dictionary<State, ulong>(BytesComparer<State>.Instance);
        var byKey = new Dictionary<ulong, State>();
        var idx = new int[store.IndexCount];
        var states = new List<(State S, int[] Idx)>();

        State Random(State from)
        {
            var s = from;
            var bytes = MemoryMarshal.AsBytes(MemoryMarshal.CreateSpan(ref s, 1));
            // A few components take one of a few values, so children share most of their parent.
            int changes = 1 + rng.Next(3);
            for (int k = 0; k < changes; k++)
            {
                var c = comps[rng.Next(comps.Count)];
                if (c.Zero) continue;
                byte v = (byte)rng.Next(spec.Values);
                for (int i = 0; i < c.Length; i++) bytes[c.Offset + i] = (byte)(v * (i + 1));
            }
            return s;
        }

        void Record(State s, ulong key)
        {
            Assert.NotEqual(0UL, key);
            if (keys.TryGetValue(s, out var k)) { if (k != key) Assert.Fail($"one state, two keys {k:x} and {key:x}: {Hex(s)}\n{string.Join(", ", comps)}"); }
            else
            {
                if (!byKey.TryAdd(key, s)) Assert.Fail($"key {key:x} for two states {Hex(s)} and {Hex(byKey[key])}\n{string.Join(", ", comps)}");
                keys[s] = key;
            }
            var back = default(State);
            var backIdx = new int[store.IndexCount];
            store.Decode(key, ref back, backIdx);
            if (!BytesComparer<State>.Instance.Equals(back, s)) Assert.Fail($"key {key:x} decodes to another state than {Hex(s)}\n{string.Join(", ", comps)}");
            states.Add((s, backIdx));
        }

        var root = Random(default);
        Record(root, store.EncodeFresh(root, idx, blocks));
        for (int i = 0; i < 3000; i++)
        {
            var (parent, parentIdx) = states[rng.Next(states.Count)];
            var child = Random(parent);
            ulong key;
            // idx keeps what the last encode left in it (the checker reuses its buffers).
            while ((key = store.Encode(child, parent, parentIdx, idx, blocks)) == 0)
                Assert.True(store.GrowAsNeeded(_ => true, pool) > 0, "a table was full and none grew");
            Record(child, key);
        }
    }

    static string Hex(State s) => Convert.ToHexString(MemoryMarshal.AsBytes(MemoryMarshal.CreateSpan(ref s, 1)));

    /// <summary>Past the 16 chunks an interning table starts with (values of 4 KiB: 16 to a chunk),
    /// every value still reads back.</summary>
    [Fact]
    public void Intern_table_arena_grows_past_its_first_chunks()
    {
        var t = new InternTable(4096);
        var block = new IndexBlock();
        var value = new byte[4096];
        var index = new long[600];
        for (int i = 0; i < index.Length; i++)
        {
            BitConverter.TryWriteBytes(value, i);
            while ((index[i] = t.Intern(value, ref block)) < 0)
            {
                Assert.True(t.NeedsGrowth);
                Grow(t);
            }
        }
        for (int i = 0; i < index.Length; i++)
        {
            Assert.Equal(i, BitConverter.ToInt32(t.Value(index[i])));
            BitConverter.TryWriteBytes(value, i);
            Assert.Equal(index[i], t.Intern(value, ref block));
        }
        Assert.Equal(index.Length, index.Distinct().Count());
    }

    /// <summary>Two threads intern distinct values at once, each into its own blocks: chunks are
    /// added by whichever thread reaches them first and none may be replaced under the other.
    /// Between rounds (here: when one is full) the table grows, as the checker does.</summary>
    [Fact]
    public void Intern_table_two_threads_keep_every_value()
    {
        var t = new InternTable(512);
        const int PerThread = 4000;
        var blocks = new IndexBlock[2];
        var got = OnTwoThreads(PerThread, (th, k) =>
        {
            var value = new byte[512];
            BitConverter.TryWriteBytes(value, th * PerThread + k);
            return t.Intern(value, ref blocks[th]);
        }, () => Grow(t));
        for (int th = 0; th < 2; th++)
            for (int k = 0; k < PerThread; k++)
                Assert.Equal(th * PerThread + k, BitConverter.ToInt32(t.Value(got[th, k])));
    }

    /// <summary>Two threads in lockstep (a <see cref="Meeting"/> before every value), values of 4 KiB in a table
    /// of 1,024 slots: sixteen values to a chunk and four to a block, the two threads' blocks
    /// alternating, so every eighth step both threads write into a chunk that neither has added
    /// yet and both may find it missing. The second to add it must keep the first one's chunk
    /// (<c>??=</c> in AddChunk): a chunk replaced under the other thread loses the value that
    /// thread wrote. A race, so the test can only make it likely: 30 tables of 55 such chunks.</summary>
    [Fact]
    public void Intern_table_chunks_two_threads_add_at_once_keep_both_values()
    {
        const int Tables = 30, PerThread = 440, Width = 4096;
        for (int r = 0; r < Tables; r++)
        {
            var t = new InternTable(Width, capacity: 1024);
            var blocks = new IndexBlock[2];
            var got = new long[2, PerThread];
            var meeting = new Meeting();
            var threads = Enumerable.Range(0, 2).Select(th => new Thread(() =>
            {
                var value = new byte[Width];
                for (int k = 0; k < PerThread; k++)
                {
                    BitConverter.TryWriteBytes(value, th * PerThread + k + 1);
                    meeting.Meet();
                    got[th, k] = t.Intern(value, ref blocks[th]);
                }
            })).ToList();
            threads.ForEach(x => x.Start());
            threads.ForEach(x => x.Join());
            for (int th = 0; th < 2; th++)
                for (int k = 0; k < PerThread; k++)
                    if (got[th, k] < 0 || BitConverter.ToInt32(t.Value(got[th, k])) != th * PerThread + k + 1)
                        Assert.Fail($"table {r}: thread {th}'s value {k} (index {got[th, k]}) did not read back");
        }
    }

    /// <summary>The pair table's chunks added by two threads at once: blocks of 256 indices, 32 to
    /// a chunk of 8,192, and the threads meet at a barrier whenever their block is used up, so both
    /// refill at once, get adjacent blocks, and write their first pair at once, into a new chunk
    /// every sixteenth time. As for the interning table above: the second to add a chunk must keep
    /// the first one's. 50 chunks, each a chance for the race.</summary>
    [Fact]
    public void Node_table_chunks_two_threads_add_at_once_keep_both_pairs()
    {
        const int PerThread = 50 * 8192 / 2;
        var t = new NodeTable(capacity: 1 << 19);
        var blocks = new IndexBlock[2];
        var got = new long[2, PerThread];
        var meeting = new Meeting();
        var threads = Enumerable.Range(0, 2).Select(th => new Thread(() =>
        {
            for (int k = 0; k < PerThread; k++)
            {
                if (blocks[th].Next == blocks[th].End) meeting.Meet();
                got[th, k] = t.Intern(th, k, ref blocks[th]);
            }
        })).ToList();
        threads.ForEach(x => x.Start());
        threads.ForEach(x => x.Join());
        for (int th = 0; th < 2; th++)
            for (int k = 0; k < PerThread; k++)
                if (got[th, k] < 0 || t.Pair(got[th, k]) != (th, k))
                    Assert.Fail($"thread {th}'s pair {k} (index {got[th, k]}) reads back as {(got[th, k] < 0 ? "nothing" : t.Pair(got[th, k]))}");
    }

    /// <summary>The pair table past its 16 first chunks of 8,192 pairs, on two threads: every
    /// index gives its pair back, and a pair interned again gives its index.</summary>
    [Fact]
    public void Node_table_keeps_every_pair_past_its_first_chunks()
    {
        var t = new NodeTable();
        const int PerThread = 80_000;
        var blocks = new IndexBlock[2];
        var got = OnTwoThreads(PerThread, (th, k) => t.Intern(th, k, ref blocks[th]), () => Grow(t));
        for (int th = 0; th < 2; th++)
            for (int k = 0; k < PerThread; k += 7)
            {
                Assert.Equal((th, k), t.Pair(got[th, k]));
                Assert.Equal(got[th, k], t.Intern(th, k, ref blocks[th]));
            }
    }

    /// <summary>Tables of a million entries grown on a pool of four threads (on two cores), their
    /// rehash split in parts that claim slots with a compare-and-swap: every value and every pair
    /// is found again under its index, and new ones still go in.</summary>
    [Fact]
    public void Tables_grown_in_parallel_parts_keep_every_entry()
    {
        const int N = 1_000_000;
        var values = new InternTable(8);
        var pairs = new NodeTable();
        var (vb, pb) = (new IndexBlock(), new IndexBlock());
        var vi = new long[N];
        var pi = new long[N];
        using var pool = new WorkerPool(4);
        int grown = 0;
        for (int k = 0; k < N; k++)
        {
            while ((vi[k] = values.Intern(BitConverter.GetBytes((long)k), ref vb)) < 0 | (pi[k] = pairs.Intern(k, ~k, ref pb)) < 0)
            {
                IGrowingTable[] full = [.. new IGrowingTable[] { values, pairs }.Where(t => t.NeedsGrowth)];
                Assert.NotEmpty(full);
                Growth.Parallel(full, pool);
                grown++;
            }
        }
        Assert.True(values.Capacity >= 4 << 16 && grown >= 8, $"{grown} growths, {values.Capacity} slots: too small to be split");
        for (int k = 0; k < N; k++)
        {
            if (values.Intern(BitConverter.GetBytes((long)k), ref vb) != vi[k] || pairs.Intern(k, ~k, ref pb) != pi[k])
                Assert.Fail($"entry {k} lost its index after a parallel growth");
            Assert.Equal(k, BitConverter.ToInt64(values.Value(vi[k])));
        }
    }

    /// <summary>Two threads meet here and leave together. It spins (yielding, never sleeping): a
    /// sleeping barrier wakes its waiter microseconds after the last arrival went on, by when that
    /// one has added the chunk the two were to race for.</summary>
    sealed class Meeting
    {
        int _arrived, _phase;

        public void Meet()
        {
            int p = Volatile.Read(ref _phase);
            if (Interlocked.Increment(ref _arrived) == 2) { _arrived = 0; Volatile.Write(ref _phase, p + 1); return; }
            var spin = new SpinWait();
            while (Volatile.Read(ref _phase) == p) spin.SpinOnce(sleep1Threshold: -1);
        }
    }

    /// <summary>Threads 0 and 1 each insert their items 0..n-1 (<paramref name="insert"/> gives the
    /// index, or -1 when the table is full); when both stop, the table grows between "rounds" and
    /// they go on. Returns each item's index.</summary>
    /// <summary>Grows a table as a one-thread search does: one part, no compare-and-swap.</summary>
    static void Grow(IGrowingTable table)
    {
        using var pool = new WorkerPool(1);
        Growth.Parallel([table], pool);
    }

    static long[,] OnTwoThreads(int n, Func<int, int, long> insert, Action grow)
    {
        var got = new long[2, n];
        var next = new int[2];
        while (next[0] < n || next[1] < n)
        {
            Parallel.For(0, 2, th =>
            {
                for (; next[th] < n; next[th]++)
                {
                    long i = insert(th, next[th]);
                    if (i < 0) return;
                    got[th, next[th]] = i;
                }
            });
            if (next[0] < n || next[1] < n) grow();
        }
        return got;
    }
}
