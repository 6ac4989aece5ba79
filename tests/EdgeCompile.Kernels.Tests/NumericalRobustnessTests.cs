using EdgeCompile.Tests.Support;
using EdgeCompile.Compiler;
using EdgeCompile.Compiler.Reference;
using EdgeCompile.Kernels.Tests.Support;

namespace EdgeCompile.Kernels.Tests;

/// <summary>
/// NaN and infinities in weights or inputs never crash a kernel: they propagate per IEEE 754 (float32 arithmetic,
/// see docs/kernels.md "Numerical behaviour"), the same on every path and in the reference executor. Empty
/// (zero-size) tensors are valid everywhere.
/// </summary>
public class NumericalRobustnessTests
{
    private static IEnumerable<Isa> Paths() => new[] { Isa.Scalar }.Concat(Check.FastPaths());
    private static IEnumerable<Isa> GemmPaths() => new[] { Isa.Scalar }.Concat(Check.GemmPaths());

    [Fact]
    public void Gemm_propagates_nan_and_inf_per_ieee_on_every_path()
    {
        // y = a @ I: y[0] = inf*1 + 1*0 = inf; y[1] = inf*0 + 1*1 = NaN (inf*0); second row: NaN contaminates both.
        float[] a = [float.PositiveInfinity, 1f, 2f, float.NaN], b = [1f, 0f, 0f, 1f];
        foreach (var isa in GemmPaths())
        {
            var y = new float[4];
            EdgeCompile.Kernels.Gemm.RunCore(a, b, [], y, 2, 2, 2, false, false, 1f, 0f, 0, 0, Activation.None, 0, 0, isa);
            Assert.True(float.IsPositiveInfinity(y[0]), $"{isa}: {y[0]}");
            Assert.True(float.IsNaN(y[1]) && float.IsNaN(y[2]) && float.IsNaN(y[3]), $"{isa}: {string.Join(", ", y)}");
        }
        // A larger, SIMD-sized product: one NaN weight poisons exactly its output column.
        var r = new Random(1);
        int m = 9, k = 33, n = 19;
        float[] la = Check.Data(r, m * k), lb = Check.Data(r, k * n);
        lb[5 * n + 7] = float.NaN;
        foreach (var isa in GemmPaths())
        {
            var y = new float[m * n];
            EdgeCompile.Kernels.Gemm.RunCore(la, lb, [], y, m, k, n, false, false, 1f, 0f, 0, 0, Activation.Relu, 0, 0, isa);
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                    Assert.True(float.IsNaN(y[i * n + j]) == (j == 7), $"{isa}: y[{i},{j}] = {y[i * n + j]}");
        }
    }

    [Fact]
    public void Conv2D_propagates_nan_weights_and_infinite_inputs()
    {
        var r = new Random(2);
        int c = 3, h = 6, w = 7, k = 4;
        float[] x = Check.Data(r, c * h * w), wt = Check.Data(r, k * c * 9), bias = Check.Data(r, k);
        wt[2 * c * 9 + 4] = float.NaN;         // output channel 2
        foreach (var isa in GemmPaths())
        {
            var y = new float[k * 4 * 5];
            EdgeCompile.Kernels.Conv.Conv2DCore(x, wt, bias, y, 1, c, h, w, k, 3, 3, 4, 5, 1, 1, 0, 0, 1, 1, 1, Activation.None, 0, 0, isa);
            for (int ch = 0; ch < k; ch++)
                for (int i = 0; i < 20; i++)
                    Assert.True(float.IsNaN(y[ch * 20 + i]) == (ch == 2), $"{isa}: channel {ch} element {i} = {y[ch * 20 + i]}");
        }
        // +inf input with all-positive weights gives +inf where the window covers it, finite elsewhere.
        float[] xi = new float[h * w];
        xi[0] = float.PositiveInfinity;
        float[] ones = Enumerable.Repeat(1f, 9).ToArray();
        foreach (var isa in GemmPaths())
        {
            var y = new float[4 * 5];
            EdgeCompile.Kernels.Conv.Conv2DCore(xi, ones, [], y, 1, 1, h, w, 1, 3, 3, 4, 5, 1, 1, 0, 0, 1, 1, 1, Activation.None, 0, 0, isa);
            Assert.True(float.IsPositiveInfinity(y[0]), $"{isa}: {y[0]}");
            Assert.All(y.Skip(1), v => Assert.Equal(0f, v));
        }
    }

