namespace NestedApic.Scenarios.Toml;

/// <summary>
/// Recursive-descent parser over the raw text. This file holds the cursor, the document loop,
/// headers and keys with TOML's table-definition rules; values are in the other partial files.
/// </summary>
internal sealed partial class TomlParser
{
    // Deep [[[[ or {{{{ nesting would otherwise overflow the stack, which cannot be caught.
    private const int MaxDepth = 100;

    private readonly string _text;
    private readonly string _file;
    private readonly TomlTable _root;
    private int _pos;
    private int _line = 1;
    private int _lineStart;
    private TomlTable _current;
    // Key path the parser is working on, so syntax errors inside a value name the key.
    private string? _key;

    public TomlParser(string text, string file)
    {
        _text = text;
        _file = file;
        _root = new TomlTable(file, 1, 1, "", TableOrigin.Header);
        _current = _root;
        if (_text.Length > 0 && _text[0] == '\uFEFF') _pos = _lineStart = 1;
    }

    private int Cur => _pos < _text.Length ? _text[_pos] : -1;
    private int Peek(int ahead) => _pos + ahead < _text.Length ? _text[_pos + ahead] : -1;
    private int Col => _pos - _lineStart + 1;
    private bool AtNewline => Cur == '\n' || (Cur == '\r' && Peek(1) == '\n');

    private void Advance()
    {
        if (_pos >= _text.Length) return;
        if (_text[_pos] == '\n')
        {
            _line++;
            _lineStart = _pos + 1;
        }
        _pos++;
    }

    private TomlException Err(string reason) => new(_file, _line, Col, _key, reason);
    private TomlException Err(int line, int col, string reason) => new(_file, line, col, _key, reason);

    public TomlTable ParseDocument()
    {
        while (Cur != -1)
        {
            _key = null;
            SkipWs();
            if (Cur == '[')
            {
                ParseHeader();
                ExpectEndOfLine("the table header");
            }
            else if (Cur is not ('#' or '\n' or '\r' or -1))
            {
                ParseKeyValue(_current, 0);
                ExpectEndOfLine("the value");
            }
            else ExpectEndOfLine("whitespace");
        }
        return _root;
    }

    private void SkipWs()
    {
        while (Cur is ' ' or '\t') Advance();
    }

    private void SkipComment()
    {
        if (Cur != '#') return;
        Advance();
        while (Cur != -1 && !AtNewline)
        {
            if (TomlChars.IsForbiddenControl(Cur))
                throw Err($"control character {TomlChars.Describe(Cur)} is not allowed in a comment");
            Advance();
        }
    }

    private void ConsumeNewline()
    {
        if (Cur == '\r')
        {
            if (Peek(1) != '\n') throw Err("a carriage return must be followed by a line feed");
            Advance();
        }
        Advance();
    }

    /// <summary>Whitespace, an optional comment, then a newline or the end of the file.</summary>
    private void ExpectEndOfLine(string after)
    {
        SkipWs();
        SkipComment();
        if (Cur == -1) return;
        if (Cur != '\n' && Cur != '\r') throw Err($"expected end of line after {after}, found {TomlChars.Describe(Cur)}");
        ConsumeNewline();
    }

    /// <summary>Whitespace, comments and newlines, as allowed between array items.</summary>
    private void SkipBlank()
    {
        while (true)
        {
            SkipWs();
            if (Cur == '#') SkipComment();
            else if (Cur is '\n' or '\r') ConsumeNewline();
            else return;
        }
    }

    private readonly record struct KeyPart(string Name, int Line, int Col);

    /// <summary>A dotted key: simple keys separated by '.', with optional blanks around dots.</summary>
    private List<KeyPart> ParseKey()
    {
        var parts = new List<KeyPart>();
        while (true)
        {
            int line = _line, col = Col;
            string name;
            if (Cur == '"')
            {
                if (Peek(1) == '"' && Peek(2) == '"') throw Err("a multi-line string cannot be a key");
                name = ParseBasicString();
            }
            else if (Cur == '\'')
            {
                if (Peek(1) == '\'' && Peek(2) == '\'') throw Err("a multi-line string cannot be a key");
                name = ParseLiteralString();
            }
            else
            {
                int start = _pos;
                while (Cur != -1 && TomlChars.IsBareKeyChar((char)Cur)) Advance();
                if (_pos == start) throw Err($"expected a key, found {TomlChars.Describe(Cur)}");
                name = _text[start.._pos];
            }
            parts.Add(new KeyPart(name, line, col));
            SkipWs();
            if (Cur != '.') return parts;
            Advance();
            SkipWs();
        }
    }

    private static string PathOf(string parent, List<KeyPart> parts, int count)
    {
        var path = parent;
        for (int i = 0; i < count; i++) path = TomlTable.ChildPath(path, parts[i].Name);
        return path;
    }

    /// <summary><c>key = value</c> into <paramref name="table"/>, creating tables for dotted keys.</summary>
    private void ParseKeyValue(TomlTable table, int depth)
    {
        var parts = ParseKey();
        _key = PathOf(table.Path, parts, parts.Count);
        if (Cur != '=') throw Err($"expected '=' after the key, found {TomlChars.Describe(Cur)}");
        Advance();
        SkipWs();

        var target = table;
        for (int i = 0; i < parts.Count - 1; i++) target = DescendDotted(target, parts[i]);
        var last = parts[^1];
        if (target.TryGet(last.Name, out var existing))
            throw Err(last.Line, last.Col, Redefined(existing));

        var value = ParseValue(_key, depth);
        value.KeyLine = last.Line;
        value.KeyColumn = last.Col;
        target.Add(last.Name, value);
    }

    // A dotted key may only pass through tables that dotted keys created (TOML 1.0).
    private TomlTable DescendDotted(TomlTable table, KeyPart part)
    {
        var path = table.ChildPath(part.Name);
        if (!table.TryGet(part.Name, out var v))
        {
            var t = new TomlTable(_file, part.Line, part.Col, path, TableOrigin.Dotted);
            table.Add(part.Name, t);
            return t;
        }
        if (v is TomlTable { Origin: TableOrigin.Dotted } dotted) return dotted;
        _key = path;
        throw Err(part.Line, part.Col, v is TomlTable { Origin: TableOrigin.Inline }
            ? $"cannot add keys to the inline table defined at line {v.Line}"
            : v is TomlTable
                ? $"the table defined by a header at line {v.Line} cannot be extended with dotted keys"
                : $"already defined as {TomlValue.Describe(v.Kind)} at line {v.KeyLine}; it cannot be used as a table");
    }

    private static string Redefined(TomlValue existing) => existing is TomlTable
        ? $"duplicate key; already defined as a table at line {existing.KeyLine}"
        : $"duplicate key; first defined at line {existing.KeyLine}";
}
