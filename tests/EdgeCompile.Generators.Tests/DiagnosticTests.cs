using Microsoft.CodeAnalysis;
using static EdgeCompile.Generators.Tests.Support.GeneratorHarness;

namespace EdgeCompile.Generators.Tests;

/// <summary>Bad plans become EDGE3xxx diagnostics located in the plan file (never exceptions, never output).</summary>
public class DiagnosticTests
{
    private const string Head = "edgeplan 1\nclass M\narena 64\n";

    [Theory]
    [InlineData(Head + "input 0 x f33 1x8\nend\n", 4, "dtype one of f32")]
    [InlineData(Head + "input 0 x f32 1xq\nend\n", 4, "dims")]
    [InlineData(Head + "input 0 x f32 1x8\ninput 0 y f32 1x8\nend\n", 5, "new non-negative index")]
    [InlineData(Head + "input 0 x f32 8\noutput 0 y f32 8\ncall Data.Copy in:1 out:0\nend\n", 6, "'in:<i>' naming an input line above")]
    [InlineData(Head + "input 0 x f32 8\ncall Data.Copy in:0 a:f32:32:16\nend\n", 5, "inside the arena (64 bytes)")]
    [InlineData(Head + "input 0 x f32 8\ncall Data.Copy in:0 w:f32:0:8\nend\n", 5, "after a 'resource' line")]
    [InlineData(Head + "call Elementwise.Unary enum:UnaryOp.Relu f:1,5 f:0\nend\n", 4, "'f:<float>'")]
    [InlineData(Head + "call Data.Copy zz:1\nend\n", 4, "of a known kind")]
    [InlineData(Head + "call class.Copy\nend\n", 4, "expected 'call <Type>.<Method>")]
    [InlineData(Head + "frobnicate\nend\n", 4, "expected a line starting with one of")]
    [InlineData(Head + "end\ninput 0 x f32 8\n", 5, "nothing after 'end'")]
    [InlineData("edgeplan 1\narena 64\nend\n", 3, "'class <ClassName>'")]
    [InlineData("class M\n", 1, "expected 'edgeplan <version>' as the first line")]
    [InlineData(Head + "node 0 Relu r\nend\n", 5, "expected a 'call' line after 'node 0'")]
    public void A_malformed_line_is_EDGE3001_naming_the_line_and_what_was_expected(string plan, int line, string expected)
    {
        Diagnostic diagnostic = SingleDiagnostic(plan);

        Assert.Equal("EDGE3001", diagnostic.Id);
        Assert.Equal(DiagnosticSeverity.Error, diagnostic.Severity);
        Assert.StartsWith("Plan line " + line + ": ", diagnostic.GetMessage(), StringComparison.Ordinal);
        Assert.Contains(expected, diagnostic.GetMessage(), StringComparison.Ordinal);
        FileLinePositionSpan span = diagnostic.Location.GetLineSpan();
        Assert.Equal("/obj/M.edgeplan", span.Path);
        Assert.Equal(line - 1, span.StartLinePosition.Line);
    }

    [Theory]
    [InlineData("")]
    [InlineData("\n\n# nothing yet\n")]
    [InlineData(Head + "input 0 x f32 8\n")]
    public void An_empty_or_unfinished_plan_is_EDGE3001_incomplete(string plan)
    {
        Diagnostic diagnostic = SingleDiagnostic(plan);

        Assert.Equal("EDGE3001", diagnostic.Id);
        Assert.Contains("the plan is incomplete: rebuild; the EdgeCompile build step writes it", diagnostic.GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_class_declared_by_two_plans_is_EDGE3002_and_only_the_first_plan_is_emitted()
    {
        var (result, _) = Run([Plan("/obj/b/M.edgeplan", Head + "end\n"), Plan("/obj/a/M.edgeplan", Head + "end\n")]);

        Diagnostic diagnostic = Assert.Single(result.Diagnostics);
        Assert.Equal("EDGE3002", diagnostic.Id);
        Assert.Equal("/obj/b/M.edgeplan", diagnostic.Location.GetLineSpan().Path);
        Assert.Contains("'M' is already declared by the plan '/obj/a/M.edgeplan'", diagnostic.GetMessage(), StringComparison.Ordinal);
        Assert.Equal("M.g.cs", Assert.Single(result.Results[0].GeneratedSources).HintName);
    }

    [Fact]
    public void Another_plan_version_is_EDGE3003()
    {
        Diagnostic diagnostic = SingleDiagnostic("# written by a newer compiler\nedgeplan 2\nwhatever comes next\n");

        Assert.Equal("EDGE3003", diagnostic.Id);
        Assert.Contains("version '2', but this generator reads version 1", diagnostic.GetMessage(), StringComparison.Ordinal);
        Assert.Equal(1, diagnostic.Location.GetLineSpan().StartLinePosition.Line);
    }

    [Fact]
    public void An_expected_class_without_a_plan_is_EDGE3004()
    {
        var (result, _) = Run(
            [Plan("/obj/M.edgeplan", Head + "end\n")],
            new Dictionary<string, string> { ["build_property.EdgeCompileClassNames"] = "M; Missing" });

        Diagnostic diagnostic = Assert.Single(result.Diagnostics);
        Assert.Equal("EDGE3004", diagnostic.Id);
        Assert.Contains("'Missing'", diagnostic.GetMessage(), StringComparison.Ordinal);
    }

    private static Diagnostic SingleDiagnostic(string plan)
    {
        var (result, _) = Run([Plan("/obj/M.edgeplan", plan)]);
        Assert.Empty(result.Results[0].GeneratedSources);
        return Assert.Single(result.Diagnostics);
    }
}
