using NestedApic.Scenarios.Toml;

namespace NestedApic.Tests.Scenarios.Toml;

using Toml = NestedApic.Scenarios.Toml.Toml;

public class TomlParseTests
{
    private static TomlTable P(string text) => Toml.Parse(text, "u.toml");

    [Fact]
    public void ScalarsWithPositionsAndPaths()
    {
        var t = P("# header comment\n\nname = \"smoke\"  # trailing\n  vcpus = 4\nfast = true\nratio = 0.5\n");
        Assert.Equal(["name", "vcpus", "fast", "ratio"], t.Keys);
        var name = Assert.IsType<TomlString>(t["name"]);
        Assert.Equal(("smoke", 3, 8, "name", "u.toml"), (name.Value, name.Line, name.Column, name.Path, name.File));
        var vcpus = Assert.IsType<TomlInteger>(t["vcpus"]);
        Assert.Equal((4L, 4, 11), (vcpus.Value, vcpus.Line, vcpus.Column));
        Assert.True(Assert.IsType<TomlBoolean>(t["fast"]).Value);
        Assert.Equal(0.5, Assert.IsType<TomlFloat>(t["ratio"]).Value);
        Assert.Equal(TomlKind.Float, t["ratio"].Kind);
        Assert.Equal(4, t.Count);
    }

    [Fact]
    public void KeysInFileOrderNotSorted()
    {
        var t = P("z = 1\na = 2\nm = 3\n");
        Assert.Equal(["z", "a", "m"], t.Keys);
        Assert.Equal(["z", "a", "m"], t.Entries.Select(e => e.Key));
    }

    [Fact]
    public void QuotedAndDottedKeys()
    {
        var t = P("\"a b\" = 1\n'c.d' = 2\nx.y . z = 3\n\"\" = 4\n");
        Assert.Equal(1, ((TomlInteger)t["a b"]).Value);
        Assert.Equal(2, ((TomlInteger)t["c.d"]).Value);
        Assert.Equal(4, ((TomlInteger)t[""]).Value);
        var z = t.GetTable("x").GetTable("y")["z"];
        Assert.Equal(("x.y.z", 3, 11), (z.Path, z.Line, z.Column));
        Assert.Equal("\"a b\"", t["a b"].Path);
        Assert.Equal("\"c.d\"", t["c.d"].Path);
    }

    [Fact]
    public void TablesAndSubTables()
    {
        var t = P("top = 1\n\n[events]\nipi = 2\n\n[events.timer]\nperiod = 3\n[a.b.c]\n[a]\nk = 1\n");
        var events = t.GetTable("events");
        Assert.Equal(("events", 3, 1), (events.Path, events.Line, events.Column));
        Assert.Equal("events.ipi", events["ipi"].Path);
        var timer = events.GetTable("timer");
        Assert.Equal(("events.timer", 6), (timer.Path, timer.Line));
        Assert.Equal(3, timer.GetInteger("period", 0, 10));
        // [a] defined after [a.b.c] implied it: allowed once, and it is positioned at [a].
        Assert.Equal(9, t.GetTable("a").Line);
        Assert.Equal(["b", "k"], t.GetTable("a").Keys);
    }

    [Fact]
    public void ArraysOfTables()
    {
        var t = P("[[vcpu]]\nid = 0\n[vcpu.apic]\nmode = 'x2'\n\n[[vcpu]]\nid = 1\n");
        var vcpus = t.GetArray("vcpu");
        Assert.Equal(2, vcpus.Count);
        var second = Assert.IsType<TomlTable>(vcpus[1]);
        Assert.Equal(("vcpu[1]", 6), (second.Path, second.Line));
        Assert.Equal(1, second.GetInteger("id", 0, 7));
        Assert.Equal("vcpu[1].id", second["id"].Path);
        Assert.Equal("vcpu[0].apic.mode", ((TomlTable)vcpus[0]).GetTable("apic")["mode"].Path);
    }

    [Fact]
    public void NestedArrayOfTablesUnderElement()
    {
        var t = P("[[a]]\n[[a.b]]\nx = 1\n[[a.b]]\nx = 2\n[[a]]\n[[a.b]]\nx = 3\n");
        var a = t.GetArray("a");
        Assert.Equal(2, ((TomlTable)a[0]).GetArray("b").Count);
        Assert.Equal("a[1].b[0].x", ((TomlTable)((TomlTable)a[1]).GetArray("b")[0])["x"].Path);
    }

    [Fact]
    public void BasicStringEscapes()
    {
        var t = P("s = \"a\\nb\\t\\\"q\\\" \\\\ \\u00e9 \\U0001F600 \\b\\f\\r\"\n");
        Assert.Equal("a\nb\t\"q\" \\ é 😀 \b\f\r", t.GetString("s"));
    }

    [Fact]
    public void LiteralStrings()
    {
        var t = P("p = 'C:\\dir\\n \"x\"'\ne = ''\n");
        Assert.Equal("C:\\dir\\n \"x\"", t.GetString("p"));
        Assert.Equal("", t.GetString("e"));
    }

