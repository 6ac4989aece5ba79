using EdgeCompile.Compiler;
using EdgeCompile.Compiler.Reference;
using EdgeCompile.Tests.Support;
using static EdgeCompile.Tests.Support.GraphBuilder;

namespace EdgeCompile.Kernels.Tests;

/// <summary>OneHot with run-time indices and depth against the reference executor (exact), plus argument checks.</summary>
public class OneHotTests
{
    [Fact]
    public void MatchesTheReferenceExecutor()
    {
        var r = new Random(9);
        for (int iter = 0; iter < 40; iter++)
        {
            var x = Enumerable.Range(0, r.Next(1, 4)).Select(_ => r.Next(1, 4)).ToArray();
            int depth = r.Next(1, 6);
            int axis = r.Next(-(x.Length + 1), x.Length + 1);
            int ax = axis < 0 ? axis + x.Length + 1 : axis;
            var idx = Enumerable.Range(0, x.Aggregate(1, (a, b) => a * b)).Select(_ => (float)Math.Round(r.NextDouble() * 2.4 * depth - 1.2 * depth, 1)).ToArray();
            var g = new GraphBuilder().Opset(11);
            g.Input("i", DataType.Float, x.Select(d => (long)d).ToArray());
            g.Input("d", DataType.Float);
            g.Input("v", DataType.Int32, 2);
            var y = g.Node("OneHot", ["i", "d", "v"], 1, Int("axis", axis))[0];
            g.Output(y, DataType.Int32);
            var expected = new ReferenceExecutor(g.Build()).Run(new Dictionary<string, Tensor>
            {
                ["i"] = Tensor.FromArray(idx, x), ["d"] = Tensor.Scalar((float)depth), ["v"] = Tensor.FromArray(new[] { 2, 5 }, 2),
            })[y];
            var actual = new int[expected.Length];
            OneHot.Run<int>(idx, [(float)depth], [2, 5], actual, x[..ax].Aggregate(1, (a, b) => a * b), depth, x[ax..].Aggregate(1, (a, b) => a * b), true);
            Assert.Equal(expected.As<int>(), actual);
        }
    }

    [Fact]
    public void ArgumentsAreChecked()
    {
        Assert.Throws<ArgumentException>(() => OneHot.Run<float>([0L, 1L], [3f], [0f, 1f], new float[6], 1, 4, 2, true));      // depth differs
        Assert.Throws<ArgumentException>(() => OneHot.Run<float>([0L, 1L], [3f], [0f, 1f], new float[5], 1, 3, 2, true));      // y length
        Assert.Throws<ArgumentException>(() => OneHot.Run<float>([0L, 1L], [3f], [0f], new float[6], 1, 3, 2, true));          // values
        Assert.Throws<ArgumentException>(() => OneHot.Run<float>([0L], [3f], [0f, 1f], new float[6], 1, 3, 2, true));          // indices
        Assert.Throws<ArgumentException>(() => OneHot.Run<float>([0L, 1L], [3L, 3L], [0f, 1f], new float[6], 1, 3, 2, true)); // depth count
    }
}
