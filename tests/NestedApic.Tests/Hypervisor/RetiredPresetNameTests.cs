using System.Text.RegularExpressions;
using NestedApic.Hypervisor;

namespace NestedApic.Tests.Hypervisor;

/// <summary>A retired preset name is an error (exit 2), so a script of the repository that still
/// passes one stops there: bench/run-kvm-bench.sh did with `linux-7.1.y`.</summary>
public class RetiredPresetNameTests
{
    static string RepoRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "NestedApic.sln"))) return d.FullName;
        throw new DirectoryNotFoundException("NestedApic.sln not found above " + AppContext.BaseDirectory);
    }

    [Fact]
    public void BenchScripts_PassNoRetiredPresetName()
    {
        var scripts = Directory.GetFiles(Path.Combine(RepoRoot(), "bench"), "*.sh", SearchOption.AllDirectories);
        Assert.NotEmpty(scripts);
        var found = (from file in scripts
                     from name in Policies.Retired.Keys
                     where Regex.IsMatch(File.ReadAllText(file), $@"(?<![\w.-]){Regex.Escape(name)}(?![\w.-])")
                     select $"{Path.GetFileName(file)}: {name} (now {Policies.Retired[name].Now})").ToList();
        Assert.True(found.Count == 0, string.Join("; ", found));
    }
}
