using EdgeCompile.Kernels.Tests.Support;

namespace EdgeCompile.Kernels.Tests;

public class NormalizationTests
{
    [Fact]
    public void SoftmaxMatchesScalarReference()
    {
        var r = new Random(21);
        for (int t = 0; t < 120; t++)
        {
            int outer = r.Next(1, 4), axis = r.Next(1, 40), inner = r.Next(3) == 0 ? 1 : r.Next(1, 12);
            bool log = r.Next(2) == 0;
            var x = Check.Data(r, outer * axis * inner, -8f, 8f);
            var expected = new float[x.Length];
            Normalization.SoftmaxScalar(x, expected, outer, axis, inner, log);
            foreach (var (isa, wide) in ElementwiseTests.WidePaths())
            {
                var y = new float[x.Length];
                Normalization.SoftmaxCore(x, y, outer, axis, inner, log, isa, wide);
                Check.Close(expected, y, $"Softmax outer={outer} axis={axis} inner={inner} log={log} {isa} wide={wide}");
            }
        }
    }

    /// <summary>
    /// Softmax/LogSoftmax on the vector exp (2 ulp) over long rows (attention-sized, ragged lengths) and a wide
    /// input range, where most terms underflow: relative 1e-5 + absolute 1e-6 (the sum is also reordered).
    /// </summary>
    [Fact]
    public void SoftmaxWithVectorExpOnLongRowsAndWideRange()
    {
        var r = new Random(23);
        for (int t = 0; t < 40; t++)
        {
            int outer = r.Next(1, 4), axis = r.Next(1, 600), inner = r.Next(2) == 0 ? 1 : r.Next(2, 20);
            bool log = r.Next(2) == 0;
            var x = Check.Data(r, outer * axis * inner, -90f, 90f);
            if (t % 5 == 0) x[r.Next(x.Length)] = float.NegativeInfinity;
            var expected = new float[x.Length];
            Normalization.SoftmaxScalar(x, expected, outer, axis, inner, log);
            foreach (var (isa, wide) in ElementwiseTests.WidePaths())
            {
                var y = new float[x.Length];
                Normalization.SoftmaxCore(x, y, outer, axis, inner, log, isa, wide);
                Check.Close(expected, y, $"Softmax outer={outer} axis={axis} inner={inner} log={log} {isa} wide={wide}", 1e-5f, 1e-6f);
            }
        }
    }

    /// <summary>
    /// Softmax over the last axis at every row length 1..50 (each tail of the 16-, 8- and 4-lane exp-and-sum pass and
    /// of the scaling pass), with masked (-∞) entries, an all-masked row, a NaN row and a row with +∞: within relative
    /// 1e-5 + absolute 1e-6 of the reference, NaN where it is NaN.
    /// </summary>
    [Fact]
    public void SoftmaxLastAxisEveryTailWithMaskedAndSpecialRows()
    {
        var r = new Random(24);
        for (int axis = 1; axis <= 50; axis++)
        {
            const int outer = 5;
            var x = Check.Data(r, outer * axis, -30f, 30f);
            for (int a = 0; a < axis; a += 3) x[a] = float.NegativeInfinity;            // row 0: masked entries
            if (axis > 1) for (int a = 0; a < axis; a++) x[axis + a] = float.NegativeInfinity; // row 1: all masked
            x[2 * axis + axis / 2] = float.NaN;                                         // row 2: NaN
            x[3 * axis + axis - 1] = float.PositiveInfinity;                            // row 3: +∞
            var expected = new float[x.Length];
            Normalization.SoftmaxScalar(x, expected, outer, axis, 1, false);
            foreach (var (isa, wide) in ElementwiseTests.WidePaths())
            {
                var y = new float[x.Length];
                Normalization.SoftmaxCore(x, y, outer, axis, 1, false, isa, wide);
                Check.Close(expected, y, $"Softmax axis={axis} {isa} wide={wide}", 1e-5f, 1e-6f);
            }
        }
    }

