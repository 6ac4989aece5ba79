using EdgeCompile.Generators.Tests.Support;
using Microsoft.CodeAnalysis;
using static EdgeCompile.Generators.Tests.Support.GeneratorHarness;

namespace EdgeCompile.Generators.Tests;

public class SnapshotTests
{
    [Theory]
    [InlineData("TinyNet.edgeplan", "Test.Models.TinyNet.g.cs")]
    [InlineData("KeywordNet.edgeplan", "KeywordNet.g.cs")]
    public void Output_matches_the_committed_baseline(string planName, string hintName)
    {
        var (result, _) = Run([Plan("/repo/obj/EdgeCompile/" + planName, ReadPlan(planName))]);

        Assert.Empty(result.Diagnostics);
        GeneratedSourceResult source = Assert.Single(result.Results[0].GeneratedSources);
        Assert.Equal(hintName, source.HintName);
        Baseline.AssertMatches(hintName + ".txt", source.SourceText.ToString());
    }
}
