namespace NestedApic.Scenarios.Toml;

// Values: dispatch, arrays, inline tables and unquoted tokens (booleans, numbers, rejected dates).
internal sealed partial class TomlParser
{
    private TomlValue ParseValue(string path, int depth)
    {
        int line = _line, col = Col;
        switch (Cur)
        {
            case '"':
                return new TomlString(_file, line, col, path,
                    Peek(1) == '"' && Peek(2) == '"' ? ParseMultiLineBasicString() : ParseBasicString());
            case '\'':
                return new TomlString(_file, line, col, path,
                    Peek(1) == '\'' && Peek(2) == '\'' ? ParseMultiLineLiteralString() : ParseLiteralString());
            case '[':
                return ParseArray(path, depth + 1);
            case '{':
                return ParseInlineTable(path, depth + 1);
        }
        int start = _pos;
        while (TomlChars.IsTokenChar(Cur)) Advance();
        if (_pos == start) throw Err($"expected a value, found {TomlChars.Describe(Cur)}");
        return ParseToken(_text[start.._pos], path, line, col);
    }

    private TomlArray ParseArray(string path, int depth)
    {
        int line = _line, col = Col;
        if (depth > MaxDepth) throw Err("arrays and inline tables are nested too deeply");
        var array = new TomlArray(_file, line, col, path, ofTables: false);
        Advance();
        while (true)
        {
            SkipBlank();
            if (Cur == ']') break;
            if (Cur == -1) throw Err(line, col, "unclosed array: missing ']'");
            _key = $"{path}[{array.Count}]";
            array.Add(ParseValue(_key, depth));
            _key = path;
            SkipBlank();
            if (Cur == ']') break;
            if (Cur == -1) throw Err(line, col, "unclosed array: missing ']'");
            if (Cur != ',')
                throw Err($"expected ',' or ']' in the array opened at {line}:{col}, found {TomlChars.Describe(Cur)}");
            Advance();
        }
        Advance();
        return array;
    }

    // TOML 1.0 inline tables: one line, no trailing comma, closed once parsed.
    private TomlTable ParseInlineTable(string path, int depth)
    {
        int line = _line, col = Col;
        if (depth > MaxDepth) throw Err("arrays and inline tables are nested too deeply");
        var table = new TomlTable(_file, line, col, path, TableOrigin.Dotted);
        Advance();
        SkipWs();
        if (Cur != '}')
        {
            while (true)
            {
                CheckInlineLine(line, col);
                ParseKeyValue(table, depth);
                _key = path; // errors about the table itself name the table
                SkipWs();
                if (Cur == '}') break;
                CheckInlineLine(line, col);
                if (Cur != ',')
                    throw Err($"expected ',' or '}}' in the inline table opened at {line}:{col}, found {TomlChars.Describe(Cur)}");
                Advance();
                SkipWs();
                if (Cur == '}') throw Err("a trailing comma is not allowed in an inline table");
            }
        }
        Advance();
        _key = path;
        // Inline dotted sub-tables were Dotted while parsing so that a = { b.c = 1, b.d = 2 } works.
        table.Origin = TableOrigin.Inline;
        return table;
    }

    private void CheckInlineLine(int line, int col)
    {
        if (Cur == -1) throw Err(line, col, "unclosed inline table: missing '}'");
        if (Cur is '\n' or '\r') throw Err("an inline table must be on one line (missing '}'?)");
    }
}
