using EdgeCompile.Kernels.Tests.Support;

namespace EdgeCompile.Kernels.Tests;

public class ElementwiseTests(Xunit.Abstractions.ITestOutputHelper output)
{
    /// <summary>The operators whose vector paths are polynomial approximations (VectorMath), not bit-exact.</summary>
    private static readonly UnaryOp[] Approximated = [UnaryOp.Exp, UnaryOp.Sigmoid, UnaryOp.Tanh, UnaryOp.Erf, UnaryOp.Gelu];

    [Fact]
    public void UnaryFastPathsAreBitExactWithScalarReference()
    {
        var r = new Random(11);
        foreach (UnaryOp op in Enum.GetValues<UnaryOp>().Except(Approximated))
            foreach (int len in new[] { 0, 1, 3, 4, 7, 8, 9, 15, 16, 17, 33, 100 })
            {
                var x = Check.Data(r, len, -4f, 4f);
                if (op is UnaryOp.Log or UnaryOp.Sqrt) for (int i = 0; i < len; i++) x[i] = MathF.Abs(x[i]) + 0.01f;
                var expected = new float[len];
                Elementwise.UnaryReference(op, x, expected, 0.2f, 0.5f);
                foreach (var isa in Check.FastPaths())
                {
                    var y = new float[len];
                    Elementwise.UnaryCore(op, x, y, 0.2f, 0.5f, isa);
                    Check.Exact(expected, y, $"{op} len={len} {isa}");
                    // In place (x and y the same memory), as the generated code may do.
                    var inPlace = (float[])x.Clone();
                    Elementwise.UnaryCore(op, inPlace, inPlace, 0.2f, 0.5f, isa);
                    Check.Exact(expected, inPlace, $"{op} in place len={len} {isa}");
                }
            }
    }

    /// <summary>
    /// The tolerances stated in VectorMath, against the scalar reference, over the whole useful range of each
    /// function plus the special values, at a ragged length (vector body and scalar tail), out of place and in place:
    /// Exp ≤ 2 ulp for normal results (≤ 2 subnormal steps below), Sigmoid and Tanh relative 4e-7, Erf absolute 2e-7,
    /// Gelu relative 2e-6 + absolute 1e-9; ±∞, NaN and ±0 as the reference.
    /// </summary>
    [Fact]
    public void VectorTranscendentalsStayWithinTheirStatedTolerance()
    {
        var r = new Random(12);
        float[] specials = [0f, -0f, float.PositiveInfinity, float.NegativeInfinity, float.NaN, 88.72f, 88.73f, 89f, -87.33f, -87.34f,
            -103.9f, -103.98f, -104f, -150f, 1e-30f, -1e-30f, 1e-8f, 0.49999f, 0.5f, 0.625f, -0.625f, 0.70710678f, 9f, -9f, 15f, -15f];
        foreach (var op in Approximated)
        {
            (float lo, float hi) = op switch { UnaryOp.Exp => (-110f, 95f), UnaryOp.Erf => (-6f, 6f), _ => (-20f, 20f) };
            int count = 200_003;
            var x = new float[count];
            for (int i = 0; i < count; i++)
                x[i] = i < specials.Length ? specials[i] : r.Next(4) == 0 ? lo + (hi - lo) * (float)r.NextDouble() : (float)(r.NextDouble() * 6 - 3);
            var expected = new float[count];
            Elementwise.UnaryReference(op, x, expected, 0, 0);
            foreach (var (isa, wide) in WidePaths())
                foreach (bool inPlace in new[] { false, true })
                {
                    var y = inPlace ? (float[])x.Clone() : new float[count];
                    Elementwise.UnaryCore(op, inPlace ? y : x, y, 0, 0, isa, wide);
                    double worst = WorstStatedError(op, x, expected, y, $"{op} {isa} wide={wide} inPlace={inPlace}");
                    if (!inPlace) output.WriteLine($"{op} {isa} wide={wide}: worst {(op == UnaryOp.Exp ? "ulp" : op == UnaryOp.Erf ? "abs" : op == UnaryOp.Gelu ? "|diff|/(|y|+1e-3)" : "rel")} error {worst:G3}");
                }
        }
    }