    [Fact]
    public void Softmax_of_an_all_negative_infinity_row_is_nan_like_numpy()
    {
        // exp(x - max) with max = -inf is exp(-inf - -inf) = exp(NaN): NaN, as numpy's exp(x - x.max()) / sum gives.
        // A row with one finite value is fine: the -inf entries get exactly 0.
        foreach (int inner in new[] { 1, 5 })
            foreach (bool log in new[] { false, true })
                foreach (var isa in Paths())
                {
                    int axis = 11;
                    var x = new float[2 * axis * inner];
                    Array.Fill(x, float.NegativeInfinity);
                    for (int i = 0; i < inner; i++) x[axis * inner + 3 * inner + i] = 0.5f;   // second row: one finite entry per column
                    var y = new float[x.Length];
                    EdgeCompile.Kernels.Normalization.SoftmaxCore(x, y, 2, axis, inner, log, isa);
                    for (int j = 0; j < axis * inner; j++) Assert.True(float.IsNaN(y[j]), $"{isa} inner {inner} log {log}: [{j}] = {y[j]}");
                    for (int a = 0; a < axis; a++)
                        for (int i = 0; i < inner; i++)
                        {
                            float v = y[axis * inner + a * inner + i];
                            float want = a == 3 ? (log ? 0f : 1f) : (log ? float.NegativeInfinity : 0f);
                            Assert.True(v == want, $"{isa} inner {inner} log {log}: row 2 [{a},{i}] = {v}, want {want}");
                        }
                }
    }

    [Fact]
    public void Nan_in_an_input_row_makes_softmax_layernorm_and_reductions_nan_not_crash()
    {
        var r = new Random(3);
        int outer = 3, axis = 17;
        float[] x = Check.Data(r, outer * axis);
        x[axis + 4] = float.NaN;                 // row 1
        foreach (var isa in Paths())
        {
            var y = new float[x.Length];
            EdgeCompile.Kernels.Normalization.SoftmaxCore(x, y, outer, axis, 1, false, isa);
            for (int i = 0; i < x.Length; i++) Assert.True(float.IsNaN(y[i]) == (i / axis == 1), $"softmax {isa} [{i}] = {y[i]}");
            EdgeCompile.Kernels.Normalization.LayerNormCore(x, Enumerable.Repeat(1f, axis).ToArray(), [], y, outer, axis, 1e-5f, isa);
            for (int i = 0; i < x.Length; i++) Assert.True(float.IsNaN(y[i]) == (i / axis == 1), $"layernorm {isa} [{i}] = {y[i]}");
            foreach (var op in Enum.GetValues<ReduceOp>())
            {
                var red = new float[outer];
                EdgeCompile.Kernels.Reduce.RunCore(op, x, red, outer, axis, 1, isa);
                Assert.True(float.IsNaN(red[1]), $"{op} {isa}: NaN row reduced to {red[1]}");
                // LogSum of a row with a negative sum is NaN by definition (log of a negative number), not a propagated NaN.
                if (op != ReduceOp.LogSum)
                    Assert.False(float.IsNaN(red[0]) || float.IsNaN(red[2]), $"{op} {isa}: clean rows gave {red[0]}, {red[2]}");
            }
        }
    }

    [Fact]
    public void Elementwise_follows_ieee_for_special_values()
    {
        float[] x = [float.NaN, float.PositiveInfinity, float.NegativeInfinity, 0f, -0f, 1f, -1f, float.MaxValue, float.Epsilon, 3f, 4f, 5f, 6f, 7f, 8f, 9f, 10f];
        foreach (var op in Enum.GetValues<UnaryOp>())
        {
            var expected = new float[x.Length];
            EdgeCompile.Kernels.Elementwise.UnaryReference(op, x, expected, 0.2f, 0.7f);
            Assert.True(float.IsNaN(expected[0]) || op == UnaryOp.Clip, $"{op}(NaN) = {expected[0]}: NaN must propagate");
            foreach (var isa in Check.FastPaths())
            {
                var y = new float[x.Length];
                EdgeCompile.Kernels.Elementwise.UnaryCore(op, x, y, 0.2f, 0.7f, isa);
                Check.Close(expected, y, $"{op} {isa}", 1e-5f, 1e-6f);
            }
        }
        // Division by zero and inf - inf.
        float[] a = [1f, -1f, 0f, float.PositiveInfinity], b = [0f, 0f, 0f, float.PositiveInfinity];
        int[] shape = [4], unit = [1];
        foreach (var isa in Paths())
        {
            var y = new float[4];
            EdgeCompile.Kernels.Elementwise.BinaryCore(BinaryOp.Div, a, b, y, shape, unit, unit, isa);
            Assert.Equal([float.PositiveInfinity, float.NegativeInfinity], y[..2]);
            Assert.True(float.IsNaN(y[2]) && float.IsNaN(y[3]), $"{isa}: 0/0 and inf/inf must be NaN");
            EdgeCompile.Kernels.Elementwise.BinaryCore(BinaryOp.Sub, b, b, y, shape, unit, unit, isa);
            Assert.True(float.IsNaN(y[3]), $"{isa}: inf - inf must be NaN");
        }
    }

