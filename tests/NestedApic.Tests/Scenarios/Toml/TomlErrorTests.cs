using NestedApic.Scenarios.Toml;

namespace NestedApic.Tests.Scenarios.Toml;

using Toml = NestedApic.Scenarios.Toml.Toml;

public class TomlErrorTests
{
    private static TomlException Fail(string text) =>
        Assert.Throws<TomlException>(() => Toml.Parse(text, "u.toml"));

    [Theory]
    // duplicates and redefinitions
    [InlineData("a = 1\na = 2", "u.toml:2:1: key 'a': duplicate key; first defined at line 1")]
    [InlineData("t = {a = 1, a = 2}", "u.toml:1:13: key 't.a': duplicate key; first defined at line 1")]
    [InlineData("[t]\nx = 1\n[t]", "u.toml:3:1: key 't': table is already defined at line 1")]
    [InlineData("[t.u]\nx = 1\n[t]\nu = 2", "u.toml:4:1: key 't.u': duplicate key; already defined as a table at line 1")]
    [InlineData("a.b = 1\n[a]", "u.toml:2:1: key 'a': table is already defined by dotted keys at line 1")]
    [InlineData("[a.b]\n[a]\nb.c = 1", "u.toml:3:1: key 'a.b': the table defined by a header at line 1 cannot be extended with dotted keys")]
    [InlineData("a = {x = 1}\n[a]", "u.toml:2:1: key 'a': table is already defined as an inline table at line 1")]
    [InlineData("a = {x = 1}\na.y = 2", "u.toml:2:1: key 'a': cannot add keys to the inline table defined at line 1")]
    [InlineData("a = {x = 1}\n[a.b]", "u.toml:2:2: key 'a': cannot add keys to the inline table defined at line 1")]
    [InlineData("a = {b = {c = 1}, b.d = 2}", "u.toml:1:19: key 'a.b': cannot add keys to the inline table defined at line 1")]
    [InlineData("a = [1]\n[[a]]", "u.toml:2:1: key 'a': cannot append to the static array defined at line 1")]
    [InlineData("[[a]]\n[a]", "u.toml:2:1: key 'a': already defined as an array of tables at line 1")]
    [InlineData("[[v]]\nx = 1\nx = 2", "u.toml:3:1: key 'v[0].x': duplicate key; first defined at line 2")]
    // a value reused as a table
    [InlineData("a = 1\na.b = 2", "u.toml:2:1: key 'a': already defined as an integer at line 1; it cannot be used as a table")]
    [InlineData("a = 1\n[a.b]", "u.toml:2:2: key 'a': already defined as an integer at line 1; it cannot be used as a table")]
    [InlineData("a = 1\n[a]", "u.toml:2:1: key 'a': already defined as an integer at line 1")]
    [InlineData("a = 'x'\n[[a]]", "u.toml:2:1: key 'a': already defined as a string at line 1")]
    // strings
    [InlineData("s = \"ab\\qc\"", "u.toml:1:8: key 's': invalid escape sequence '\\q'")]
    [InlineData("s = \"ab\\", "u.toml:1:8: key 's': invalid escape sequence '\\' followed by end of file")]
    [InlineData("s = \"\\uD800\"", "u.toml:1:6: key 's': invalid unicode escape: not a Unicode scalar value")]
    [InlineData("s = \"\\u12\"", "u.toml:1:6: key 's': invalid unicode escape: expected 4 hex digits")]
    [InlineData("s = \"abc\nt = 1", "u.toml:1:5: key 's': unterminated string: missing closing '\"'")]
    [InlineData("s = 'abc", "u.toml:1:5: key 's': unterminated string: missing closing \"'\"")]
    [InlineData("\n\ns = \"\"\"abc\n", "u.toml:3:5: key 's': unterminated string: missing closing '\"\"\"'")]
    [InlineData("s = '''abc", "u.toml:1:5: key 's': unterminated string: missing closing \"'''\"")]
    [InlineData("s = \"a\u0001\"", "u.toml:1:7: key 's': control character U+0001 is not allowed in a string; use an escape")]
    [InlineData("s = \"\"\"a\"\"\"\"\"\"", "u.toml:1:9: key 's': too many quotes at the end of a multi-line string")]
    [InlineData("a = [1, \"\\x\"]", "u.toml:1:10: key 'a[1]': invalid escape sequence '\\x'")]
    // keys, '=' and end of line
    [InlineData("name \"x\"", "u.toml:1:6: key 'name': expected '=' after the key, found '\"'")]
    [InlineData("name\n", "u.toml:1:5: key 'name': expected '=' after the key, found end of line")]
    [InlineData("= 1", "u.toml:1:1: expected a key, found '='")]
    [InlineData("a.= 1", "u.toml:1:3: expected a key, found '='")]
    [InlineData("\"\"\"k\"\"\" = 1", "u.toml:1:1: a multi-line string cannot be a key")]
    [InlineData("a = 1 2", "u.toml:1:7: key 'a': expected end of line after the value, found '2'")]
    [InlineData("a = \"x\" y", "u.toml:1:9: key 'a': expected end of line after the value, found 'y'")]
    [InlineData("a = [1] ]", "u.toml:1:9: key 'a': expected end of line after the value, found ']'")]
    [InlineData("[t] x = 1", "u.toml:1:5: key 't': expected end of line after the table header, found 'x'")]
    [InlineData("a = 1\rb = 2", "u.toml:1:6: key 'a': a carriage return must be followed by a line feed")]
    [InlineData("# bell \u0007", "u.toml:1:8: control character U+0007 is not allowed in a comment")]
    // values and numbers
    [InlineData("a =", "u.toml:1:4: key 'a': expected a value, found end of file")]
    [InlineData("a = \nb = 1", "u.toml:1:5: key 'a': expected a value, found end of line")]
    [InlineData("a = ,", "u.toml:1:5: key 'a': expected a value, found ','")]
    [InlineData("s = hello", "u.toml:1:5: key 's': expected a value, found 'hello' (strings must be quoted)")]
    [InlineData("b = True", "u.toml:1:5: key 'b': expected a value, found 'True' (strings must be quoted)")]
    [InlineData("n = 12x", "u.toml:1:5: key 'n': invalid number '12x'")]
    [InlineData("n = 012", "u.toml:1:5: key 'n': invalid number '012': leading zeros are not allowed")]
    [InlineData("n = 1__0", "u.toml:1:5: key 'n': invalid number '1__0'")]
    [InlineData("n = _1", "u.toml:1:5: key 'n': invalid number '_1'")]
    [InlineData("n = 1_", "u.toml:1:5: key 'n': invalid number '1_'")]
    [InlineData("n = 0x", "u.toml:1:5: key 'n': invalid number '0x'")]
    [InlineData("n = 0xG1", "u.toml:1:5: key 'n': invalid number '0xG1'")]
    [InlineData("n = 0o8", "u.toml:1:5: key 'n': invalid number '0o8'")]
    [InlineData("n = +0x10", "u.toml:1:5: key 'n': invalid number '+0x10': a hexadecimal, octal or binary integer cannot have a sign")]
    [InlineData("n = 9223372036854775808", "u.toml:1:5: key 'n': invalid number '9223372036854775808': does not fit in a 64-bit integer")]
    [InlineData("n = 0x8000000000000000", "u.toml:1:5: key 'n': invalid number '0x8000000000000000': does not fit in a 64-bit integer")]
    [InlineData("f = 1.", "u.toml:1:5: key 'f': invalid number '1.'")]
    [InlineData("f = .5", "u.toml:1:5: key 'f': invalid number '.5'")]
    [InlineData("f = 1e", "u.toml:1:5: key 'f': invalid number '1e'")]
    [InlineData("f = 1.2.3", "u.toml:1:5: key 'f': invalid number '1.2.3'")]
    [InlineData("f = 1e999", "u.toml:1:5: key 'f': invalid number '1e999': out of range for a 64-bit float")]
    [InlineData("d = 1979-05-27", "u.toml:1:5: key 'd': dates and times are not supported")]
    [InlineData("t = 07:32:00", "u.toml:1:5: key 't': dates and times are not supported")]
    // arrays and inline tables
    [InlineData("a = [1, 2", "u.toml:1:5: key 'a': unclosed array: missing ']'")]
    [InlineData("a = [1, 2,\n# c\n", "u.toml:1:5: key 'a': unclosed array: missing ']'")]
    [InlineData("a = [1, 2\nb = 3", "u.toml:2:1: key 'a': expected ',' or ']' in the array opened at 1:5, found 'b'")]
    [InlineData("a = [1 2]", "u.toml:1:8: key 'a': expected ',' or ']' in the array opened at 1:5, found '2'")]
    [InlineData("a = [,]", "u.toml:1:6: key 'a[0]': expected a value, found ','")]
    [InlineData("t = { a = 1", "u.toml:1:5: key 't': unclosed inline table: missing '}'")]
    [InlineData("t = { a = 1\n}", "u.toml:1:12: key 't': an inline table must be on one line (missing '}'?)")]
    [InlineData("t = { a = 1, }", "u.toml:1:14: key 't': a trailing comma is not allowed in an inline table")]
    [InlineData("t = { a = 1 b = 2 }", "u.toml:1:13: key 't': expected ',' or '}' in the inline table opened at 1:5, found 'b'")]
    [InlineData("t = { a }", "u.toml:1:9: key 't.a': expected '=' after the key, found '}'")]
    // headers
    [InlineData("[a", "u.toml:1:3: key 'a': expected ']' to close the table header, found end of file")]
    [InlineData("[[a]", "u.toml:1:5: key 'a': expected ']]' to close the table header, found end of file")]
    [InlineData("[a]]", "u.toml:1:4: key 'a': expected end of line after the table header, found ']'")]
    [InlineData("[]", "u.toml:1:2: expected a key, found ']'")]
    [InlineData("x = 1\n\n  [a.\"b\n", "u.toml:3:6: unterminated string: missing closing '\"'")]
    public void ExactMessages(string text, string expected) => Assert.Equal(expected, Fail(text).Message);

