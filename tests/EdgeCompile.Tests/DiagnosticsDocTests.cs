using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Tests.Support;

namespace EdgeCompile.Tests;

public class DiagnosticsDocTests
{
    [Fact]
    public void EveryCodeIsDocumented()
    {
        var doc = File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "docs", "diagnostics.md"));
        var missing = EdgeCodes.All.Where(c => !doc.Contains("| " + c + " |", StringComparison.Ordinal)).ToList();
        Assert.Empty(missing);
        Assert.Equal(EdgeCodes.All.Count(), EdgeCodes.All.Distinct().Count());
    }
}
