using EdgeCompile.Tests.Support;
using EdgeCompile.Compiler;
using EdgeCompile.Compiler.Reference;
using EdgeCompile.Kernels.Tests.Support;
using static EdgeCompile.Tests.Support.GraphBuilder;

namespace EdgeCompile.Kernels.Tests;

/// <summary>
/// The kernels (through their public dispatchers) against the compiler's reference executor, which computes
/// ONNX semantics in double: 1e-4 relative + 1e-5 absolute.
/// </summary>
public class ReferenceExecutorCrossCheckTests
{
    private const float Rel = 1e-4f, Abs = 1e-5f;

    private static float[] RunReference(GraphBuilder g, string output, params (string Name, float[] Data, int[] Shape)[] inputs)
    {
        g.Output(output, DataType.Float);
        var exec = new ReferenceExecutor(g.Build());
        var feeds = new Dictionary<string, Tensor>();
        foreach (var (name, data, shape) in inputs) feeds[name] = Tensor.FromArray(data, shape);
        return exec.Run(feeds)[output].As<float>();
    }

    [Theory]
    [InlineData(1, 4, 7, 9, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, "Relu")]
    [InlineData(2, 6, 8, 10, 4, 3, 2, 2, 1, 1, 0, 2, 1, 1, 2, 2, "")]
    [InlineData(1, 6, 9, 13, 6, 3, 3, 1, 1, 1, 1, 1, 1, 2, 1, 6, "Clip")]
    [InlineData(1, 8, 5, 6, 12, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 2, "LeakyRelu")]
    [InlineData(1, 3, 11, 11, 5, 5, 5, 3, 2, 2, 2, 1, 0, 1, 1, 1, "Sigmoid")]
    public void Conv2DMatchesReference(int n, int c, int h, int w, int k, int kh, int kw, int sh, int sw,
        int pt, int pl, int pb, int pr, int dh, int dw, int group, string activation)
    {
        var r = new Random(n * 1000 + c * 100 + h);
        var x = Check.Data(r, n * c * h * w);
        var wt = Check.Data(r, k * (c / group) * kh * kw);
        var bias = Check.Data(r, k);
        var g = new GraphBuilder();
        g.Input("x", DataType.Float, n, c, h, w);
        g.Initializer("w", Tensor.FromArray(wt, k, c / group, kh, kw));
        g.Initializer("b", Tensor.FromArray(bias, k));
        string y = g.Node("Conv", ["x", "w", "b"], 1,
            Ints("kernel_shape", kh, kw), Ints("strides", sh, sw), Ints("pads", pt, pl, pb, pr), Ints("dilations", dh, dw), Int("group", group))[0];
        Activation act = Activation.None;
        float p0 = 0, p1 = 0;
        switch (activation)
        {
            case "Relu": y = g.Node1("Relu", y); act = Activation.Relu; break;
            case "Sigmoid": y = g.Node1("Sigmoid", y); act = Activation.Sigmoid; break;
            case "LeakyRelu": y = g.Node("LeakyRelu", [y], 1, Float("alpha", 0.1f))[0]; act = Activation.LeakyRelu; p0 = 0.1f; break;
            case "Clip":
                g.Initializer("lo", Tensor.Scalar(-0.5f)); g.Initializer("hi", Tensor.Scalar(0.5f));
                y = g.Node("Clip", [y, "lo", "hi"])[0]; act = Activation.Clip; p0 = -0.5f; p1 = 0.5f; break;
        }
        var expected = RunReference(g, y, ("x", x, [n, c, h, w]));
        int oh = (h + pt + pb - dh * (kh - 1) - 1) / sh + 1, ow = (w + pl + pr - dw * (kw - 1) - 1) / sw + 1;
        var actual = new float[n * k * oh * ow];
        Conv.Conv2D(x, wt, bias, actual, n, c, h, w, k, kh, kw, oh, ow, sh, sw, pt, pl, dh, dw, group, act, p0, p1);
        Check.Close(expected, actual, "Conv2D vs reference", Rel, Abs);
    }

    [Theory]
    [InlineData(5, 7, 9, false, false, 1f, 1f, 1, 9)]
    [InlineData(6, 33, 10, true, false, 0.5f, 2f, 6, 1)]
    [InlineData(17, 20, 3, false, true, 1f, 1f, 17, 3)]
    [InlineData(4, 40, 24, false, true, 1.5f, 0.25f, 0, 0)]
    public void GemmMatchesReference(int m, int k, int n, bool transA, bool transB, float alpha, float beta, int cRows, int cCols)
    {
        var r = new Random(m * 100 + k);
        var a = Check.Data(r, m * k);
        var b = Check.Data(r, k * n);
        var c = cRows == 0 ? Array.Empty<float>() : Check.Data(r, cRows * cCols);
        var g = new GraphBuilder();
        g.Input("a", DataType.Float, transA ? [k, m] : [m, k]);
        g.Initializer("b", Tensor.FromArray(b, transB ? [n, k] : [k, n]));
        var inputs = new List<string> { "a", "b" };
        if (cRows != 0) { g.Initializer("c", Tensor.FromArray(c, cRows, cCols)); inputs.Add("c"); }
        string y = g.Node("Gemm", inputs.ToArray(), 1, Int("transA", transA ? 1 : 0), Int("transB", transB ? 1 : 0), Float("alpha", alpha), Float("beta", beta))[0];
        var expected = RunReference(g, y, ("a", a, transA ? [k, m] : [m, k]));
        var actual = new float[m * n];
        Gemm.Run(a, b, c, actual, m, k, n, transA, transB, alpha, beta, cRows, cCols, Activation.None, 0, 0);
        Check.Close(expected, actual, "Gemm vs reference", Rel, Abs);
    }