    /// <summary>
    /// Every length from 0 to 50 (each tail of the 16-, 8- and 4-lane loops and the scalar remainder) with special
    /// values (NaN, ±∞, ±0, subnormals, ±1e30, the exp overflow/underflow edges) moved through every position: each
    /// element lands once in each loop, and every result stays within the bound stated in VectorMath.
    /// </summary>
    [Fact]
    public void VectorTranscendentalsOnEveryTailAndPosition()
    {
        var r = new Random(13);
        float[] specials = [float.NaN, float.PositiveInfinity, float.NegativeInfinity, 0f, -0f, 1e-40f, -1e-40f, 1.2e-38f, 1e30f, -1e30f,
            88.72f, -87.34f, -103.98f, -104f, 13.2f, -13.2f, 0.5f, -0.70710678f, 3f, -3f, 6f, -6f, 20f, -20f];
        foreach (var op in Approximated)
            foreach (var (isa, wide) in WidePaths())
                for (int len = 0; len <= 50; len++)
                    for (int shift = 0; shift < Math.Max(1, Math.Min(len, 17)); shift++)
                    {
                        var x = new float[len];
                        for (int i = 0; i < len; i++)
                            x[i] = (i + shift) % 3 == 0 ? specials[(i + shift + len) % specials.Length] : (float)(r.NextDouble() * 16 - 8);
                        var expected = new float[len];
                        Elementwise.UnaryReference(op, x, expected, 0, 0);
                        var y = new float[len];
                        Elementwise.UnaryCore(op, x, y, 0, 0, isa, wide);
                        WorstStatedError(op, x, expected, y, $"{op} {isa} wide={wide} len={len} shift={shift}");
                        var inPlace = (float[])x.Clone();
                        Elementwise.UnaryCore(op, inPlace, inPlace, 0, 0, isa, wide);
                        Assert.Equal(y, inPlace);
                    }
    }

    /// <summary>The fast paths, and on the Vector256 path also its 512-bit variant where the CPU accelerates it.</summary>
    internal static IEnumerable<(Isa Isa, bool Wide)> WidePaths()
    {
        foreach (var isa in Check.FastPaths())
        {
            yield return (isa, false);
            if (isa == Isa.Vector256 && System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated) yield return (isa, true);
        }
    }

    /// <summary>Asserts the bound VectorMath states for <paramref name="op"/> on every element; returns the worst error.</summary>
    private static double WorstStatedError(UnaryOp op, float[] x, float[] expected, float[] y, string where)
    {
        double worst = 0;
        for (int i = 0; i < x.Length; i++)
        {
            float e = expected[i], a = y[i];
            if (BitConverter.SingleToInt32Bits(e) == BitConverter.SingleToInt32Bits(a) || (float.IsNaN(e) && float.IsNaN(a))) continue;
            string what = $"{where} x={x[i]:R}: expected {e:R}, got {a:R}";
            Assert.False(float.IsNaN(e) || float.IsNaN(a) || float.IsInfinity(e) || float.IsInfinity(a), what);
            double err;
            switch (op)
            {
                case UnaryOp.Exp:
                    err = Math.Abs(BitConverter.SingleToInt32Bits(e) - BitConverter.SingleToInt32Bits(a));
                    Assert.True(err <= 2, $"{what} ({err} ulp)");
                    break;
                case UnaryOp.Erf:
                    err = Math.Abs((double)e - a);
                    Assert.True(err <= 2e-7, $"{what} (abs {err:E2})");
                    break;
                case UnaryOp.Gelu:
                    err = Math.Abs((double)e - a);
                    Assert.True(err <= 2e-6 * Math.Abs(e) + 1e-9, $"{what} (abs {err:E2})");
                    err /= Math.Abs(e) + 1e-3;
                    break;
                default:
                    err = Math.Abs((double)e - a) / Math.Abs((double)e);
                    Assert.True(err <= 4e-7, $"{what} (rel {err:E2})");
                    break;
            }
            worst = Math.Max(worst, err);
        }
        return worst;
    }