    /// <summary>
    /// Softmax's exp-and-sum pass (VectorMath.ExpRow) element by element against MathF.Exp(x - max): 2 ulp (relative
    /// 2.4e-7) on the 256/128-bit paths, relative 4e-7 on the 512-bit one where the result is a normal float, 3e-45
    /// absolute where it is subnormal, 0 for -∞, NaN for NaN; every length 0..70 and a long row; the returned sum within
    /// 1e-6 relative of the double sum of what it wrote.
    /// </summary>
    [Fact]
    public void SoftmaxExpRowStaysWithinItsBound()
    {
        var r = new Random(25);
        foreach (var (isa, wide) in ElementwiseTests.WidePaths())
            foreach (int len in Enumerable.Range(0, 71).Append(1000).Append(4099))
            {
                const float sub = 3.5f;
                var x = new float[len];
                for (int i = 0; i < len; i++)
                    x[i] = (i % 7) switch
                    {
                        0 => sub - 110f * (float)r.NextDouble(),     // down into the subnormal and zero results
                        1 => sub - 1e-6f * (float)r.NextDouble(),
                        2 when i % 5 == 0 => float.NegativeInfinity,
                        _ => sub - 20f * (float)r.NextDouble(),
                    };
                if (len > 0) x[len / 2] = sub;
                var y = new float[len];
                float s = VectorMath.ExpRow(x, sub, y, isa, wide);
                double sum = 0;
                for (int i = 0; i < len; i++)
                {
                    float e = MathF.Exp(x[i] - sub), a = y[i];
                    sum += a;
                    string what = $"{isa} wide={wide} len={len} x[{i}]={x[i]:R}: expected {e:R}, got {a:R}";
                    if (e == 0f && a == 0f) continue;
                    if (e >= 1.17549435e-38f) Assert.True(Math.Abs((double)a - e) <= (wide ? 4e-7 : 2.4e-7) * e, what);
                    else Assert.True(Math.Abs((double)a - e) <= 3e-45, what);
                }
                Assert.True(Math.Abs(s - sum) <= 1e-6 * sum, $"{isa} wide={wide} len={len}: sum {s:R}, double sum of y {sum:R}");
                if (len > 3)
                {
                    x[1] = float.NaN;
                    VectorMath.ExpRow(x, sub, y, isa, wide);
                    Assert.True(float.IsNaN(y[1]), $"{isa} wide={wide} len={len}: NaN in, {y[1]:R} out");
                }
            }
    }

    [Fact]
    public void LayerNormAndChannelAffineMatchScalarReference()
    {
        var r = new Random(22);
        for (int t = 0; t < 60; t++)
        {
            int outer = r.Next(1, 5), inner = r.Next(1, 70);
            var x = Check.Data(r, outer * inner);
            var scale = Check.Data(r, inner);
            var bias = r.Next(2) == 0 ? Array.Empty<float>() : Check.Data(r, inner);
            var expected = new float[x.Length];
            Normalization.LayerNormScalar(x, scale, bias, expected, outer, inner, 1e-5f);
            int n = r.Next(1, 3), c = r.Next(1, 5), spatial = r.Next(1, 30);
            var xa = Check.Data(r, n * c * spatial);
            var sc = Check.Data(r, c);
            var sh = Check.Data(r, c);
            var eAffine = new float[xa.Length];
            Normalization.ChannelAffineScalar(xa, sc, sh, eAffine, n, c, spatial);
            foreach (var isa in Check.FastPaths())
            {
                var y = new float[x.Length];
                Normalization.LayerNormCore(x, scale, bias, y, outer, inner, 1e-5f, isa);
                // The normalisation divides by a reordered standard deviation: a little looser than a plain sum.
                Check.Close(expected, y, $"LayerNorm outer={outer} inner={inner} {isa}", 1e-4f, 1e-5f);
                var ya = new float[xa.Length];
                Normalization.ChannelAffineCore(xa, sc, sh, ya, n, c, spatial, isa);
                Check.Exact(eAffine, ya, $"ChannelAffine {isa}");
            }
        }
    }

