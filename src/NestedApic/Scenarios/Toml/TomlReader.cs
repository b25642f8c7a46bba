using Tomlyn.Parsing;
using Tomlyn.Syntax;

namespace NestedApic.Scenarios.Toml;

/// <summary>
/// Turns Tomlyn's syntax tree (a complete TOML parser and validator) into positioned values: each
/// key and value keeps the line and column Tomlyn records, so the checks done after parsing name
/// FILE:LINE:COL and the key. Tomlyn's own diagnostics (syntax errors, duplicate keys, tables
/// defined twice) become the same one-line <see cref="TomlException"/>.
/// </summary>
internal sealed class TomlReader(string file)
{
    readonly TomlTable _root = new(file, 1, 1, "", TableOrigin.Header);

    public static TomlTable Read(string text, string file)
    {
        DocumentSyntax doc;
        try { doc = SyntaxParser.Parse(text, file, validate: true); }
        catch (Tomlyn.TomlException e) when (e.Message.Contains("maximum depth", StringComparison.OrdinalIgnoreCase))
        {
            var (line, col) = FailurePosition(text, file);
            throw new TomlException(file, line, col, null, "arrays and inline tables are nested too deeply");
        }
        catch (Exception e) when (IsParserFailure(e))
        {
            // Tomlyn gave up on something it could not report as a diagnostic (e.g. "\u0" at the end of the file).
            var (line, col) = FailurePosition(text, file);
            throw new TomlException(file, line, col, null, $"invalid TOML here (the parser failed: {Describe(e.Message)})");
        }
        if (doc.Diagnostics.FirstOrDefault(d => d.Kind == DiagnosticMessageKind.Error) is { } error)
            throw new TomlException(file, error.Span.Start.Line + 1, error.Span.Start.Column + 1, null, Describe(error.Message));
        var reader = new TomlReader(file);
        foreach (var kv in doc.KeyValues) reader.AddKeyValue(reader._root, kv);
        foreach (var table in doc.Tables) reader.AddTable(table);
        return reader._root;
    }

    static bool IsParserFailure(Exception e) =>
        e is Tomlyn.TomlException or ArgumentException or InvalidOperationException or FormatException or OverflowException or IndexOutOfRangeException;

    /// <summary>Where the parser fails: the end of the shortest prefix of the text on which it
    /// fails too (found by bisection, a few parses of a file already capped in size).</summary>
    static (int Line, int Col) FailurePosition(string text, string file)
    {
        int good = 0, bad = text.Length;
        while (bad - good > 1)
        {
            int mid = (good + bad) / 2;
            bool fails;
            try { SyntaxParser.Parse(text[..mid], file, validate: false); fails = false; }
            catch (Exception e) when (IsParserFailure(e)) { fails = true; }
            if (fails) bad = mid; else good = mid;
        }
        int at = Math.Max(0, bad - 1), lineStart = text.LastIndexOf('\n', Math.Max(0, at - 1)) + 1;
        return (text.AsSpan(0, lineStart).Count('\n') + 1, at - lineStart + 1);
    }

