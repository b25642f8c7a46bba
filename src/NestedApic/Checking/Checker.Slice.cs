namespace NestedApic.Checking;

public sealed partial class Checker<TModel, TState, TStep>
{
    /// <summary>One thread's share of a round: a contiguous range of the frontier, the successors
    /// it found absent from the visited set (candidates), then those it kept, in order, with each
    /// parent's count of kept children and each child's step ordinal (see ParentLinks).</summary>
    sealed class Slice(StateStore<TState> store, int parts)
    {
        public int From, To;
        /// <summary>Where a slice stopped by a full table resumes: parent Next, step NextStep.</summary>
        public int Next, NextStep;
        /// <summary>Parents before this one had their transitions counted and deadlock checked.</summary>
        public int Counted;
        public bool Full, BoundHit;
        public readonly IndexBlock[] Blocks = new IndexBlock[store.TableCount + RootSet.Shards];
        public readonly int[] ParentIdx = new int[store.IndexCount];
        public ulong[] Keys = new ulong[64];
        public int[] Parents = new int[64], Steps = new int[64], Depths = new int[64];
        /// <summary>Each candidate's slot hint from its lookup (<see cref="RootSet.Contains"/>), when
        /// several threads insert.</summary>
        public int[] Hints = new int[64];
        /// <summary>Each candidate's partition of the visited set's shards (threads insert by
        /// partition), and per partition its candidates in order; an insert that found the key
        /// absent marks its entry with the sign bit.</summary>
        public byte[] Parts = new byte[64];
        public readonly int[][] PartIdx = Enumerable.Range(0, parts).Select(_ => new int[64]).ToArray();
        public readonly int[] PartCount = new int[parts];
        /// <summary>The candidates per shard of the visited set: room is made before they go in.</summary>
        public readonly long[] ShardCounts = new long[RootSet.Shards];
        public int Count, Kept;
        public byte[] Counts = new byte[64], StepBytes = new byte[64];
        public Dictionary<int, int>? BigCounts, BigSteps;
        public long Transitions, Reduced, Skipped, Chained;
        /// <summary>The parent whose ample successors are being inserted, and whether one of them
        /// was stored by an earlier round (the reduction's cycle proviso, AmpleSets C3).</summary>
        public int ProvisoParent = -1;
        public bool ProvisoOld;
        /// <summary>The first deadlocked parent (frontier position relative to the level), or -1.</summary>
        public int Deadlock = -1;
        /// <summary>The first violating candidate (0: none) and its invariant.</summary>
        public ulong ViolationKey;
        public int ViolationInvariant;

        public void Reset(int from, int to)
        {
            From = Next = from; To = to;
            NextStep = 0; Counted = from; Full = false;
            BoundHit = false;
            Count = Kept = 0; Transitions = Reduced = Skipped = Chained = 0; ProvisoParent = -1; ProvisoOld = false; Deadlock = -1; ViolationKey = 0;
            PartCount.AsSpan().Clear(); ShardCounts.AsSpan().Clear();
            BigCounts?.Clear(); BigSteps?.Clear();
            if (Counts.Length < to - from) Counts = new byte[to - from];
        }

        /// <summary>Adds a candidate; <paramref name="shard"/> is its visited-set shard, -1 when
        /// it was inserted already (one thread, in order), and <paramref name="hint"/> where its
        /// insert may start.</summary>
        public void Push(ulong key, int shard, int hint, int parent, int step, int depth)
        {
            if (Count == Keys.Length)
            {
                int n = Count * 2;
                Array.Resize(ref Keys, n); Array.Resize(ref Parts, n); Array.Resize(ref Parents, n); Array.Resize(ref Steps, n); Array.Resize(ref Depths, n);
            }
            if (shard >= 0)
            {
                int part = shard % PartCount.Length;
                ref var list = ref PartIdx[part];
                if (PartCount[part] == list.Length) Array.Resize(ref list, list.Length * 2);
                list[PartCount[part]++] = Count;
                Parts[Count] = (byte)part;
                ShardCounts[shard]++;
                // Only several threads insert from hints: one thread's slice never grows this.
                if (Hints.Length < Keys.Length) Array.Resize(ref Hints, Keys.Length);
                Hints[Count] = hint;
            }
            Keys[Count] = key; Parents[Count] = parent; Depths[Count] = depth; Steps[Count++] = step;
        }
    }

    /// <summary>A thread's working memory, whichever slices it takes: kept warm in its caches.</summary>
    sealed class Scratch(int indexCount)
    {
        public readonly Pending[] Batch = new Pending[Checker<TModel, TState, TStep>.Batch];
        /// <summary>The batch's component indices, <see cref="StateStore{TState}.IndexCount"/> a state.</summary>
        public readonly int[] BatchIdx = new int[Checker<TModel, TState, TStep>.Batch * indexCount];
        /// <summary>Recent candidates, direct-mapped: a key met again by the same thread in one
        /// pass of a round is a later parent's (or step's) duplicate that cannot own it (a thread
        /// takes a pass's slices in order), so it is dropped before it costs a lookup in the
        /// visited set, a property check and an insert. On intel-wide most duplicates of a round are diamonds closed by neighbouring
        /// parents (6.9 M candidates fall to 3.8 M, for 3.47 M states); on the classic models
        /// they are farther apart (peterson: 9.3 M for 5.8 M). Emptied when the thread starts a
        /// new pass (<see cref="Pass"/>): after a table filled, the unfinished slices go to
        /// whichever thread asks first, so a thread can take an earlier slice than one it took in
        /// the pass before, and that one's keys must not drop the earlier slice's candidates, their
        /// owners. (They did: the 3-vCPU intel-wide count was 6,467,928 instead of 6,467,924 in
        /// about one run in five, two threads.)</summary>
        public readonly ulong[] Recent = new ulong[1 << RecentBits];
        /// <summary>The pass of the round <see cref="Recent"/> holds keys of.</summary>
        public long Pass = -1;
    }

    /// <summary>A successor waiting for its visited-set insert.</summary>
    struct Pending
    {
        public TState State;
        public ulong Key;
        /// <summary>Step: the ordinal among the parent's enabled steps; Seq: its place in the
        /// order the reduction expands them (the same unless a reduction reordered).</summary>
        public int Parent, Step, Seq;
        /// <summary>The depth in steps (with chains only: they add to it), and the states its chain passed.</summary>
        public int Depth, Chained;
    }
}