    [Fact]
    public void HandComputedValues()
    {
        var y = new float[3];
        Normalization.Softmax([1, 2, 3], y, 1, 3, 1, log: false);
        Check.Close([0.09003057f, 0.24472847f, 0.66524096f], y, "Softmax", 1e-6f, 0f);
        Normalization.Softmax([1, 2, 3], y, 1, 3, 1, log: true);
        Check.Close([-2.40760596f, -1.40760596f, -0.40760596f], y, "LogSoftmax", 1e-6f, 0f);
        // Large inputs must not overflow (the max is subtracted).
        Normalization.Softmax([1000, 1000, 1000], y, 1, 3, 1, log: false);
        Check.Close([1 / 3f, 1 / 3f, 1 / 3f], y, "Softmax large", 1e-6f, 0f);
        // mean 2.5, var 1.25: (x - 2.5) / sqrt(1.25) * 2 + 1
        var ln = new float[4];
        Normalization.LayerNorm([1, 2, 3, 4], [2, 2, 2, 2], [1, 1, 1, 1], ln, 1, 4, 0f);
        Check.Close([-1.6832815f, 0.10557281f, 1.8944272f, 3.6832815f], ln, "LayerNorm", 1e-6f, 1e-6f);
        var ca = new float[4];
        Normalization.ChannelAffine([1, 2, 3, 4], [2, -1], [0.5f, 10], ca, 1, 2, 2);
        Assert.Equal(new float[] { 2.5f, 4.5f, 7, 6 }, ca);
    }

    [Fact]
    public void RejectsMismatchedLengths()
    {
        Assert.Equal("y", Assert.Throws<ArgumentException>(() => Normalization.Softmax(new float[6], new float[5], 2, 3, 1, false)).ParamName);
        Assert.Equal("scale", Assert.Throws<ArgumentException>(() => Normalization.LayerNorm(new float[6], new float[2], [], new float[6], 2, 3, 1e-5f)).ParamName);
        Assert.Equal("shift", Assert.Throws<ArgumentException>(() => Normalization.ChannelAffine(new float[6], new float[3], new float[2], new float[6], 1, 3, 2)).ParamName);
    }
}

public class NormalizationStatsTests
{
    [Fact]
    public void LayerNormStatsMatchesLayerNormAndWritesRowStatistics()
    {
        var r = new Random(3);
        int outer = 3, inner = 17;
        var x = EdgeCompile.Kernels.Tests.Support.Check.Data(r, outer * inner);
        var scale = EdgeCompile.Kernels.Tests.Support.Check.Data(r, inner);
        var bias = EdgeCompile.Kernels.Tests.Support.Check.Data(r, inner);
        var expected = new float[x.Length];
        Normalization.LayerNorm(x, scale, bias, expected, outer, inner, 1e-5f);
        var y = new float[x.Length];
        var mean = new float[outer];
        var inv = new float[outer];
        Normalization.LayerNormStats(x, scale, bias, y, mean, inv, outer, inner, 1e-5f);
        EdgeCompile.Kernels.Tests.Support.Check.Close(expected, y, "LayerNormStats");
        for (int o = 0; o < outer; o++)
        {
            double m = 0; for (int i = 0; i < inner; i++) m += x[o * inner + i];
            m /= inner;
            double v = 0; for (int i = 0; i < inner; i++) v += (x[o * inner + i] - m) * (x[o * inner + i] - m);
            Assert.Equal((float)m, mean[o], 6);
            Assert.Equal((float)(1 / Math.Sqrt(v / inner + 1e-5)), inv[o], 4);
        }
        Assert.Throws<ArgumentException>(() => Normalization.LayerNormStats(x, scale, bias, y, new float[2], inv, outer, inner, 1e-5f));
    }

    [Fact]
    public void RmsNormDividesByTheRootMeanSquare()
    {
        float[] x = [3, 4, -6, 8];
        var y = new float[4];
        Normalization.RmsNorm(x, [1, 2], y, 2, 2, 0f);
        float a = MathF.Sqrt(12.5f), b = MathF.Sqrt(50f);
        EdgeCompile.Kernels.Tests.Support.Check.Close([3 / a, 8 / a, -6 / b, 16 / b], y, "RmsNorm");
    }
}
