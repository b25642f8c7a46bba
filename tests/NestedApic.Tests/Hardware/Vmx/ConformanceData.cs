using NestedApic.Hardware.Vmx;

namespace NestedApic.Tests.Hardware.Vmx;

/// <summary>Loads tests/data/conformance/vmentry-vectors.jsonl (copied to the output's data/ folder).</summary>
internal static class ConformanceData
{
    public static readonly string VmEntryPath =
        Path.Combine(AppContext.BaseDirectory, "data", "conformance", "vmentry-vectors.jsonl");

    private static readonly Lazy<Dictionary<string, VmEntryVector>> Cases = new(Load);

    public static IReadOnlyDictionary<string, VmEntryVector> All => Cases.Value;

    public static VmEntryVector Get(string id) => Cases.Value[id];

    /// <summary>One row per case id, so that xunit shows and runs each case separately.</summary>
    public static TheoryData<string> Ids()
    {
        var data = new TheoryData<string>();
        foreach (var id in Cases.Value.Keys) data.Add(id);
        return data;
    }

    private static Dictionary<string, VmEntryVector> Load()
    {
        var cases = new Dictionary<string, VmEntryVector>();
        int n = 0;
        foreach (var line in File.ReadLines(VmEntryPath))
        {
            n++;
            if (!VmEntryVector.TryParse(line, out var v, out var e))
                throw new InvalidDataException(e.Format(VmEntryPath, n));
            cases.Add(v!.Id, v);
        }
        return cases;
    }
}
