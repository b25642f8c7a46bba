using System.Reflection;
using NestedApic.Scenarios;

namespace NestedApic.Cli;

/// <summary>The universes shipped under universes/, embedded so the binary stands alone.</summary>
public static class BuiltinUniverses
{
    const string Prefix = "universes/";

    public static IReadOnlyList<string> Names { get; } =
        typeof(BuiltinUniverses).Assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith(Prefix) && n.EndsWith(".toml"))
            .Select(n => n[Prefix.Length..^5]).Order(StringComparer.Ordinal).ToArray();

    public static Universe Load(string name)
    {
        using var stream = typeof(BuiltinUniverses).Assembly.GetManifestResourceStream(Prefix + name + ".toml")
            ?? throw new InputException($"no built-in universe '{name}'; built in: {string.Join(", ", Names)}");
        using var reader = new StreamReader(stream);
        return Universe.Parse(reader.ReadToEnd(), $"universes/{name}.toml");
    }

    /// <summary>A path to a universe file, or the name of a built-in one.</summary>
    public static Universe Resolve(string arg) =>
        File.Exists(arg) || Directory.Exists(arg) || arg.EndsWith(".toml") || arg.Contains('/') ? Universe.Load(arg) : Load(arg);
}
