using NestedApic.Hardware.Svm;

namespace NestedApic.Tests.Hardware.Svm;

/// <summary>Loads tests/data/conformance/vmrun-vectors-svm.jsonl (copied to the output's data/ folder).</summary>
internal static class SvmConformanceData
{
    public static readonly string VmrunPath =
        Path.Combine(AppContext.BaseDirectory, "data", "conformance", "vmrun-vectors-svm.jsonl");

    private static readonly Lazy<Dictionary<string, VmrunVector>> Cases = new(Load);

    public static IReadOnlyDictionary<string, VmrunVector> All => Cases.Value;

    public static VmrunVector Get(string id) => Cases.Value[id];

    public static TheoryData<string> Ids()
    {
        var data = new TheoryData<string>();
        foreach (var id in Cases.Value.Keys) data.Add(id);
        return data;
    }

    private static Dictionary<string, VmrunVector> Load()
    {
        var cases = new Dictionary<string, VmrunVector>();
        int n = 0;
        foreach (var line in File.ReadLines(VmrunPath))
        {
            n++;
            if (line.Length == 0) continue;
            if (!VmrunVector.TryParse(line, out var v, out var e))
                throw new InvalidDataException(e.Format(VmrunPath, n));
            cases.Add(v!.Id, v);
        }
        return cases;
    }
}
