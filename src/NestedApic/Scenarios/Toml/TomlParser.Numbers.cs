using System.Globalization;

namespace NestedApic.Scenarios.Toml;

// Unquoted tokens: booleans, integers (decimal, 0x, 0o, 0b), floats, inf/nan; dates are refused.
internal sealed partial class TomlParser
{
    private TomlValue ParseToken(string token, string path, int line, int col)
    {
        switch (token)
        {
            case "true": return new TomlBoolean(_file, line, col, path, true);
            case "false": return new TomlBoolean(_file, line, col, path, false);
            case "inf" or "+inf": return new TomlFloat(_file, line, col, path, double.PositiveInfinity);
            case "-inf": return new TomlFloat(_file, line, col, path, double.NegativeInfinity);
            case "nan" or "+nan" or "-nan": return new TomlFloat(_file, line, col, path, double.NaN);
        }
        if (LooksLikeDate(token)) throw Err(line, col, "dates and times are not supported");
        if (char.IsAsciiLetter(token[0]))
            throw Err(line, col, $"expected a value, found '{token}' (strings must be quoted)");

        string? why = null;
        if (token.Length > 2 && token[0] == '0' && token[1] is 'x' or 'o' or 'b')
        {
            if (ParseRadix(token, out var n, ref why)) return new TomlInteger(_file, line, col, path, n);
        }
        else if (token.Length > 3 && token[0] is '+' or '-' && token[1] == '0' && token[2] is 'x' or 'o' or 'b')
            why = "a hexadecimal, octal or binary integer cannot have a sign";
        else if (token.IndexOfAny(['.', 'e', 'E']) >= 0)
        {
            if (ParseFloat(token, out var d, ref why)) return new TomlFloat(_file, line, col, path, d);
        }
        else if (ParseDecimal(token, out var n, ref why))
            return new TomlInteger(_file, line, col, path, n);
        throw Err(line, col, why == null ? $"invalid number '{token}'" : $"invalid number '{token}': {why}");
    }

    // 1979-05-27 or 07:32:00: reject clearly instead of as a bad number.
    private static bool LooksLikeDate(string t) =>
        (t.Length >= 5 && t[..4].All(TomlChars.IsDigit) && t[4] == '-')
        || (t.Length >= 3 && TomlChars.IsDigit(t[0]) && TomlChars.IsDigit(t[1]) && t[2] == ':');

    /// <summary>Digits with single underscores between them; returns the digits, or null.</summary>
    private static string? Digits(ReadOnlySpan<char> s, Func<char, bool> isDigit)
    {
        if (s.Length == 0 || !isDigit(s[0]) || !isDigit(s[^1])) return null;
        var sb = new System.Text.StringBuilder(s.Length);
        for (int i = 0; i < s.Length; i++)
        {
            if (s[i] == '_' && isDigit(s[i + 1]) && isDigit(s[i - 1])) continue;
            if (!isDigit(s[i])) return null;
            sb.Append(s[i]);
        }
        return sb.ToString();
    }

    private static bool ParseDecimal(string token, out long value, ref string? why)
    {
        value = 0;
        bool neg = token[0] == '-';
        int skip = token[0] is '+' or '-' ? 1 : 0;
        var digits = Digits(token.AsSpan(skip), TomlChars.IsDigit);
        if (digits == null) return false;
        if (digits.Length > 1 && digits[0] == '0') { why = "leading zeros are not allowed"; return false; }
        if (long.TryParse(neg ? "-" + digits : digits, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value))
            return true;
        why = "does not fit in a 64-bit integer";
        return false;
    }

    private static bool ParseRadix(string token, out long value, ref string? why)
    {
        value = 0;
        int bits = token[1] switch { 'x' => 4, 'o' => 3, _ => 1 };
        Func<char, bool> isDigit = bits switch
        {
            4 => char.IsAsciiHexDigit,
            3 => c => c is >= '0' and <= '7',
            _ => c => c is '0' or '1',
        };
        var digits = Digits(token.AsSpan(2), isDigit);
        if (digits == null) return false;
        ulong acc = 0;
        foreach (var c in digits)
        {
            if (acc > (ulong)long.MaxValue >> bits) { why = "does not fit in a 64-bit integer"; return false; }
            acc = (acc << bits) | (uint)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
        }
        if (acc > long.MaxValue) { why = "does not fit in a 64-bit integer"; return false; }
        value = (long)acc;
        return true;
    }

    // [sign] int [. frac] [e [sign] exp], with at least a fraction or an exponent.
    private static bool ParseFloat(string token, out double value, ref string? why)
    {
        value = 0;
        var s = token.AsSpan(token[0] is '+' or '-' ? 1 : 0);
        int e = s.IndexOfAny('e', 'E');
        var mantissa = e >= 0 ? s[..e] : s;
        int dot = mantissa.IndexOf('.');
        var intPart = Digits(dot >= 0 ? mantissa[..dot] : mantissa, TomlChars.IsDigit);
        if (intPart == null) return false;
        if (intPart.Length > 1 && intPart[0] == '0') { why = "leading zeros are not allowed"; return false; }
        var clean = (token[0] == '-' ? "-" : "") + intPart;
        if (dot >= 0)
        {
            var frac = Digits(mantissa[(dot + 1)..], TomlChars.IsDigit);
            if (frac == null) return false;
            clean += "." + frac;
        }
        if (e >= 0)
        {
            var exp = s[(e + 1)..];
            var sign = exp.Length > 0 && exp[0] is '+' or '-' ? exp[..1].ToString() : "";
            var expDigits = Digits(exp[sign.Length..], TomlChars.IsDigit);
            if (expDigits == null) return false;
            clean += "e" + sign + expDigits;
        }
        value = double.Parse(clean, NumberStyles.Float, CultureInfo.InvariantCulture);
        if (!double.IsInfinity(value)) return true;
        why = "out of range for a 64-bit float";
        return false;
    }
}