    [Fact]
    public void UnaryHandComputedValues()
    {
        float[] Apply(UnaryOp op, float p0, float p1, params float[] x)
        {
            var y = new float[x.Length];
            Elementwise.Unary(op, x, y, p0, p1);
            return y;
        }
        Assert.Equal(new float[] { 0, 2, 2, -0f, -2, 0 }, Apply(UnaryOp.Round, 0, 0, 0.5f, 1.5f, 2.5f, -0.5f, -1.5f, 0.4f));
        Assert.Equal(new float[] { -1, 0, 2 }, Apply(UnaryOp.Clip, -1, 2, -5, 0, 7));
        Assert.Equal(new float[] { 0, 0.5f, 1 }, Apply(UnaryOp.HardSigmoid, 0.2f, 0.5f, -3, 0, 3));
        Assert.Equal(new float[] { 0, 0, 1 * (1 / 6f + 0.5f), 4 }, Apply(UnaryOp.HardSwish, 0, 0, -4, 0, 1, 4));
        Assert.Equal(new float[] { -0.1f, 3 }, Apply(UnaryOp.LeakyRelu, 0.1f, 0, -1, 3));
        var erf = Apply(UnaryOp.Erf, 0, 0, 0.5f, 1f, -2f, 1e-4f, 3f);
        Check.Close([0.52049988f, 0.84270079f, -0.99532227f, 1.1283792e-4f, 0.99997791f], erf, "Erf", 3e-7f, 0f);
        var gelu = Apply(UnaryOp.Gelu, 0, 0, 1f, -1f, -6f);
        Check.Close([0.84134475f, -0.15865525f, -5.9195259e-9f], gelu, "Gelu", 1e-6f, 0f);
        var geluTanh = Apply(UnaryOp.GeluTanh, 0, 0, 1f);
        Check.Close([0.84119199f], geluTanh, "GeluTanh", 1e-6f, 0f);
        Check.Close([0.31326169f, 20f, 2.0611537e-9f], Apply(UnaryOp.Softplus, 0, 0, -1f, 20f, -20f), "Softplus", 1e-6f, 0f);
        Check.Close([1.0507010f, -1.1113307f], Apply(UnaryOp.Selu, 1.6732632f, 1.0507010f, 1f, -1f), "Selu", 1e-6f, 0f);
        Check.Close([0.86509836f], Apply(UnaryOp.Mish, 0, 0, 1f), "Mish", 1e-6f, 0f);
    }

    [Fact]
    public void ErfIsAccurateAcrossTheRange()
    {
        // Against a double-precision series / continued fraction (independent of the kernel's formulas).
        for (double x = -5; x <= 5; x += 0.01)
        {
            float got = SpecialFunctionsErf((float)x);
            double want = ErfDouble((float)x);
            Assert.True(Math.Abs(got - want) <= 2.5e-7 * Math.Abs(want) + 1e-30, $"erf({(float)x}) = {got}, expected {want}");
        }
    }

    private static float SpecialFunctionsErf(float x) => Elementwise.UnaryScalar(UnaryOp.Erf, x, 0, 0);

    private static double ErfDouble(double x)
    {
        double ax = Math.Abs(x);
        if (ax < 3)
        {
            double x2 = x * x, term = x, sum = x;
            for (int n = 1; n < 500; n++) { term *= 2 * x2 / (2 * n + 1); sum += term; if (Math.Abs(term) < 1e-18 * Math.Abs(sum)) break; }
            return 1.1283791670955126 * Math.Exp(-x2) * sum;
        }
        double f = ax;
        for (int n = 300; n >= 1; n--) f = ax + n / 2.0 / f;
        double r = 1 - 0.56418958354775628 * Math.Exp(-ax * ax) / f;
        return x < 0 ? -r : r;
    }

