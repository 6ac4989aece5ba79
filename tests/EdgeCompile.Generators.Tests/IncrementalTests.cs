using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using EdgeCompile.Generators.Tests.Support;
using static EdgeCompile.Generators.Tests.Support.GeneratorHarness;

namespace EdgeCompile.Generators.Tests;

/// <summary>The pipeline re-does nothing for edits that cannot change its output.</summary>
public class IncrementalTests
{
    private static readonly string[] s_steps = ["Parse", "PlanDiagnostics", "PlanSet", "Plans"];

    [Fact]
    public void An_unrelated_CSharp_edit_leaves_every_step_cached()
    {
        CSharpCompilation compilation = CreateCompilation("class Unrelated { }");
        GeneratorDriver driver = CreateDriver([Plan("/obj/TinyNet.edgeplan", ReadPlan("TinyNet.edgeplan")), Plan("/obj/KeywordNet.edgeplan", ReadPlan("KeywordNet.edgeplan"))])
            .RunGenerators(compilation);

        SyntaxTree edited = CSharpSyntaxTree.ParseText("class Unrelated { int _x; }", GeneratorHarness.ParseOptions, path: compilation.SyntaxTrees[0].FilePath);
        driver = driver.RunGenerators(compilation.ReplaceSyntaxTree(compilation.SyntaxTrees[0], edited));

        GeneratorRunResult result = driver.GetRunResult().Results.Single();
        foreach (string step in s_steps)
        {
            Assert.True(result.TrackedSteps.ContainsKey(step), "step " + step + " was not tracked");
            Assert.All(result.TrackedSteps[step].SelectMany(static s => s.Outputs), static o => Assert.True(
                o.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, o.Reason.ToString()));
        }
        Assert.All(result.TrackedOutputSteps.SelectMany(static s => s.Value).SelectMany(static s => s.Outputs), static o => Assert.True(
            o.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, o.Reason.ToString()));
    }

    [Fact]
    public void A_comment_edit_re_emits_nothing_and_a_real_edit_re_emits_only_its_plan()
    {
        string tiny = ReadPlan("TinyNet.edgeplan"), keyword = ReadPlan("KeywordNet.edgeplan");
        AdditionalText tinyText = Plan("/obj/TinyNet.edgeplan", tiny), keywordText = Plan("/obj/KeywordNet.edgeplan", keyword);
        CSharpCompilation compilation = CreateCompilation("class Unrelated { }");
        GeneratorDriver driver = CreateDriver([tinyText, keywordText]).RunGenerators(compilation);

        // A comment changes the text, so Parse runs again, but the model is equal: nothing is re-emitted.
        driver = driver.ReplaceAdditionalText(tinyText, Plan("/obj/TinyNet.edgeplan", tiny.Replace("edgeplan 1\n", "edgeplan 1\n# touched\n")))
            .RunGenerators(compilation);
        GeneratorRunResult result = driver.GetRunResult().Results.Single();
        Assert.All(result.TrackedSteps["Plans"].SelectMany(static s => s.Outputs), static o => Assert.True(
            o.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, o.Reason.ToString()));

        // A real change to KeywordNet re-emits KeywordNet only.
        driver = driver.ReplaceAdditionalText(keywordText, Plan("/obj/KeywordNet.edgeplan", keyword.Replace("arena 64", "arena 128")))
            .RunGenerators(compilation);
        result = driver.GetRunResult().Results.Single();
        var plans = result.TrackedSteps["Plans"].SelectMany(static s => s.Outputs).ToArray();
        Assert.Single(plans, static o => o.Reason == IncrementalStepRunReason.Modified);
        Assert.Single(plans, static o => o.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged);
        Assert.Contains("public const int ArenaBytes = 128;", result.GeneratedSources.Single(static s => s.HintName == "KeywordNet.g.cs").SourceText.ToString());
    }
}
