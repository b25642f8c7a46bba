namespace NestedApic.Scenarios.Toml;

/// <summary>How a table came to exist; TOML's redefinition rules depend on it.</summary>
internal enum TableOrigin
{
    /// <summary>Created as a parent by a header like [a.b]; a later [a] may still define it.</summary>
    Implicit,
    /// <summary>Defined by its own [header] (or [[header]] element).</summary>
    Header,
    /// <summary>Created by a dotted key like a.b = 1; only more dotted keys may extend it.</summary>
    Dotted,
    /// <summary>An inline table { ... }; closed for good once parsed.</summary>
    Inline,
}

/// <summary>A table whose keys keep their file order. Typed accessors are in TomlTable.Accessors.cs.</summary>
public sealed partial class TomlTable : TomlValue
{
    private readonly Dictionary<string, TomlValue> _map = new(StringComparer.Ordinal);
    private readonly List<string> _keys = [];

    internal TomlTable(string file, int line, int column, string path, TableOrigin origin)
        : base(file, line, column, path) => Origin = origin;

    public override TomlKind Kind => TomlKind.Table;

    /// <summary>Keys in the order they first appear in the file.</summary>
    public IReadOnlyList<string> Keys => _keys;

    public int Count => _keys.Count;

    /// <summary>Key/value pairs in file order.</summary>
    public IEnumerable<KeyValuePair<string, TomlValue>> Entries =>
        _keys.Select(k => new KeyValuePair<string, TomlValue>(k, _map[k]));

    public bool ContainsKey(string key) => _map.ContainsKey(key);

    public bool TryGet(string key, out TomlValue value) => _map.TryGetValue(key, out value!);

    /// <summary>The value of a key; a missing key is a <see cref="TomlException"/>, not a
    /// KeyNotFoundException, so it reaches the user as a positioned message.</summary>
    public TomlValue this[string key] => TryGet(key, out var v) ? v : throw Missing(key);

    internal TableOrigin Origin { get; set; }

    internal void Add(string key, TomlValue value)
    {
        _map.Add(key, value);
        _keys.Add(key);
    }

    /// <summary>Path of a child key, quoting keys that are not bare.</summary>
    internal static string ChildPath(string parent, string key)
    {
        var k = IsBare(key) ? key : Quote(key);
        return parent.Length == 0 ? k : parent + "." + k;
    }

    internal string ChildPath(string key) => ChildPath(Path, key);

    private static bool IsBare(string key) => key.Length > 0 && key.All(c => c is (>= 'A' and <= 'Z') or (>= 'a' and <= 'z') or (>= '0' and <= '9') or '_' or '-');

    private static string Quote(string key)
    {
        var sb = new System.Text.StringBuilder("\"");
        foreach (var c in key)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\t': sb.Append("\\t"); break;
                default:
                    if (char.IsControl(c)) sb.Append("\\u").Append(((int)c).ToString("X4"));
                    else sb.Append(c);
                    break;
            }
        }
        return sb.Append('"').ToString();
    }
}