    [Fact]
    public void BinaryFastPathsAreBitExactWithScalarReference()
    {
        var r = new Random(12);
        for (int t = 0; t < 300; t++)
        {
            int rank = r.Next(0, 6);
            var shape = new int[rank];
            for (int d = 0; d < rank; d++) shape[d] = r.Next(1, 7);
            if (rank > 0 && r.Next(3) == 0) shape[rank - 1] = r.Next(7, 40);   // long rows: vector bodies and tails
            int[] aStrides = BroadcastStrides(shape, r, out int aLen), bStrides = BroadcastStrides(shape, r, out int bLen);
            var op = (BinaryOp)r.Next(0, 8);
            var a = Check.Data(r, aLen, -2f, 2f);
            var b = Check.Data(r, bLen, -2f, 2f);
            if (op == BinaryOp.Pow) for (int i = 0; i < a.Length; i++) a[i] = MathF.Abs(a[i]);
            int total = 1;
            foreach (int s in shape) total *= s;
            var expected = new float[total];
            Elementwise.BinaryScalarReference(op, a, b, expected, shape, aStrides, bStrides);
            foreach (var isa in Check.FastPaths())
            {
                var y = new float[total];
                Elementwise.BinaryCore(op, a, b, y, shape, aStrides, bStrides, isa);
                Check.Exact(expected, y, $"{op} [{string.Join(",", shape)}] a[{string.Join(",", aStrides)}] b[{string.Join(",", bStrides)}] {isa}");
            }
        }
    }

    /// <summary>Row-major strides of a random broadcast of shape: each dimension kept or broadcast (stride 0).</summary>
    private static int[] BroadcastStrides(int[] shape, Random r, out int length)
    {
        var strides = new int[shape.Length];
        int mode = r.Next(4); // 0: full, 1: scalar, 2: per-"channel" (dim 1 only), 3: random
        length = 1;
        for (int d = shape.Length - 1; d >= 0; d--)
        {
            bool keep = mode switch { 0 => true, 1 => false, 2 => d == Math.Min(1, shape.Length - 1), _ => r.Next(2) == 0 };
            strides[d] = keep ? length : 0;
            if (keep) length *= shape[d];
        }
        return strides;
    }

    [Fact]
    public void BinaryHandComputedBroadcasts()
    {
        // [2, 3] + per-row [2, 1] and PRelu with a per-channel slope.
        var y = new float[6];
        Elementwise.Binary(BinaryOp.Add, [1, 2, 3, 4, 5, 6], [10, 20], y, [2, 3], [3, 1], [1, 0]);
        Assert.Equal(new float[] { 11, 12, 13, 24, 25, 26 }, y);
        Elementwise.Binary(BinaryOp.PRelu, [-1, 2, -3, 4, -5, 6], [0.5f, 0.25f], y, [2, 3], [3, 1], [1, 0]);
        Assert.Equal(new float[] { -0.5f, 2, -1.5f, 4, -1.25f, 6 }, y);
        Elementwise.Binary(BinaryOp.Pow, [2, 3], [3], new Span<float>(y, 0, 2), [2], [1], [0]);
        Assert.Equal(new float[] { 8, 27 }, y[..2]);
    }

    [Fact]
    public void RejectsMismatchedArguments()
    {
        Assert.Equal("y", Assert.Throws<ArgumentException>(() => Elementwise.Unary(UnaryOp.Relu, new float[3], new float[4], 0, 0)).ParamName);
        Assert.Equal("b", Assert.Throws<ArgumentException>(() => Elementwise.Binary(BinaryOp.Add, new float[6], new float[2], new float[6], [2, 3], [3, 1], [0, 1])).ParamName);
        Assert.Equal("outShape", Assert.Throws<ArgumentException>(() => Elementwise.Binary(BinaryOp.Add, new float[1], new float[1], new float[1], new int[9], new int[9], new int[9])).ParamName);
    }
}