    [Fact]
    public void Empty_tensors_are_valid_everywhere()
    {
        foreach (var isa in Paths())
        {
            // Zero batch / zero channels / zero spatial: nothing to write, nothing thrown.
            EdgeCompile.Kernels.Conv.Conv2DCore([], new float[2 * 3 * 9], [], [], 0, 3, 5, 5, 2, 3, 3, 3, 3, 1, 1, 0, 0, 1, 1, 1, Activation.None, 0, 0, isa);
            EdgeCompile.Kernels.Gemm.RunCore([], [], [], [], 0, 0, 0, false, false, 1, 1, 0, 0, Activation.None, 0, 0, isa);
            EdgeCompile.Kernels.Gemm.MatMulCore([], [], [], 0, 3, 4, 5, 12, 20, isa);
            EdgeCompile.Kernels.Normalization.SoftmaxCore([], [], 0, 7, 3, false, isa);
            EdgeCompile.Kernels.Pool.GlobalCore([], [], 0, 9, true, isa);
            EdgeCompile.Kernels.Elementwise.UnaryCore(UnaryOp.Exp, [], [], 0, 0, isa);

            // k = 0: the sum over nothing is 0, so Gemm gives beta * c (then the activation).
            var y = new float[6];
            EdgeCompile.Kernels.Gemm.RunCore([], [], [1f, -2f, 3f], y, 2, 0, 3, false, false, 1f, 2f, 1, 3, Activation.Relu, 0, 0, isa);
            Assert.Equal([2f, 0f, 6f, 2f, 0f, 6f], y);
            var z = new float[6];
            EdgeCompile.Kernels.Gemm.MatMulCore([], [], z.AsSpan(), 1, 2, 0, 3, 0, 0, isa);
            Assert.All(z, v => Assert.Equal(0f, v));

            // Reducing an empty axis gives the operator's identity (numpy: sum 0, prod 1; max/min of nothing -inf/+inf;
            // mean 0/0 = NaN).
            foreach (var (op, want) in new[] { (ReduceOp.Sum, 0f), (ReduceOp.Prod, 1f), (ReduceOp.Max, float.NegativeInfinity), (ReduceOp.Min, float.PositiveInfinity), (ReduceOp.SumSquare, 0f), (ReduceOp.L1, 0f), (ReduceOp.L2, 0f), (ReduceOp.Mean, float.NaN), (ReduceOp.LogSumExp, float.NegativeInfinity) })
            {
                var red = new float[4];
                EdgeCompile.Kernels.Reduce.RunCore(op, [], red, 2, 0, 2, isa);
                Assert.All(red, v => Assert.True(v.Equals(want), $"{op} {isa} over an empty axis: {v}, want {want}"));
            }
        }
    }

    [Fact]
    public void Reference_executor_and_kernels_agree_on_nan_and_inf()
    {
        // Gemm with a NaN weight and an infinite input, then Softmax: the executor (double inside) and the kernels
        // produce NaN and infinities in the same places.
        int m = 2, k = 5, n = 4;
        var r = new Random(4);
        float[] a = Check.Data(r, m * k), b = Check.Data(r, k * n), bias = Check.Data(r, n);
        b[3 * n + 1] = float.NaN;
        a[k + 2] = float.NegativeInfinity;
        var g = new GraphBuilder();
        g.Input("a", DataType.Float, m, k);
        g.Initializer("b", Tensor.FromArray(b, k, n));
        g.Initializer("c", Tensor.FromArray(bias, n));
        var gemm = g.Node1("Gemm", "a", "b", "c");
        var sm = g.Node("Softmax", [gemm], 1, GraphBuilder.Int("axis", 1))[0];
        g.Output(gemm, DataType.Float);
        g.Output(sm, DataType.Float);
        var outputs = new ReferenceExecutor(g.Build()).Run(new Dictionary<string, Tensor> { ["a"] = Tensor.FromArray(a, m, k) });
        float[] refGemm = outputs[gemm].As<float>(), refSm = outputs[sm].As<float>();

        var y = new float[m * n];
        var s = new float[m * n];
        EdgeCompile.Kernels.Gemm.Run(a, b, bias, y, m, k, n, false, false, 1f, 1f, 1, n, Activation.None, 0, 0);
        EdgeCompile.Kernels.Normalization.Softmax(y, s, m, n, 1, false);
        for (int i = 0; i < m * n; i++)
        {
            Assert.True(float.IsNaN(refGemm[i]) == float.IsNaN(y[i]) && float.IsInfinity(refGemm[i]) == float.IsInfinity(y[i]), $"gemm [{i}]: reference {refGemm[i]}, kernel {y[i]}");
            Assert.True(float.IsNaN(refSm[i]) == float.IsNaN(s[i]), $"softmax [{i}]: reference {refSm[i]}, kernel {s[i]}");
        }
        Assert.Contains(y, float.IsNaN);
        Assert.Contains(y, float.IsNegativeInfinity);
    }
}
