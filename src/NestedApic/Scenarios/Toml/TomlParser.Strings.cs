using System.Text;

namespace NestedApic.Scenarios.Toml;

// Basic "..." and literal '...' strings, single- and multi-line. Newlines come out as '\n'.
internal sealed partial class TomlParser
{
    private string ParseBasicString()
    {
        int line = _line, col = Col;
        Advance();
        var sb = new StringBuilder();
        while (Cur != '"')
        {
            if (Cur is -1 or '\n' or '\r') throw Err(line, col, "unterminated string: missing closing '\"'");
            if (Cur == '\\') ParseEscape(sb);
            else AppendChar(sb, "a string");
        }
        Advance();
        return sb.ToString();
    }

    private string ParseLiteralString()
    {
        int line = _line, col = Col;
        Advance();
        var sb = new StringBuilder();
        while (Cur != '\'')
        {
            if (Cur is -1 or '\n' or '\r') throw Err(line, col, "unterminated string: missing closing \"'\"");
            AppendChar(sb, "a string");
        }
        Advance();
        return sb.ToString();
    }

    private string ParseMultiLineBasicString()
    {
        int line = _line, col = Col;
        Advance(); Advance(); Advance();
        if (AtNewline) ConsumeNewline(); // a newline right after the opening quotes is trimmed
        var sb = new StringBuilder();
        while (!AtClosing('"', sb))
        {
            if (Cur == -1) throw Err(line, col, "unterminated string: missing closing '\"\"\"'");
            if (Cur == '\\' && IsLineEndingBackslash()) SkipLineEndingBackslash();
            else if (Cur == '\\') ParseEscape(sb);
            else AppendMultiLineChar(sb);
        }
        return sb.ToString();
    }

    private string ParseMultiLineLiteralString()
    {
        int line = _line, col = Col;
        Advance(); Advance(); Advance();
        if (AtNewline) ConsumeNewline();
        var sb = new StringBuilder();
        while (!AtClosing('\'', sb))
        {
            if (Cur == -1) throw Err(line, col, "unterminated string: missing closing \"'''\"");
            AppendMultiLineChar(sb);
        }
        return sb.ToString();
    }

    // Three to five quotes end the string; up to two of them belong to the content.
    private bool AtClosing(char quote, StringBuilder sb)
    {
        int n = 0;
        while (Peek(n) == quote) n++;
        if (n < 3) return false;
        if (n > 5) throw Err("too many quotes at the end of a multi-line string");
        sb.Append(quote, n - 3);
        for (int i = 0; i < n; i++) Advance();
        return true;
    }

    private void AppendMultiLineChar(StringBuilder sb)
    {
        if (Cur is '\n' or '\r')
        {
            ConsumeNewline();
            sb.Append('\n');
        }
        else AppendChar(sb, "a string");
    }

    private void AppendChar(StringBuilder sb, string where)
    {
        if (TomlChars.IsForbiddenControl(Cur))
            throw Err($"control character {TomlChars.Describe(Cur)} is not allowed in {where}; use an escape");
        sb.Append((char)Cur);
        Advance();
    }

    // "\" then optional blanks then a newline: the newline and following whitespace are dropped.
    private bool IsLineEndingBackslash()
    {
        int i = 1;
        while (Peek(i) is ' ' or '\t') i++;
        return Peek(i) == '\n' || (Peek(i) == '\r' && Peek(i + 1) == '\n');
    }

    private void SkipLineEndingBackslash()
    {
        Advance();
        while (Cur is ' ' or '\t' or '\n' or '\r')
        {
            if (Cur == '\r') ConsumeNewline();
            else Advance();
        }
    }

    private void ParseEscape(StringBuilder sb)
    {
        int line = _line, col = Col;
        Advance();
        int c = Cur;
        switch (c)
        {
            case 'b': sb.Append('\b'); break;
            case 't': sb.Append('\t'); break;
            case 'n': sb.Append('\n'); break;
            case 'f': sb.Append('\f'); break;
            case 'r': sb.Append('\r'); break;
            case '"': sb.Append('"'); break;
            case '\\': sb.Append('\\'); break;
            case 'u' or 'U':
                Advance();
                sb.Append(ParseUnicodeEscape(c == 'u' ? 4 : 8, line, col));
                return;
            default:
                var shown = c is -1 or '\n' or '\r' || c < 0x20 ? $"'\\' followed by {TomlChars.Describe(c)}" : $"'\\{(char)c}'";
                throw Err(line, col, $"invalid escape sequence {shown}");
        }
        Advance();
    }

    private string ParseUnicodeEscape(int length, int line, int col)
    {
        int value = 0;
        for (int i = 0; i < length; i++)
        {
            if (Cur == -1 || !char.IsAsciiHexDigit((char)Cur))
                throw Err(line, col, $"invalid unicode escape: expected {length} hex digits");
            value = value * 16 + (Cur <= '9' ? Cur - '0' : (Cur | 0x20) - 'a' + 10);
            if (value > 0x10FFFF) break;
            Advance();
        }
        if (value > 0x10FFFF || value is >= 0xD800 and <= 0xDFFF)
            throw Err(line, col, "invalid unicode escape: not a Unicode scalar value");
        return char.ConvertFromUtf32(value);
    }
}
