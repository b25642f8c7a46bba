using NestedApic.Scenarios.Toml;

namespace NestedApic.Tests.Scenarios.Toml;

using Toml = NestedApic.Scenarios.Toml.Toml;

/// <summary>Tomlyn's diagnostics as the project shows them: one line, FILE:LINE:COL, then the
/// reason; and the checks the reader adds on top (dates, 64-bit hex, nesting, parser failures).</summary>
public class TomlErrorTests
{
    private static TomlException Fail(string text) =>
        Assert.Throws<TomlException>(() => Toml.Parse(text, "u.toml"));

    [Theory]
    // duplicates and redefinitions (Tomlyn's validator)
    [InlineData("a = 1\na = 2", "u.toml:2:1: ", "the key `a` is already defined at (1,1)")]
    [InlineData("t = {a = 1, a = 2}", "u.toml:1:13: ", "the key `t.a` is already defined")]
    [InlineData("[t]\nx = 1\n[t]", "u.toml:3:1: ", "the key `t` is already defined")]
    [InlineData("[t.u]\nx = 1\n[t]\nu = 2", "u.toml:4:1: ", "the key `t.u` is already defined")]
    [InlineData("a.b = 1\n[a]", "u.toml:2:1: ", "the key `a` is already defined")]
    [InlineData("[a.b]\n[a]\nb.c = 1", "u.toml:3:1: ", "the key `a.b` is already defined")]
    [InlineData("a = {x = 1}\n[a]", "u.toml:2:1: ", "the key `a` is already defined")]
    [InlineData("a = {x = 1}\na.y = 2", "u.toml:2:1: ", "the key `a` is already defined")]
    [InlineData("a = [1]\n[[a]]", "u.toml:2:1: ", "the key `a` is already defined")]
    [InlineData("[[a]]\n[a]", "u.toml:2:1: ", "the key `a` is already defined")]
    [InlineData("[[v]]\nx = 1\nx = 2", "u.toml:3:1: ", "the key `v.x` is already defined at (2,1)")]
    [InlineData("a = 1\na.b = 2", "u.toml:2:1: ", "cannot be redefined")]
    [InlineData("a = 1\n[a.b]", "u.toml:2:2: ", "cannot be redefined")]
    // strings
    [InlineData("s = \"ab\\qc\"", "u.toml:1:9: ", "unexpected escape character [q] in string")]
    [InlineData("s = \"\\uD800\"", "u.toml:1:7: ", "invalid Unicode scalar value [D800]")]
    [InlineData("s = \"abc\nt = 1", "u.toml:1:9: ", "invalid newline in a string")]
    [InlineData("s = 'abc", "u.toml:1:8: ", "invalid End-Of-File found on string literal")]
    [InlineData("\n\ns = \"\"\"abc\n", "u.toml:3:11: ", "invalid End-Of-File found for multi-line string")]
    [InlineData("s = \"a\u0001\"", "u.toml:1:5: ", "invalid control character")]
    // keys, '=' and end of line
    [InlineData("name \"x\"", "u.toml:1:6: ", "expecting `=` after a key")]
    [InlineData("= 1", "u.toml:1:1: ", "unexpected token [=] found")]
    [InlineData("a = 1 2", "u.toml:1:7: ", "while expecting token `newline`")]
    [InlineData("[t] x = 1", "u.toml:1:5: ", "while expecting token `newline`")]
    [InlineData("a = 1\rb = 2", "u.toml:1:6: ", "invalid \\r not followed by \\n")]
    [InlineData("# bell \u0007", "u.toml:1:8: ", "invalid control character U+0007 in comment")]
    // values and numbers
    [InlineData("a =", "u.toml:1:4: ", "for a value")]
    [InlineData("s = hello", "u.toml:1:5: ", "unexpected token `hello` for a value")]
    [InlineData("n = 012", "u.toml:1:5: ", "unexpected leading zero")]
    [InlineData("n = 1__0", "u.toml:1:7: ", "an underscore `_` must follow a digit")]
    [InlineData("n = 0xG1", "u.toml:1:5: ", "unexpected token `0x` for a value")]
    [InlineData("n = 9223372036854775808", "u.toml:1:5: ", "unable to parse integer `9223372036854775808`")]
    [InlineData("n = 0x8000000000000000", "u.toml:1:5: ", "key 'n': invalid number '0x8000000000000000': does not fit in a 64-bit integer")]
    [InlineData("d = 1979-05-27", "u.toml:1:5: ", "key 'd': dates and times are not supported")]
    [InlineData("t = 07:32:00", "u.toml:1:5: ", "key 't': dates and times are not supported")]
    // arrays, inline tables, headers
    [InlineData("a = [1, 2\nb = 3", "u.toml:2:1: ", "Expecting a closing `]` for an array")]
    [InlineData("a = [1 2]", "u.toml:1:8: ", "missing a `,`")]
    [InlineData("t = { a = 1 b = 2 }", "u.toml:1:13: ", "while parsing inline table")]
    [InlineData("[a", "u.toml:1:3: ", "while expecting `]`")]
    [InlineData("[]", "u.toml:1:2: ", "unexpected token `]` for a base key")]
    // what Tomlyn throws instead of reporting: positioned by the reader
    [InlineData("a = 1\nb = \"x\\u0", "u.toml:2:7: ", "invalid TOML here")]
    public void Messages_AreOneLine_WithFileLineColumn(string text, string position, string reason)
    {
        string message = Fail(text).Message;
        Assert.StartsWith(position, message);
        Assert.Contains(reason, message);
        Assert.DoesNotContain('\n', message);
    }

    [Fact]
    public void ExceptionCarriesFileLineColumnKeyAndReason()
    {
        var e = Assert.Throws<TomlException>(() => Toml.Parse("a = 1\n[b]\nc = 1979-05-27", "dir/universe.toml"));
        Assert.Equal(("dir/universe.toml", 3, 5, "b.c"), (e.File, e.Line, e.Column, e.Key));
        Assert.Equal("dir/universe.toml:3:5: key 'b.c': dates and times are not supported in universe files", e.Message);
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
        Assert.True(e.Column > 4);
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