    /// <summary>Tomlyn's message on one line, without its trailing period, in the project's lower-case style.</summary>
    static string Describe(string message)
    {
        string m = string.Join(' ', message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries)).TrimEnd('.').Trim();
        return m.Length > 0 ? char.ToLowerInvariant(m[0]) + m[1..] : "invalid TOML";
    }

    void AddTable(TableSyntaxBase header)
    {
        var names = KeyNames(header.Name!);
        var (line, col) = Pos(header);
        var parent = Descend(_root, names.SkipLast(1), line, col);
        var last = names[^1];
        TomlTable table;
        if (header is TableArraySyntax)
        {
            if (!parent.TryGet(last.Name, out var existing))
            {
                existing = new TomlArray(file, line, col, parent.ChildPath(last.Name), ofTables: true);
                parent.Add(last.Name, existing);
            }
            var array = (TomlArray)existing;
            table = new TomlTable(file, line, col, $"{array.Path}[{array.Count}]", TableOrigin.Header);
            array.Add(table);
        }
        else if (parent.TryGet(last.Name, out var existing) && existing is TomlTable implicitTable)
        {
            table = implicitTable; // created as the parent of an earlier [a.b]; Tomlyn checked the redefinition rules
            table.Line = line;
            table.Column = col;
        }
        else
        {
            // A table made by a header is reported at its header.
            table = new TomlTable(file, line, col, parent.ChildPath(last.Name), TableOrigin.Header);
            parent.Add(last.Name, table);
        }
        foreach (var kv in header.Items) AddKeyValue(table, kv);
    }

    /// <summary>The tables a dotted path names, made (implicitly) where missing; an array of
    /// tables stands for its last element, as TOML says.</summary>
    TomlTable Descend(TomlTable table, IEnumerable<KeyName> path, int line, int col)
    {
        foreach (var part in path)
        {
            if (!table.TryGet(part.Name, out var next))
            {
                next = new TomlTable(file, line, col, table.ChildPath(part.Name), TableOrigin.Implicit) { KeyLine = part.Line, KeyColumn = part.Col };
                table.Add(part.Name, next);
            }
            table = next switch
            {
                TomlTable t => t,
                TomlArray { Count: > 0 } a when a[a.Count - 1] is TomlTable last => last,
                _ => throw next.Error($"is {TomlValue.Describe(next.Kind)}, not a table"),
            };
        }
        return table;
    }

    void AddKeyValue(TomlTable table, KeyValueSyntax kv)
    {
        var names = KeyNames(kv.Key!);
        var (line, col) = Pos(kv);
        var parent = Descend(table, names.SkipLast(1), line, col);
        var last = names[^1];
        var value = Value(kv.Value!, parent.ChildPath(last.Name));
        value.KeyLine = last.Line;
        value.KeyColumn = last.Col;
        parent.Add(last.Name, value);
    }

    TomlValue Value(ValueSyntax syntax, string path)
    {
        var (line, col) = Pos(syntax);
        switch (syntax)
        {
            case StringValueSyntax s:
                // A multi-line string's newlines are "\n" whatever the file's line endings (TOML lets parsers normalize).
                string text = s.Token?.Text is { } raw && (raw.StartsWith("\"\"\"") || raw.StartsWith("'''"))
                    ? (s.Value ?? "").Replace("\r\n", "\n") : s.Value ?? "";
                return new TomlString(file, line, col, path, text);
            case IntegerValueSyntax i:
                // Tomlyn reads 0x8000000000000000 and above as negative; TOML says integers are signed 64-bit.
                if (i.Value < 0 && i.Token?.Text is { } digits && digits.Length > 1 && digits[0] == '0' && digits[1] is 'x' or 'o' or 'b')
                    throw new TomlException(file, line, col, path, $"invalid number '{digits}': does not fit in a 64-bit integer");
                return new TomlInteger(file, line, col, path, i.Value);
            case BooleanValueSyntax b: return new TomlBoolean(file, line, col, path, b.Value);
            case FloatValueSyntax f: return new TomlFloat(file, line, col, path, f.Value);
            case ArraySyntax a:
                var array = new TomlArray(file, line, col, path, ofTables: false);
                foreach (var item in a.Items) array.Add(Value(item.Value!, $"{path}[{array.Count}]"));
                return array;
            case InlineTableSyntax t:
                var table = new TomlTable(file, line, col, path, TableOrigin.Inline);
                foreach (var item in t.Items) AddKeyValue(table, item.KeyValue!);
                return table;
            default:
                throw new TomlException(file, line, col, path, "dates and times are not supported in universe files");
        }
    }

    sealed record KeyName(string Name, int Line, int Col);

    List<KeyName> KeyNames(KeySyntax key)
    {
        var names = new List<KeyName> { Name(key.Key!) };
        foreach (var dotted in key.DotKeys) names.Add(Name(dotted.Key!));
        return names;
    }

    static KeyName Name(BareKeyOrStringValueSyntax key)
    {
        var (line, col) = Pos(key);
        return key switch
        {
            BareKeySyntax bare => new KeyName(bare.Key!.Text!, line, col),
            StringValueSyntax s => new KeyName(s.Value ?? "", line, col),
            _ => new KeyName(key.ToString()!, line, col),
        };
    }

    static (int Line, int Col) Pos(SyntaxNodeBase node) => (node.Span.Start.Line + 1, node.Span.Start.Column + 1);
}
