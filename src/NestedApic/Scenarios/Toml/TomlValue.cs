using System.Globalization;

namespace NestedApic.Scenarios.Toml;

public enum TomlKind { String, Integer, Boolean, Float, Array, Table }

/// <summary>
/// A parsed value that remembers where it came from, so that semantic checks done long after
/// parsing can still point the user at the exact file, line and key.
/// </summary>
public abstract class TomlValue
{
    private protected TomlValue(string file, int line, int column, string path)
    {
        File = file;
        Line = line;
        Column = column;
        Path = path;
        KeyLine = line;
        KeyColumn = column;
    }

    public string File { get; }

    /// <summary>1-based line of the value's first character (of the header for tables).</summary>
    public int Line { get; internal set; }

    /// <summary>1-based column of the value's first character.</summary>
    public int Column { get; internal set; }

    /// <summary>Dotted key path, e.g. <c>events.ipi</c>; array items add <c>[i]</c>; "" for the root.
    /// Keys that are not bare are quoted.</summary>
    public string Path { get; }

    public abstract TomlKind Kind { get; }

    // Where the key naming this value was written, so "unknown key" points at the key, not the value.
    internal int KeyLine { get; set; }
    internal int KeyColumn { get; set; }

    /// <summary>An exception positioned at this value, for semantic errors found by the caller.</summary>
    public TomlException Error(string message) =>
        new(File, Line, Column, Path.Length == 0 ? null : Path, message);

    /// <summary>"a string", "an integer", ... for messages.</summary>
    public static string Describe(TomlKind kind) => kind switch
    {
        TomlKind.String => "a string",
        TomlKind.Integer => "an integer",
        TomlKind.Boolean => "a boolean",
        TomlKind.Float => "a float",
        TomlKind.Array => "an array",
        _ => "a table",
    };
}

public sealed class TomlString : TomlValue
{
    internal TomlString(string file, int line, int column, string path, string value)
        : base(file, line, column, path) => Value = value;

    public string Value { get; }
    public override TomlKind Kind => TomlKind.String;
    public override string ToString() => Value;
}

public sealed class TomlInteger : TomlValue
{
    internal TomlInteger(string file, int line, int column, string path, long value)
        : base(file, line, column, path) => Value = value;

    public long Value { get; }
    public override TomlKind Kind => TomlKind.Integer;
    public override string ToString() => Value.ToString(CultureInfo.InvariantCulture);
}

public sealed class TomlBoolean : TomlValue
{
    internal TomlBoolean(string file, int line, int column, string path, bool value)
        : base(file, line, column, path) => Value = value;

    public bool Value { get; }
    public override TomlKind Kind => TomlKind.Boolean;
    public override string ToString() => Value ? "true" : "false";
}

public sealed class TomlFloat : TomlValue
{
    internal TomlFloat(string file, int line, int column, string path, double value)
        : base(file, line, column, path) => Value = value;

    public double Value { get; }
    public override TomlKind Kind => TomlKind.Float;
    public override string ToString() => Value.ToString("R", CultureInfo.InvariantCulture);
}

public sealed class TomlArray : TomlValue
{
    private readonly List<TomlValue> _items = [];

    internal TomlArray(string file, int line, int column, string path, bool ofTables)
        : base(file, line, column, path) => IsArrayOfTables = ofTables;

    public IReadOnlyList<TomlValue> Items => _items;
    public int Count => _items.Count;
    public TomlValue this[int index] => _items[index];
    public override TomlKind Kind => TomlKind.Array;

    // Only arrays made by [[header]] may grow later; a literal [ ... ] is closed for good.
    internal bool IsArrayOfTables { get; }

    internal void Add(TomlValue item) => _items.Add(item);
}
