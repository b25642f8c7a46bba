using NestedApic.Checking;

namespace NestedApic.Tests.Checking;

/// <summary>A level's keys: appends of every size, across the short first chunk's doublings and
/// the full chunks after it, read back in order; released chunks stop counting.</summary>
public class FrontierTests
{
    [Theory]
    [InlineData(1, 3)]
    [InlineData(7, 200_000)]
    [InlineData(300, 140_000)]
    [InlineData(70_000, 150_000)]
    public void Appended_keys_read_back_in_order(int largestAppend, int total)
    {
        var rng = new Random(largestAppend ^ total);
        var f = new Frontier<ulong>();
        var all = new List<ulong>();
        while (all.Count < total)
        {
            int n = Math.Min(total - all.Count, 1 + rng.Next(largestAppend));
            var keys = Enumerable.Range(0, n).Select(_ => (ulong)rng.NextInt64()).ToArray();
            f.Append(keys);
            all.AddRange(keys);
            Assert.Equal(all.Count, f.Count);
            // What is allocated covers the keys, and no more than a full chunk is ever spare.
            Assert.InRange(f.Bytes, all.Count * 8L, all.Count * 8L + Frontier<ulong>.ChunkSize * 8L);
        }
        for (int i = 0; i < all.Count; i++)
            if (f[i] != all[i]) Assert.Fail($"key {i} of {all.Count}: {f[i]:X}, appended {all[i]:X}");
        // As the checker does after a round: the chunks wholly before the position go.
        long before = f.Bytes, at = Math.Min(all.Count, Frontier<ulong>.ChunkSize * 2L);
        f.Release(at);
        Assert.Equal(before - at / Frontier<ulong>.ChunkSize * Frontier<ulong>.ChunkSize * 8L, f.Bytes);
        for (long i = at / Frontier<ulong>.ChunkSize * Frontier<ulong>.ChunkSize; i < all.Count; i++)
            Assert.Equal(all[(int)i], f[i]);
    }

    [Fact]
    public void A_small_level_allocates_little()
    {
        var f = new Frontier<ulong>();
        f.Append([1, 2, 3]);
        Assert.Equal(Frontier<ulong>.FirstChunk * 8L, f.Bytes);
    }
}
