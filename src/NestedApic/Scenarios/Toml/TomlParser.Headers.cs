namespace NestedApic.Scenarios.Toml;

// [table] and [[array.of.tables]] headers, with TOML's rules on which tables may be (re)opened.
internal sealed partial class TomlParser
{
    private void ParseHeader()
    {
        int line = _line, col = Col;
        Advance();
        bool arrayOfTables = Cur == '[';
        if (arrayOfTables) Advance();
        SkipWs();
        var parts = ParseKey();
        _key = PathOf("", parts, parts.Count);
        var close = arrayOfTables ? "]]" : "]";
        if (Cur != ']' || (arrayOfTables && Peek(1) != ']'))
        {
            if (Cur == ']') Advance();
            throw Err($"expected '{close}' to close the table header, found {TomlChars.Describe(Cur)}");
        }
        Advance();
        if (arrayOfTables) Advance();

        var table = _root;
        for (int i = 0; i < parts.Count - 1; i++) table = DescendHeader(table, parts[i], line, col);
        var last = parts[^1];
        _key = table.ChildPath(last.Name); // the real path, with [i] of any array of tables
        _current = arrayOfTables ? AppendTable(table, last, line, col) : DefineTable(table, last, line, col);
    }

    // A header may pass through any table except an inline one, and into the last [[element]].
    private TomlTable DescendHeader(TomlTable table, KeyPart part, int line, int col)
    {
        var path = table.ChildPath(part.Name);
        if (!table.TryGet(part.Name, out var v))
        {
            var t = new TomlTable(_file, line, col, path, TableOrigin.Implicit);
            table.Add(part.Name, t);
            return t;
        }
        switch (v)
        {
            case TomlTable { Origin: TableOrigin.Inline }:
                _key = path;
                throw Err(part.Line, part.Col, $"cannot add keys to the inline table defined at line {v.Line}");
            case TomlTable t:
                return t;
            case TomlArray { IsArrayOfTables: true } a:
                return (TomlTable)a[a.Count - 1];
            default:
                _key = path;
                throw Err(part.Line, part.Col,
                    $"already defined as {TomlValue.Describe(v.Kind)} at line {v.KeyLine}; it cannot be used as a table");
        }
    }

    private TomlTable DefineTable(TomlTable parent, KeyPart part, int line, int col)
    {
        if (!parent.TryGet(part.Name, out var v))
        {
            var t = new TomlTable(_file, line, col, _key!, TableOrigin.Header);
            parent.Add(part.Name, t);
            return t;
        }
        if (v is TomlTable { Origin: TableOrigin.Implicit } implicitTable)
        {
            // First explicit definition of a table so far only implied by [a.b]: it lives here now.
            implicitTable.Origin = TableOrigin.Header;
            implicitTable.Line = implicitTable.KeyLine = line;
            implicitTable.Column = implicitTable.KeyColumn = col;
            return implicitTable;
        }
        throw Err(line, col, v switch
        {
            TomlTable { Origin: TableOrigin.Header } => $"table is already defined at line {v.Line}",
            TomlTable { Origin: TableOrigin.Dotted } => $"table is already defined by dotted keys at line {v.Line}",
            TomlTable => $"table is already defined as an inline table at line {v.KeyLine}",
            TomlArray { IsArrayOfTables: true } => $"already defined as an array of tables at line {v.Line}",
            _ => $"already defined as {TomlValue.Describe(v.Kind)} at line {v.KeyLine}",
        });
    }

    private TomlTable AppendTable(TomlTable parent, KeyPart part, int line, int col)
    {
        TomlArray array;
        if (!parent.TryGet(part.Name, out var v))
        {
            array = new TomlArray(_file, line, col, _key!, ofTables: true);
            parent.Add(part.Name, array);
        }
        else if (v is TomlArray { IsArrayOfTables: true } a)
            array = a;
        else
            throw Err(line, col, v is TomlArray
                ? $"cannot append to the static array defined at line {v.KeyLine}"
                : $"already defined as {TomlValue.Describe(v.Kind)} at line {v.KeyLine}");

        var element = new TomlTable(_file, line, col, $"{_key}[{array.Count}]", TableOrigin.Header);
        array.Add(element);
        return element;
    }
}
