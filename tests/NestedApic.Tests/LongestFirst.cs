using Xunit.Abstractions;
using Xunit.Sdk;

[assembly: TestCollectionOrderer("NestedApic.Tests.LongestFirst", "NestedApic.Tests")]

namespace NestedApic.Tests;

/// <summary>A test class whose tests take <paramref name="seconds"/> in all, about, on the idle
/// 2-core machine: <see cref="LongestFirst"/> starts it before the others, the longest first.
/// Waiting counts: a class that mostly waits on child processes starts first of all.</summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class RunsLongAttribute(int seconds) : Attribute
{
    public int Seconds { get; } = seconds;
}

/// <summary>
/// xUnit runs each class's tests one after the other and starts the classes in its own order
/// (by a hash), so a long class that happened to start late ran on alone at the end of the run
/// while the other cores idled. The classes marked <see cref="RunsLongAttribute"/> start first;
/// the many short ones then fill the cores up to the end. The order of the rest is xUnit's.
/// </summary>
public sealed class LongestFirst : ITestCollectionOrderer
{
    readonly DefaultTestCollectionOrderer _default = new();

    public IEnumerable<ITestCollection> OrderTestCollections(IEnumerable<ITestCollection> testCollections)
    {
        // OrderBy is stable: classes of equal weight keep xUnit's order.
        return _default.OrderTestCollections(testCollections).OrderByDescending(Seconds).ToList();
    }

    /// <summary>A class's own collection is named after it ("Test collection for N.C").</summary>
    static int Seconds(ITestCollection c)
    {
        const string prefix = "Test collection for ";
        if (c.CollectionDefinition is not null || !c.DisplayName.StartsWith(prefix, StringComparison.Ordinal)) return 0;
        var attribute = c.TestAssembly.Assembly.GetType(c.DisplayName[prefix.Length..])?.GetCustomAttributes(typeof(RunsLongAttribute)).FirstOrDefault();
        return attribute?.GetConstructorArguments().FirstOrDefault() as int? ?? 0;
    }
}