    [Fact]
    public void ExceptionCarriesFileLineColumnKeyAndReason()
    {
        var e = Assert.Throws<TomlException>(() => Toml.Parse("a = 1\n[b]\nc = \"\\q\"", "dir/universe.toml"));
        Assert.Equal(("dir/universe.toml", 3, 6, "b.c", "invalid escape sequence '\\q'"), (e.File, e.Line, e.Column, e.Key, e.Reason));
        Assert.Equal("dir/universe.toml:3:6: key 'b.c': invalid escape sequence '\\q'", e.Message);
    }

    [Fact]
    public void MessageFormatWithoutColumnOrKey()
    {
        Assert.Equal("f.toml:3: bad", new TomlException("f.toml", 3, 0, null, "bad").Message);
        Assert.Equal("f.toml:3: key 'a.b': bad", new TomlException("f.toml", 3, 0, "a.b", "bad").Message);
        Assert.Equal("f.toml: bad", new TomlException("f.toml", 0, 0, null, "bad").Message);
    }

    [Fact]
    public void DeepNestingIsAnErrorNotAStackOverflow()
    {
        var e = Fail("a = " + new string('[', 100_000));
        Assert.Equal("arrays and inline tables are nested too deeply", e.Reason);
        Assert.Equal(1, e.Line);
        Fail("a = " + string.Concat(Enumerable.Repeat("{b = ", 100_000)));
    }

    [Fact]
    public void ParseFileReportsUnreadableFile()
    {
        var path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "nestedapic-no-such-dir", "u.toml");
        var e = Assert.Throws<TomlException>(() => Toml.ParseFile(path));
        Assert.Equal(path, e.File);
        Assert.StartsWith(path + ": cannot read file: ", e.Message);
    }
}