    [Fact]
    public void MultiLineStrings()
    {
        var t = P("a = \"\"\"\nline1\nline2\"\"\"\nb = '''\n  raw \\n\n'''\nc = \"\"\"x \\\n    y\"\"\"\nd = \"\"\"q\"\"\"\"\"\nlast = 1\n");
        Assert.Equal("line1\nline2", t.GetString("a"));
        Assert.Equal("  raw \\n\n", t.GetString("b"));
        Assert.Equal("x y", t.GetString("c"));
        Assert.Equal("q\"\"", t.GetString("d"));
        Assert.Equal(10, t["last"].Line);
    }

    [Fact]
    public void CrLfLineEndings()
    {
        var t = P("a = 1\r\nb = \"\"\"x\r\ny\"\"\"\r\nc = 3\r\n");
        Assert.Equal("x\ny", t.GetString("b"));
        Assert.Equal(4, t["c"].Line);
    }

    [Theory]
    [InlineData("0", 0L)]
    [InlineData("+17", 17L)]
    [InlineData("-17", -17L)]
    [InlineData("1_000_000", 1_000_000L)]
    [InlineData("0xDEAD_beef", 0xDEADBEEFL)]
    [InlineData("0o755", 493L)]
    [InlineData("0b1101", 13L)]
    [InlineData("9223372036854775807", long.MaxValue)]
    [InlineData("-9223372036854775808", long.MinValue)]
    [InlineData("0x7FFFFFFFFFFFFFFF", long.MaxValue)]
    public void Integers(string text, long expected) =>
        Assert.Equal(expected, Assert.IsType<TomlInteger>(P("n = " + text)["n"]).Value);

    [Theory]
    [InlineData("1.5", 1.5)]
    [InlineData("-0.25", -0.25)]
    [InlineData("+3.0", 3.0)]
    [InlineData("1e3", 1000.0)]
    [InlineData("6.02E+2", 602.0)]
    [InlineData("1_0.0_1", 10.01)]
    [InlineData("5e-1", 0.5)]
    [InlineData("0.0", 0.0)]
    [InlineData("-inf", double.NegativeInfinity)]
    public void Floats(string text, double expected) =>
        Assert.Equal(expected, Assert.IsType<TomlFloat>(P("f = " + text)["f"]).Value);

    [Fact]
    public void NanParses() => Assert.True(double.IsNaN(((TomlFloat)P("f = nan")["f"]).Value));

    [Fact]
    public void ArraysSpanLinesWithCommentsAndTrailingComma()
    {
        var t = P("xs = [\n  1, # one\n  2,\n\n  # gap\n  3,\n]\nempty = []\nmixed = [1, 'a', [true]]\nafter = 0\n");
        var xs = t.GetArray("xs");
        Assert.Equal([1L, 2L, 3L], xs.Items.Select(i => ((TomlInteger)i).Value));
        Assert.Equal((6, 3, "xs[2]"), (xs[2].Line, xs[2].Column, xs[2].Path));
        Assert.Equal((1, 6), (xs.Line, xs.Column));
        Assert.Empty(t.GetArray("empty").Items);
        var inner = Assert.IsType<TomlArray>(t.GetArray("mixed")[2]);
        Assert.Equal("mixed[2][0]", inner[0].Path);
        Assert.Equal(10, t["after"].Line);
    }

    [Fact]
    public void InlineTables()
    {
        var t = P("pt = { x = 1, y = \"b\", n.deep = true, in = { k = 2 } }\ne = {}\narr = [{ a = 1 }, { a = 2 }]\n");
        var pt = t.GetTable("pt");
        Assert.Equal(["x", "y", "n", "in"], pt.Keys);
        Assert.Equal((1, 6), (pt.Line, pt.Column));
        Assert.Equal(("pt.y", 1, 19), (pt["y"].Path, pt["y"].Line, pt["y"].Column));
        Assert.True(pt.GetTable("n").GetBoolean("deep"));
        Assert.Equal("pt.in.k", pt.GetTable("in")["k"].Path);
        Assert.Equal(0, t.GetTable("e").Count);
        Assert.Equal("arr[1].a", ((TomlTable)t.GetArray("arr")[1])["a"].Path);
    }

    [Fact]
    public void DottedKeysMayExtendEachOtherAndHeadersMayGoBelowThem()
    {
        var t = P("[fruit]\napple.color = 'red'\napple.taste.sweet = true\n[fruit.apple.texture]\nsmooth = true\n");
        var apple = t.GetTable("fruit").GetTable("apple");
        Assert.Equal(["color", "taste", "texture"], apple.Keys);
    }

    [Fact]
    public void EmptyAndCommentOnlyDocuments()
    {
        Assert.Equal(0, P("").Count);
        Assert.Equal(0, P("# nothing\n\n   \n# more").Count);
        Assert.Equal(5, P("\uFEFFa = 1")["a"].Column); // the BOM takes no column
    }

    [Fact]
    public void NoFinalNewlineAndTabs()
    {
        var t = P("a\t=\t1\t# c");
        Assert.Equal((1, 5), (t["a"].Line, t["a"].Column));
    }

    [Fact]
    public void RootTableHasNoPath()
    {
        var t = P("a = 1");
        Assert.Equal(("", 1, 1), (t.Path, t.Line, t.Column));
    }
}