    [Theory]
    [InlineData("MaxPool", 3, 3, 2, 2, 1, 1, 1, 1, 0, 0)]
    [InlineData("MaxPool", 2, 2, 2, 2, 0, 0, 0, 0, 1, 0)]
    [InlineData("MaxPool", 3, 3, 1, 1, 1, 1, 1, 1, 0, 0)]
    [InlineData("AveragePool", 3, 3, 2, 2, 1, 1, 1, 1, 0, 0)]
    [InlineData("AveragePool", 3, 3, 2, 2, 1, 1, 1, 1, 0, 1)]
    [InlineData("AveragePool", 2, 3, 2, 2, 0, 1, 0, 0, 1, 1)]
    [InlineData("AveragePool", 2, 3, 2, 2, 0, 1, 0, 0, 1, 0)]
    public void PoolsMatchReference(string op, int kh, int kw, int sh, int sw, int pt, int pl, int pb, int pr, int ceil, int countIncludePad)
    {
        const int n = 1, c = 3, h = 10, w = 11;
        var r = new Random(kh * 10 + pt + ceil);
        var x = Check.Data(r, n * c * h * w);
        var g = new GraphBuilder();
        g.Input("x", DataType.Float, n, c, h, w);
        var attrs = new List<EdgeCompile.Compiler.IR.Attribute>
        {
            Ints("kernel_shape", kh, kw), Ints("strides", sh, sw), Ints("pads", pt, pl, pb, pr), Int("ceil_mode", ceil),
        };
        if (op == "AveragePool") attrs.Add(Int("count_include_pad", countIncludePad));
        string y = g.Node(op, ["x"], 1, attrs.ToArray())[0];
        g.Output(y, DataType.Float);
        var exec = new ReferenceExecutor(g.Build());
        var result = exec.Run(new Dictionary<string, Tensor> { ["x"] = Tensor.FromArray(x, n, c, h, w) })[y];
        int oh = result.Shape[2], ow = result.Shape[3];
        var actual = new float[n * c * oh * ow];
        if (op == "MaxPool") Pool.MaxPool2D(x, actual, n, c, h, w, kh, kw, oh, ow, sh, sw, pt, pl, 1, 1);
        else Pool.AveragePool2D(x, actual, n, c, h, w, kh, kw, oh, ow, sh, sw, pt, pl, pb, pr, countIncludePad == 1);
        Check.Close(result.As<float>(), actual, $"{op} vs reference", Rel, Abs);
    }

    [Theory]
    [InlineData(new[] { 3, 17 }, -1, false)]
    [InlineData(new[] { 2, 5, 6 }, 1, false)]
    [InlineData(new[] { 2, 5, 6 }, 1, true)]
    [InlineData(new[] { 4, 33 }, 1, true)]
    public void SoftmaxMatchesReference(int[] shape, int axis, bool log)
    {
        var r = new Random(shape.Length * 10 + axis);
        int total = shape.Aggregate(1, (p, d) => p * d);
        var x = Check.Data(r, total, -5f, 5f);
        var g = new GraphBuilder();
        g.Input("x", DataType.Float, shape.Select(d => (long)d).ToArray());
        string y = g.Node(log ? "LogSoftmax" : "Softmax", ["x"], 1, Int("axis", axis))[0];
        var expected = RunReference(g, y, ("x", x, shape));
        int ax = axis < 0 ? axis + shape.Length : axis;
        int outer = shape.Take(ax).Aggregate(1, (p, d) => p * d), inner = shape.Skip(ax + 1).Aggregate(1, (p, d) => p * d);
        var actual = new float[total];
        Normalization.Softmax(x, actual, outer, shape[ax], inner, log);
        Check.Close(expected, actual, "Softmax vs reference", Rel, Abs);
    }

    [Theory]
    [InlineData(3, 16, true)]
    [InlineData(5, 37, false)]
    public void LayerNormMatchesReference(int outer, int inner, bool withBias)
    {
        var r = new Random(outer * 100 + inner);
        var x = Check.Data(r, outer * inner, -3f, 3f);
        var scale = Check.Data(r, inner);
        var bias = withBias ? Check.Data(r, inner) : [];
        var g = new GraphBuilder();
        g.Input("x", DataType.Float, outer, inner);
        g.Initializer("s", Tensor.FromArray(scale, inner));
        var ins = new List<string> { "x", "s" };
        if (withBias) { g.Initializer("b", Tensor.FromArray(bias, inner)); ins.Add("b"); }
        string y = g.Node("LayerNormalization", ins.ToArray(), 1, Int("axis", -1), Float("epsilon", 1e-5f))[0];
        var expected = RunReference(g, y, ("x", x, [outer, inner]));
        var actual = new float[outer * inner];
        Normalization.LayerNorm(x, scale, bias, actual, outer, inner, 1e-5f);
        Check.Close(expected, actual, "LayerNorm vs reference", Rel, Abs);
    }
}
