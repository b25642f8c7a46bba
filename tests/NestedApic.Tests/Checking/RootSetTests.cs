using NestedApic.Checking;

namespace NestedApic.Tests.Checking;

/// <summary>
/// The visited set driven as several threads use it: a round's keys are looked up first
/// (<see cref="RootSet.Contains"/>, which hands back where each absent key's probe ended), the
/// shards may grow in between (before the round, or rehashed while lookups run), then the absent
/// ones are inserted in order from those hints (<see cref="RootSet.AddOwned"/>). Each key must be
/// inserted once, by its first occurrence, and found afterwards from its own first slot.
/// </summary>
public class RootSetTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void Inserts_from_lookup_hints_store_each_key_once_across_growths(int seed)
    {
        var rng = new Random(seed);
        var set = new RootSet(capacity: 64 * 64);
        var stored = new HashSet<ulong>();
        var pool = new List<ulong>();
        // Keys from a small pool, so rounds meet keys of earlier rounds and repeat their own.
        for (int i = 0; i < 6000; i++) pool.Add(((ulong)rng.NextInt64() | 1) & ~(1UL << 63));
        Span<long> added = stackalloc long[RootSet.Shards];
        Span<long> incoming = stackalloc long[RootSet.Shards];
        for (int round = 0; round < 40; round++)
        {
            int n = rng.Next(1, 400);
            var keys = new ulong[n];
            for (int i = 0; i < n; i++) keys[i] = pool[rng.Next(pool.Count)];
            // Some rounds allocate a growth first and rehash it halfway through the lookups, as
            // the expanding threads do; the others grow nothing until the insert.
            bool later = set.GrowAsNeeded(_ => true, later: true) > 0 && set.PendingGrowth > 0;
            var absent = new bool[n];
            var hints = new int[n];
            var shards = new int[n];
            incoming.Clear();
            for (int i = 0; i < n; i++)
            {
                if (later && i == n / 2)
                {
                    for (int p = 0; p < set.PendingGrowth; p++) set.Fill(p);
                    set.EndGrowth();
                    later = false;
                }
                absent[i] = !set.Contains(keys[i], out shards[i], out hints[i]);
                Assert.Equal(stored.Contains(keys[i]), !absent[i]);
                if (absent[i]) incoming[shards[i]]++;
            }
            if (later)
            {
                for (int p = 0; p < set.PendingGrowth; p++) set.Fill(p);
                set.EndGrowth();
            }
            // Room for the round's candidates: this is where a hint goes stale.
            Assert.True(set.GrowAsNeeded(_ => true, incoming) >= 0);
            added.Clear();
            for (int i = 0; i < n; i++)
            {
                if (!absent[i]) continue;
                bool first = stored.Add(keys[i]);
                Assert.Equal(first, set.AddOwned(keys[i], hints[i], out int shard));
                Assert.Equal(shards[i], shard);
                if (first) added[shard]++;
            }
            for (int h = 0; h < RootSet.Shards; h++) if (added[h] > 0) set.Added(h, added[h]);
            foreach (var k in keys) Assert.True(set.Contains(k, out _, out _), $"round {round}: key {k:x} lost");
        }
        // Every stored key is found from its own first slot.
        foreach (var k in stored) Assert.True(set.Contains(k, out _, out _));
        Assert.True(stored.Count > 3000, $"only {stored.Count} keys: the rounds should cover most of the pool");
        Assert.True(set.Capacity > 64 * 64, "the shards should have grown");
    }
}
