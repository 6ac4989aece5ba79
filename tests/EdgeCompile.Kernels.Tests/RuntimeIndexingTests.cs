using EdgeCompile.Compiler;
using EdgeCompile.Compiler.Reference;
using EdgeCompile.Tests.Support;
using static EdgeCompile.Tests.Support.GraphBuilder;

namespace EdgeCompile.Kernels.Tests;

/// <summary>
/// GatherElements, ScatterElements, ScatterND and Trilu with parameters read at run time, against the reference
/// executor over random shapes and indices (exact: these kernels move data, and the reductions compute in the element
/// type as the reference rounds after every step), plus hand-written cases and argument checks.
/// </summary>
public class RuntimeIndexingTests
{
    private static Tensor Reference(GraphBuilder g, string output, DataType type, params (string Name, Tensor Value)[] inputs)
    {
        g.Output(output, type);
        return new ReferenceExecutor(g.Build()).Run(inputs.ToDictionary(p => p.Name, p => p.Value))[output];
    }

    private static int[] RandomShape(Random r, int rank, int max = 4) => Enumerable.Range(0, rank).Select(_ => r.Next(1, max + 1)).ToArray();

    private static float[] Data(Random r, int n) => Enumerable.Range(0, n).Select(_ => (float)Math.Round(r.NextDouble() * 8 - 4, 2)).ToArray();

    [Fact]
    public void GatherElementsMatchesTheReference()
    {
        var r = new Random(11);
        for (int iter = 0; iter < 60; iter++)
        {
            int rank = r.Next(1, 5);
            var x = RandomShape(r, rank);
            int axis = r.Next(rank);
            var s = x.Select((d, i) => i == axis ? r.Next(1, 5) : r.Next(1, d + 1)).ToArray();
            var data = Data(r, x.Aggregate(1, (a, b) => a * b));
            var idx = Enumerable.Range(0, s.Aggregate(1, (a, b) => a * b)).Select(_ => (long)r.Next(-x[axis], x[axis])).ToArray();
            var g = new GraphBuilder().Opset(18);
            g.Input("x", DataType.Float, x.Select(d => (long)d).ToArray());
            g.Input("i", DataType.Int64, s.Select(d => (long)d).ToArray());
            var y = g.Node("GatherElements", ["x", "i"], 1, Int("axis", axis))[0];
            var expected = Reference(g, y, DataType.Float, ("x", Tensor.FromArray(data, x)), ("i", Tensor.FromArray(idx, s))).As<float>();
            var actual = new float[idx.Length];
            GatherElements.Run<float>(data, idx, actual, x, s, axis);
            Assert.Equal(expected, actual);
            var actual32 = new float[idx.Length];
            GatherElements.Run<float>(data, idx.Select(v => (int)v).ToArray(), actual32, x, s, axis);
            Assert.Equal(expected, actual32);
        }
    }

    [Theory]
    [InlineData("none")]
    [InlineData("add")]
    [InlineData("mul")]
    [InlineData("max")]
    [InlineData("min")]
    public void ScatterElementsMatchesTheReference(string reduction)
    {
        var r = new Random(reduction.Length * 7 + reduction[0]);
        for (int iter = 0; iter < 40; iter++)
        {
            int rank = r.Next(1, 5);
            var x = RandomShape(r, rank);
            int axis = r.Next(rank);
            var s = x.Select((d, i) => i == axis ? r.Next(1, 5) : r.Next(1, d + 1)).ToArray();
            var data = Data(r, x.Aggregate(1, (a, b) => a * b));
            int count = s.Aggregate(1, (a, b) => a * b);
            var idx = Enumerable.Range(0, count).Select(_ => (long)r.Next(-x[axis], x[axis])).ToArray();
            var upd = Data(r, count);
            var g = new GraphBuilder().Opset(18);
            g.Input("x", DataType.Float, x.Select(d => (long)d).ToArray());
            g.Input("i", DataType.Int64, s.Select(d => (long)d).ToArray());
            g.Input("u", DataType.Float, s.Select(d => (long)d).ToArray());
            var y = g.Node("ScatterElements", ["x", "i", "u"], 1, Int("axis", axis), String("reduction", reduction))[0];
            var expected = Reference(g, y, DataType.Float, ("x", Tensor.FromArray(data, x)), ("i", Tensor.FromArray(idx, s)), ("u", Tensor.FromArray(upd, s))).As<float>();
            var actual = new float[data.Length];
            if (reduction == "none") ScatterElements.Run<float>(data, idx, upd, actual, x, s, axis);
            else ScatterElements.Reduce<float>(Enum.Parse<ScatterReduction>(reduction, ignoreCase: true), data, idx, upd, actual, x, s, axis);
            Assert.Equal(expected, actual);
        }
    }

