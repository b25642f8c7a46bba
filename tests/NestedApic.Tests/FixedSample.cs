using CsCheck;

namespace NestedApic.Tests;

/// <summary>
/// CsCheck's Sample takes its seed for the first case only and draws the others afresh on every
/// run. CI must see the same cases every time, so these tests draw case i from a PCG fixed by
/// the seed and i. A failure names the case's own seed: <c>gen.Sample(assert, seed: "…", iter: 1)</c>
/// replays it, and plain <c>Sample</c> without a seed explores fresh cases with shrinking.
/// </summary>
static class FixedSample
{
    public static void SampleFixed<T>(this Gen<T> gen, Action<T> assert, string seed, long iter, Func<T, string>? print = null, int threads = 1) =>
        gen.SampleFixed(assert, seed, 0, iter, print, threads);

    /// <summary>Cases <paramref name="first"/> to <paramref name="end"/> (exclusive) of the seed's
    /// sequence: a long sample split over tests that xUnit runs side by side draws the very same
    /// cases as one test would.</summary>
    public static void SampleFixed<T>(this Gen<T> gen, Action<T> assert, string seed, long first, long end, Func<T, string>? print = null, int threads = 1)
    {
        var start = PCG.Parse(seed);
        // On several threads the cases are the same; the failure reported is the lowest case's.
        var failures = new System.Collections.Concurrent.ConcurrentBag<(long Case, Exception Error)>();
        Parallel.For(first, end, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, threads) }, (i, loop) =>
        {
            var pcg = new PCG(start.Stream, start.State + (ulong)i * 0x9E3779B97F4A7C15UL);
            string caseSeed = pcg.ToString();
            var t = gen.Generate(pcg, null, out _);
            try { assert(t); }
            catch (Exception e)
            {
                string shown = print is null ? $"{t}" : print(t);
                if (shown.Length > 2000) shown = shown[..2000] + " …";
                failures.Add((i, new Xunit.Sdk.XunitException($"case {i} of seed \"{seed}\", its own CsCheck seed \"{caseSeed}\": {shown}\n{e.Message}", e)));
                loop.Stop();
            }
        });
        if (!failures.IsEmpty) throw failures.MinBy(f => f.Case).Error;
    }
}
