namespace NestedApic.Scenarios.Toml;

// Typed accessors: each failure names the file, line and full key path, never a stack trace.
public sealed partial class TomlTable
{
    public string GetString(string key) => As<TomlString>(Require(key), TomlKind.String).Value;

    public string? GetStringOrNull(string key) =>
        TryGet(key, out var v) ? As<TomlString>(v, TomlKind.String).Value : null;

    public long GetInteger(string key, long min, long max) => InRange(Require(key), min, max);

    public long GetIntegerOr(string key, long defaultValue, long min, long max) =>
        TryGet(key, out var v) ? InRange(v, min, max) : defaultValue;

    public bool GetBoolean(string key) => As<TomlBoolean>(Require(key), TomlKind.Boolean).Value;

    public bool GetBooleanOr(string key, bool defaultValue) =>
        TryGet(key, out var v) ? As<TomlBoolean>(v, TomlKind.Boolean).Value : defaultValue;

    /// <summary>A float; an integer is accepted too, since "2" for 2.0 is what people write.</summary>
    public double GetFloat(string key) => AsFloat(Require(key));

    public double GetFloatOr(string key, double defaultValue) =>
        TryGet(key, out var v) ? AsFloat(v) : defaultValue;

    public TomlTable GetTable(string key) => As<TomlTable>(Require(key), TomlKind.Table);

    public TomlTable? GetTableOrNull(string key) =>
        TryGet(key, out var v) ? As<TomlTable>(v, TomlKind.Table) : null;

    public TomlArray GetArray(string key) => As<TomlArray>(Require(key), TomlKind.Array);

    public TomlArray? GetArrayOrNull(string key) =>
        TryGet(key, out var v) ? As<TomlArray>(v, TomlKind.Array) : null;

    /// <summary>Throws at the first key (in file order) that is not in <paramref name="allowed"/>,
    /// so typos like <c>vcpu = 2</c> for <c>vcpus</c> do not pass silently.</summary>
    public void RejectUnknownKeys(params string[] allowed)
    {
        foreach (var key in _keys)
        {
            if (Array.IndexOf(allowed, key) >= 0) continue;
            var v = _map[key];
            var list = allowed.Length == 0 ? "none" : string.Join(", ", allowed);
            throw new TomlException(File, v.KeyLine, v.KeyColumn, v.Path,
                $"unknown key; allowed keys: {list}");
        }
    }

    private TomlValue Require(string key) => TryGet(key, out var v) ? v : throw Missing(key);

    private TomlException Missing(string key) =>
        new(File, Line, Column, ChildPath(key),
            Path.Length == 0 ? "required key is missing" : $"required key is missing from table '{Path}'");

    private static T As<T>(TomlValue v, TomlKind kind) where T : TomlValue =>
        v as T ?? throw v.Error($"expected {Describe(kind)}, found {Describe(v.Kind)}");

    private static long InRange(TomlValue v, long min, long max)
    {
        var n = As<TomlInteger>(v, TomlKind.Integer).Value;
        return n >= min && n <= max ? n : throw v.Error($"{n} is out of range {min}..{max}");
    }

    private static double AsFloat(TomlValue v) => v switch
    {
        TomlFloat f => f.Value,
        TomlInteger i => i.Value,
        _ => throw v.Error($"expected a float, found {Describe(v.Kind)}"),
    };
}