    [Theory]
    [InlineData("none")]
    [InlineData("add")]
    [InlineData("mul")]
    [InlineData("max")]
    [InlineData("min")]
    public void ScatterNDMatchesTheReference(string reduction)
    {
        var r = new Random(reduction.Length * 13 + reduction[0]);
        for (int iter = 0; iter < 40; iter++)
        {
            int rank = r.Next(1, 5);
            var x = RandomShape(r, rank);
            int k = r.Next(1, rank + 1);
            var lead = RandomShape(r, r.Next(0, 3), 3);
            int[] s = [.. lead, k];
            int[] us = [.. lead, .. x[k..]];
            var data = Data(r, x.Aggregate(1, (a, b) => a * b));
            int tuples = lead.Aggregate(1, (a, b) => a * b);
            var idx = new long[tuples * k];
            for (int t = 0; t < tuples; t++) for (int j = 0; j < k; j++) idx[t * k + j] = r.Next(-x[j], x[j]);
            var upd = Data(r, us.Aggregate(1, (a, b) => a * b));
            var g = new GraphBuilder().Opset(18);
            g.Input("x", DataType.Float, x.Select(d => (long)d).ToArray());
            g.Input("i", DataType.Int64, s.Select(d => (long)d).ToArray());
            g.Input("u", DataType.Float, us.Select(d => (long)d).ToArray());
            var y = g.Node("ScatterND", ["x", "i", "u"], 1, String("reduction", reduction))[0];
            var expected = Reference(g, y, DataType.Float, ("x", Tensor.FromArray(data, x)), ("i", Tensor.FromArray(idx, s)), ("u", Tensor.FromArray(upd, us))).As<float>();
            var actual = new float[data.Length];
            if (reduction == "none") ScatterND.Run<float>(data, idx, upd, actual, x, s);
            else ScatterND.Reduce<float>(Enum.Parse<ScatterReduction>(reduction, ignoreCase: true), data, idx, upd, actual, x, s);
            Assert.Equal(expected, actual);
        }
    }

    [Fact]
    public void ScatterReductionsOnIntegersWrapAndMaxPropagatesNaN()
    {
        var y = new sbyte[2];
        ScatterElements.Reduce<sbyte>(ScatterReduction.Add, [120, 0], [0L, 0L], [5, 5], y, [2], [2], 0);
        Assert.Equal(new sbyte[] { -126, 0 }, y);
        var f = new float[2];
        ScatterND.Reduce<float>(ScatterReduction.Max, [1f, 2f], [1L], [float.NaN], f, [2], [1, 1]);
        Assert.Equal(1f, f[0]);
        Assert.True(float.IsNaN(f[1]));
        var b = new bool[3];
        ScatterND.Run<bool>([false, false, false], [2L, 0L], [true, true], b, [3], [2, 1]);
        Assert.Equal([true, false, true], b);
    }

