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
    public static void SampleFixed<T>(this Gen<T> gen, Action<T> assert, string seed, long iter, Func<T, string>? print = null)
    {
        var start = PCG.Parse(seed);
        for (long i = 0; i < iter; i++)
        {
            var pcg = new PCG(start.Stream, start.State + (ulong)i * 0x9E3779B97F4A7C15UL);
            string caseSeed = pcg.ToString();
            var t = gen.Generate(pcg, null, out _);
            try { assert(t); }
            catch (Exception e)
            {
                string shown = print is null ? $"{t}" : print(t);
                if (shown.Length > 2000) shown = shown[..2000] + " …";
                throw new Xunit.Sdk.XunitException($"case {i} of seed \"{seed}\", its own CsCheck seed \"{caseSeed}\": {shown}\n{e.Message}", e);
            }
        }
    }
}
