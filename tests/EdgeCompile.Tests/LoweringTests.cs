using EdgeCompile.Compiler;
using EdgeCompile.Compiler.Lowering;
using EdgeCompile.Tests.Support;

namespace EdgeCompile.Tests;

public class LoweringTests
{
    [Fact]
    public void ArenaNeverOverlapsTensorsAliveTogether()
    {
        var rng = new Random(7);
        for (int trial = 0; trial < 200; trial++)
        {
            var intervals = new List<ArenaPlanner.Interval>();
            int n = rng.Next(1, 30);
            for (int i = 0; i < n; i++)
            {
                int first = rng.Next(0, 40);
                intervals.Add(new ArenaPlanner.Interval("t" + i, rng.Next(1, 5000), first, first + rng.Next(0, 10)));
            }
            var (offsets, arena) = ArenaPlanner.Plan(intervals);
            foreach (var a in intervals)
            {
                Assert.Equal(0, offsets[a.Name] % ArenaPlanner.Alignment);
                Assert.True(offsets[a.Name] + a.Bytes <= arena);
                foreach (var b in intervals)
                {
                    if (a == b || a.Last < b.First || b.Last < a.First) continue;
                    bool disjoint = offsets[a.Name] + a.Bytes <= offsets[b.Name] || offsets[b.Name] + b.Bytes <= offsets[a.Name];
                    Assert.True(disjoint, $"{a} and {b} overlap");
                }
            }
            // Never worse than giving every tensor its own range.
            Assert.True(arena <= intervals.Sum(i => ArenaPlanner.Align(i.Bytes)));
        }
    }

    [Fact]
    public void DigitsModelLowersWithFoldedBatchNormAndFusedActivations()
    {
        using var model = FrontEnd.Load(Path.Combine(TestPaths.RepoRoot, "Samples", "DigitRecognizer", "model", "digits.onnx"));
        var compiled = Lowerer.Lower(model, "DigitClassifier", "Demo");
        var methods = compiled.Calls.Select(c => c.Call.Method).ToList();
        Assert.Equal(["Conv.Conv2D", "Conv.Conv2D", "Pool.MaxPool2D", "Conv.Conv2D", "Pool.GlobalAverage", "Gemm.Run", "Gemm.Run"], methods);
        Assert.DoesNotContain(model.Graph.Nodes, n => n.OpType == "BatchNormalization");
        Assert.True(compiled.ArenaBytes > 0 && compiled.ArenaBytes < 16384, $"arena {compiled.ArenaBytes}");
        var plan = ArtifactWriter.Plan(compiled, "digits.onnx", "hash");
        Assert.StartsWith("edgeplan 1\n", plan);
        Assert.EndsWith("end\n", plan);
        Assert.Contains("enum:Activation.Relu", plan);
    }

    [Theory]
    [InlineData("input.1", "input1")]
    [InlineData("image", "image")]
    [InlineData("0", "v0")]
    [InlineData("class", "@class")]
    [InlineData("pixel_values", "pixelValues")]
    public void ParameterNamesAreCamelCaseIdentifiers(string onnx, string expected) => Assert.Equal(expected, Identifiers.CamelCase(onnx));
}