    [Fact]
    public void TriluMatchesTheReference()
    {
        var r = new Random(5);
        foreach (bool upper in new[] { true, false })
            for (int iter = 0; iter < 30; iter++)
            {
                var x = RandomShape(r, r.Next(2, 5), 5);
                long k = r.Next(-6, 7);
                var data = Data(r, x.Aggregate(1, (a, b) => a * b));
                var g = new GraphBuilder().Opset(18);
                g.Input("x", DataType.Float, x.Select(d => (long)d).ToArray());
                g.Input("k", DataType.Int64);
                var y = g.Node("Trilu", ["x", "k"], 1, Int("upper", upper ? 1 : 0))[0];
                var expected = Reference(g, y, DataType.Float, ("x", Tensor.FromArray(data, x)), ("k", Tensor.FromArray(new[] { k }))).As<float>();
                var actual = new float[data.Length];
                Trilu.Run<float>(data, [k], actual, x[..^2].Aggregate(1, (a, b) => a * b), x[^2], x[^1], upper);
                Assert.Equal(expected, actual);
            }
    }

    [Fact]
    public void ArgumentsAreCheckedBeforeMemoryIsTouched()
    {
        var x = new float[6];
        int[] xs = [2, 3];
        Assert.Throws<ArgumentException>(() => GatherElements.Run<float>(x, new long[6], new float[5], xs, xs, 0));
        Assert.Throws<ArgumentException>(() => GatherElements.Run<float>(x.AsSpan(1), new long[6], new float[6], xs, xs, 0));
        Assert.Throws<ArgumentException>(() => GatherElements.Run<float>(x, new long[6], new float[6], xs, xs, 2));
        Assert.Throws<ArgumentException>(() => GatherElements.Run<float>(x, new long[8], new float[8], xs, [2, 4], 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => GatherElements.Run<float>(x, [0, 0, 0, 2, 0, 0], new float[6], xs, xs, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => GatherElements.Run<float>(x, [0, 0, 0, -3, 0, 0], new float[6], xs, xs, 0));
        Assert.Throws<ArgumentException>(() => ScatterElements.Run<float>(x, new long[6], new float[5], new float[6], xs, xs, 0));
        Assert.Throws<ArgumentException>(() => ScatterElements.Run<float>(x, new long[6], new float[6], new float[7], xs, xs, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => ScatterElements.Run<float>(x, [0, 0, 0, 0, 0, 3], new float[6], new float[6], xs, xs, 1));
        Assert.Throws<ArgumentException>(() => ScatterND.Run<float>(x, new long[3], new float[2], new float[6], xs, [1, 3]));
        Assert.Throws<ArgumentException>(() => ScatterND.Run<float>(x, new long[2], new float[3], new float[6], xs, [1, 2]));
        Assert.Throws<ArgumentException>(() => ScatterND.Run<float>(x, new long[2], new float[1], new float[5], xs, [1, 2]));
        Assert.Throws<ArgumentOutOfRangeException>(() => ScatterND.Run<float>(x, [0, 3], new float[1], new float[6], xs, [1, 2]));
        Assert.Throws<ArgumentException>(() => Trilu.Run<float>(x, [0L], new float[5], 1, 2, 3, true));
        Assert.Throws<ArgumentException>(() => Trilu.Run<float>(x, [0L, 1L], new float[6], 1, 2, 3, true));
    }

    private static readonly int[] S23 = [2, 3];
    private static readonly long[] Idx6 = [0, 1, -1, 1, 0, 1];

    [Fact]
    public void RunDoesNotAllocate()
    {
        var x = new float[6];
        var y = new float[6];
        long[] k = [1];
        long[] nd = [1, 2];
        var one = new float[1];
        int[] s12 = [1, 2];
        var runs = new Action[]
        {
            () => GatherElements.Run<float>(x, Idx6, y, S23, S23, 0),
            () => ScatterElements.Reduce<float>(ScatterReduction.Add, x, Idx6, x, y, S23, S23, 1),
            () => ScatterND.Reduce<float>(ScatterReduction.Max, x, nd, one, y, S23, s12),
            () => Trilu.Run<float>(x, k, y, 1, 2, 3, false),
        };
        foreach (var run in runs)
        {
            run();
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 10; i++) run();
            Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        }
    }
}
