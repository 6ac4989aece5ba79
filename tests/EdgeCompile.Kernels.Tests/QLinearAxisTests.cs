using EdgeCompile.Compiler;
using EdgeCompile.Compiler.Reference;
using EdgeCompile.Tests.Support;
using static EdgeCompile.Tests.Support.GraphBuilder;

namespace EdgeCompile.Kernels.Tests;

/// <summary>QLinearAxis (QuantizeLinear / DequantizeLinear with per-tensor, per-axis and blocked parameters) against the reference executor, exactly.</summary>
public class QLinearAxisTests
{
    private static (int Outer, int Axis, int Inner, int Block, int So, int Sa, int Si, int[] ScaleShape) View(Random r, int[] x, string kind, out int ax, out int blockSize)
    {
        ax = r.Next(x.Length);
        blockSize = 0;
        int outer = x[..ax].Aggregate(1, (a, b) => a * b), inner = x[(ax + 1)..].Aggregate(1, (a, b) => a * b);
        switch (kind)
        {
            case "tensor": return (1, 1, x.Aggregate(1, (a, b) => a * b), 1, 0, 0, 0, []);
            case "axis": return (outer, x[ax], inner, 1, 0, 1, 0, [x[ax]]);
            default:
                blockSize = r.Next(1, 4);
                int blocks = (x[ax] + blockSize - 1) / blockSize;
                var s = (int[])x.Clone(); s[ax] = blocks;
                return (outer, x[ax], inner, blockSize, blocks * inner, inner, 1, s);
        }
    }

    [Theory]
    [InlineData("tensor")]
    [InlineData("axis")]
    [InlineData("blocked")]
    public void QuantizeAndDequantizeMatchTheReference(string kind)
    {
        var r = new Random(kind.Length);
        for (int iter = 0; iter < 40; iter++)
        {
            var x = Enumerable.Range(0, r.Next(1, 4)).Select(_ => r.Next(1, 5)).ToArray();
            var (outer, axis, inner, block, so, sa, si, sShape) = View(r, x, kind, out int ax, out int blockSize);
            int n = x.Aggregate(1, (a, b) => a * b), sn = sShape.Aggregate(1, (a, b) => a * b);
            var data = Enumerable.Range(0, n).Select(_ => (float)(r.NextDouble() * 600 - 300)).ToArray();
            data[0] = float.NaN;
            var scale = Enumerable.Range(0, sn).Select(_ => (float)(r.NextDouble() * 2 + 0.05)).ToArray();
            var zero = Enumerable.Range(0, sn).Select(_ => (sbyte)r.Next(-20, 20)).ToArray();
            var attrs = new List<EdgeCompile.Compiler.IR.Attribute> { Int("axis", ax) };
            if (blockSize > 0) attrs.Add(Int("block_size", blockSize));

            var g = new GraphBuilder().Opset(21);
            g.Input("x", DataType.Float, x.Select(d => (long)d).ToArray());
            g.Input("s", DataType.Float, sShape.Select(d => (long)d).ToArray());
            g.Input("z", DataType.Int8, sShape.Select(d => (long)d).ToArray());
            var q = g.Node("QuantizeLinear", ["x", "s", "z"], 1, [.. attrs])[0];
            var dq = g.Node("DequantizeLinear", [q, "s", "z"], 1, [.. attrs])[0];
            g.Output(q, DataType.Int8);
            g.Output(dq, DataType.Float);
            var outs = new ReferenceExecutor(g.Build()).Run(new Dictionary<string, Tensor>
            {
                ["x"] = Tensor.FromArray(data, x), ["s"] = Tensor.FromArray(scale, sShape), ["z"] = Tensor.FromArray(zero, sShape),
            });
            var yq = new sbyte[n];
            QLinearAxis.Quantize<sbyte>(data, scale, zero, yq, outer, axis, inner, block, so, sa, si);
            Assert.Equal(outs[q].As<sbyte>(), yq);
            var ydq = new float[n];
            QLinearAxis.Dequantize(yq, scale, zero, ydq, outer, axis, inner, block, so, sa, si);
            Assert.Equal(outs[dq].As<float>(), ydq);
        }
    }

    [Fact]
    public void QuantizeSaturatesAndRoundsHalfToEven()
    {
        var y = new byte[5];
        QLinearAxis.Quantize<byte>([0.5f, 1.5f, -10f, 1000f, 2.5f], [1f], [], y, 1, 1, 5, 1, 0, 0, 0);
        Assert.Equal(new byte[] { 0, 2, 0, 255, 2 }, y);
        var y16 = new short[2];
        QLinearAxis.Quantize<short>([1e9f, -1e9f], [1f], [(short)3], y16, 1, 1, 2, 1, 0, 0, 0);
        Assert.Equal(new short[] { short.MaxValue, short.MinValue }, y16);
    }

    [Fact]
    public void ArgumentsAreChecked()
    {
        var x = new float[6];
        Assert.Throws<ArgumentException>(() => QLinearAxis.Quantize<byte>(x, [1f, 1f], [], new byte[6], 2, 3, 1, 1, 0, 1, 0));          // axis index 2 outside the scale
        Assert.Throws<ArgumentException>(() => QLinearAxis.Quantize<byte>(x, [1f], [], new byte[5], 1, 1, 6, 1, 0, 0, 0));                // y length
        Assert.Throws<ArgumentException>(() => QLinearAxis.Quantize<byte>(x, [1f, 1f], [1], new byte[6], 2, 1, 3, 1, 0, 0, 0));           // zero point length
        Assert.Throws<ArgumentException>(() => QLinearAxis.Quantize<byte>(x, [1f], [], new byte[6], 1, 1, 6, 0, 0, 0, 0));                // block 0
        Assert.Throws<ArgumentException>(() => QLinearAxis.Dequantize(new byte[6], [1f, 1f], [], new float[6], 1, 6, 1, 2, 0, 1, 0));    // block 2 outside
        QLinearAxis.Dequantize(new byte[6], [1f, 1f, 1f], [], new float[6], 1, 6, 1, 2, 0, 1, 0); // blocks 0..2 fit (no throw expected)
    }
}
