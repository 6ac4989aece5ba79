using EdgeCompile.Compiler;
using EdgeCompile.Compiler.Reference;
using EdgeCompile.Tests.Support;
using static EdgeCompile.Tests.Support.GraphBuilder;

namespace EdgeCompile.Kernels.Tests;

/// <summary>RuntimePad and RuntimeTile against the reference executor (exact: data movement), plus argument checks.</summary>
public class RuntimePadTests
{
    [Theory]
    [InlineData("constant")]
    [InlineData("reflect")]
    [InlineData("edge")]
    [InlineData("wrap")]
    public void PadMatchesTheReferenceExecutor(string mode)
    {
        var r = new Random(mode.Length * 17 + mode[0]);
        for (int iter = 0; iter < 60; iter++)
        {
            int rank = r.Next(1, 5);
            var x = Enumerable.Range(0, rank).Select(_ => r.Next(1, 6)).ToArray();
            long[] axes = r.Next(2) == 0 ? [] : Enumerable.Range(0, rank).Where(_ => r.Next(2) == 0).Select(a => (long)(r.Next(2) == 0 ? a : a - rank)).ToArray();
            int count = axes.Length == 0 ? rank : axes.Length;
            var pads = new long[2 * count];
            for (int i = 0; i < count; i++)
            {
                int dim = x[axes.Length == 0 ? i : (int)((axes[i] + rank) % rank)];
                // Crops keep at least one element so every mode applies; pads go beyond the size (several reflections).
                pads[i] = r.Next(-(dim - 1) / 2, 2 * dim + 1);
                pads[count + i] = r.Next(-(dim - 1) / 2, 2 * dim + 1);
            }
            float value = r.Next(2) == 0 ? 0f : 2.5f;
            var data = Enumerable.Range(0, x.Aggregate(1, (a, b) => a * b)).Select(i => (float)i).ToArray();
            var g = new GraphBuilder().Opset(19);
            g.Input("x", DataType.Float, x.Select(d => (long)d).ToArray());
            g.Input("pads", DataType.Int64, pads.Length);
            g.Input("value", DataType.Float);
            if (axes.Length > 0) g.Input("axes", DataType.Int64, axes.Length);
            var y = g.Node("Pad", axes.Length > 0 ? ["x", "pads", "value", "axes"] : ["x", "pads", "value"], 1, String("mode", mode))[0];
            g.Output(y, DataType.Float);
            var feeds = new Dictionary<string, Tensor>
            {
                ["x"] = Tensor.FromArray(data, x), ["pads"] = Tensor.FromArray(pads, pads.Length), ["value"] = Tensor.Scalar(value),
            };
            if (axes.Length > 0) feeds["axes"] = Tensor.FromArray(axes, axes.Length);
            var expected = new ReferenceExecutor(g.Build()).Run(feeds)[y];
            var actual = new float[expected.Length];
            RuntimePad.Run<float>(data, pads, [value], axes, actual, x, expected.Shape, Enum.Parse<PadMode>(mode, true));
            Assert.Equal(expected.As<float>(), actual);
        }
    }

    [Fact]
    public void TileMatchesTheReferenceExecutor()
    {
        var r = new Random(3);
        for (int iter = 0; iter < 40; iter++)
        {
            int rank = r.Next(1, 6);
            var x = Enumerable.Range(0, rank).Select(_ => r.Next(1, 4)).ToArray();
            var repeats = x.Select(_ => (long)r.Next(0, 4)).ToArray();
            var data = Enumerable.Range(0, x.Aggregate(1, (a, b) => a * b)).Select(i => (long)i).ToArray();
            var g = new GraphBuilder();
            g.Input("x", DataType.Int64, x.Select(d => (long)d).ToArray());
            g.Input("r", DataType.Int64, rank);
            var y = g.Node1("Tile", "x", "r");
            g.Output(y, DataType.Int64);
            var expected = new ReferenceExecutor(g.Build()).Run(new Dictionary<string, Tensor> { ["x"] = Tensor.FromArray(data, x), ["r"] = Tensor.FromArray(repeats, rank) })[y];
            var actual = new long[expected.Length];
            RuntimeTile.Run<long>(data, repeats, actual, x, expected.Shape);
            Assert.Equal(expected.As<long>(), actual);
        }
    }

    [Fact]
    public void ArgumentsAreChecked()
    {
        var x = new float[6];
        int[] s = [2, 3];
        Assert.Throws<ArgumentException>(() => RuntimePad.Run<float>(x, [0, 1, 0, 1], [], [], new float[12], s, [3, 4], PadMode.Constant)); // other shape
        Assert.Throws<ArgumentException>(() => RuntimePad.Run<float>(x, [0, 1, 0], [], [], new float[12], s, [2, 5], PadMode.Constant));    // pads count
        Assert.Throws<ArgumentException>(() => RuntimePad.Run<float>(x, [0, 1, 0, 1], [], [], new float[11], s, [2, 5], PadMode.Constant)); // y length
        Assert.Throws<ArgumentException>(() => RuntimePad.Run<float>(x, [1, 1], [], [2], new float[12], s, [2, 5], PadMode.Constant));     // axis range
        Assert.Throws<ArgumentException>(() => RuntimePad.Run<float>(x, [1, 1, 0, 0], [], [1, -1], new float[12], s, [2, 5], PadMode.Constant)); // repeated
        Assert.Throws<ArgumentException>(() => RuntimePad.Run<float>(x, [0, 0, 0, 0], [1f, 2f], [], new float[6], s, s, PadMode.Constant)); // value count
        Assert.Throws<ArgumentException>(() => RuntimePad.Run<float>(x, [0, -3, 0, 1], [], [], new float[2], s, [2, 1], PadMode.Edge));   // nothing left
        Assert.Throws<ArgumentException>(() => RuntimeTile.Run<float>(x, [1, 2], new float[12], s, [2, 5]));
        Assert.Throws<ArgumentException>(() => RuntimeTile.Run<float>(x, [1], new float[6], s, s));
        Assert.Throws<ArgumentException>(() => RuntimeTile.Run<float>(x, [-1, 1], new float[0], s, [0, 3]));
    }

    private static readonly int[] S = [2, 3], Padded = [4, 7];
    private static readonly long[] Pads = [1, 2, 1, 2], Repeats = [2, 2];

    [Fact]
    public void RunDoesNotAllocate()
    {
        var x = new float[6];
        var y = new float[28];
        var t = new float[24];
        float[] v = [1f];
        foreach (var run in new Action[]
        {
            () => RuntimePad.Run<float>(x, Pads, v, [], y, S, Padded, PadMode.Reflect),
            () => RuntimeTile.Run<float>(x, Repeats, t, S, [4, 6]),
        })
        {
            run();
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 5; i++) run();
            Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        }
    }
}
