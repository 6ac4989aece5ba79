using EdgeCompile.Kernels.Tests.Support;

namespace EdgeCompile.Kernels.Tests;

/// <summary>WindowNd (N-d Conv, ConvTranspose, pooling), Misc (CumSum, TopK, Hardmax, Range, Clip, BatchNorm) and the f64 paths.</summary>
public class WindowNdMiscTests
{
    [Fact]
    public void ConvNdOn2DMatchesConv2DScalar()
    {
        var r = new Random(11);
        for (int t = 0; t < 60; t++)
        {
            int group = r.Next(1, 3), n = r.Next(1, 3), c = group * r.Next(1, 3), m = group * r.Next(1, 3), h = r.Next(1, 8), w = r.Next(1, 8);
            int kh = r.Next(1, 4), kw = r.Next(1, 4), sh = r.Next(1, 3), sw = r.Next(1, 3), dh = r.Next(1, 3), dw = r.Next(1, 3);
            int pt = r.Next(0, kh), pl = r.Next(0, kw), pb = r.Next(0, kh), pr = r.Next(0, kw);
            int oh = (h + pt + pb - dh * (kh - 1) - 1) / sh + 1, ow = (w + pl + pr - dw * (kw - 1) - 1) / sw + 1;
            if (oh < 1 || ow < 1) continue;
            var x = Check.Data(r, n * c * h * w); var wt = Check.Data(r, m * (c / group) * kh * kw); var b = Check.Data(r, m);
            var expected = new float[n * m * oh * ow];
            Conv.Conv2DScalar(x, wt, b, expected, n, c, h, w, m, kh, kw, oh, ow, sh, sw, pt, pl, dh, dw, group, Activation.None, 0, 0);
            var y = new float[expected.Length];
            WindowNd.Conv(x, wt, b, y, n, c, m, group, [h, w], [oh, ow], [kh, kw], [sh, sw], [pt, pl], [dh, dw]);
            Check.Close(expected, y, "ConvNd 2-D");
        }
    }

    [Fact]
    public void ConvNd3DMatchesNaiveLoops()
    {
        var r = new Random(12);
        int n = 1, c = 2, m = 3, d = 4, h = 5, w = 3, kd = 2, kh = 3, kw = 2, s = 2, pad = 1, dil = 1;
        int od = (d + 2 * pad - dil * (kd - 1) - 1) / s + 1, oh = (h + 2 * pad - dil * (kh - 1) - 1) / s + 1, ow = (w + 2 * pad - dil * (kw - 1) - 1) / s + 1;
        var x = Check.Data(r, n * c * d * h * w); var wt = Check.Data(r, m * c * kd * kh * kw);
        var expected = new float[n * m * od * oh * ow];
        for (int mo = 0; mo < m; mo++)
            for (int a = 0; a < od; a++) for (int b = 0; b < oh; b++) for (int e = 0; e < ow; e++)
                    {
                        double acc = 0;
                        for (int ci = 0; ci < c; ci++)
                            for (int i = 0; i < kd; i++) for (int j = 0; j < kh; j++) for (int k = 0; k < kw; k++)
                                    {
                                        int zd = a * s - pad + i, zh = b * s - pad + j, zw = e * s - pad + k;
                                        if (zd < 0 || zd >= d || zh < 0 || zh >= h || zw < 0 || zw >= w) continue;
                                        acc += x[((ci * d + zd) * h + zh) * w + zw] * (double)wt[(((mo * c + ci) * kd + i) * kh + j) * kw + k];
                                    }
                        expected[((mo * od + a) * oh + b) * ow + e] = (float)acc;
                    }
        var y = new float[expected.Length];
        WindowNd.Conv(x, wt, ReadOnlySpan<float>.Empty, y, n, c, m, 1, [d, h, w], [od, oh, ow], [kd, kh, kw], [s, s, s], [pad, pad, pad], [dil, dil, dil]);
        Check.Close(expected, y, "ConvNd 3-D");
    }

    [Fact]
    public void ConvTransposeHandComputed1D()
    {
        float[] x = [1, 2, 3], w = [1, 1];
        var y = new float[6];
        WindowNd.ConvTranspose(x, w, ReadOnlySpan<float>.Empty, y, 1, 1, 1, 1, [3], [6], [2], [2], [0], [1]);
        Assert.Equal([1f, 1, 2, 2, 3, 3], y);
        y = new float[4];
        WindowNd.ConvTranspose(x, w, [10f], y, 1, 1, 1, 1, [3], [4], [2], [1], [0], [1]);
        Assert.Equal([11f, 13, 15, 13], y);
        y = new float[2]; // pads 1 and 1
        WindowNd.ConvTranspose(x, w, ReadOnlySpan<float>.Empty, y, 1, 1, 1, 1, [3], [2], [2], [1], [1], [1]);
        Assert.Equal([3f, 5], y);
    }

    /// <summary>ConvTranspose is the adjoint of Conv with the same weights and geometry: &lt;Conv(x), u&gt; = &lt;x, ConvTranspose(u)&gt;.</summary>
    [Fact]
    public void ConvTransposeIsTheAdjointOfConv()
    {
        var r = new Random(13);
        for (int t = 0; t < 40; t++)
        {
            int group = r.Next(1, 3), c = group * r.Next(1, 3), m = group * r.Next(1, 3), h = r.Next(2, 8), w = r.Next(2, 8);
            int kh = r.Next(1, 4), kw = r.Next(1, 4), sh = r.Next(1, 4), sw = r.Next(1, 4), dh = r.Next(1, 3), dw = r.Next(1, 3);
            int pt = r.Next(0, kh), pl = r.Next(0, kw);
            int oh = (h + 2 * pt - dh * (kh - 1) - 1) / sh + 1, ow = (w + 2 * pl - dw * (kw - 1) - 1) / sw + 1;
            if (oh < 1 || ow < 1) continue;
            var x = Check.Data(r, c * h * w); var wt = Check.Data(r, m * (c / group) * kh * kw); var u = Check.Data(r, m * oh * ow);
            var cx = new float[m * oh * ow];
            WindowNd.Conv(x, wt, ReadOnlySpan<float>.Empty, cx, 1, c, m, group, [h, w], [oh, ow], [kh, kw], [sh, sw], [pt, pl], [dh, dw]);
            var tu = new float[c * h * w];
            WindowNd.ConvTranspose(u, wt, ReadOnlySpan<float>.Empty, tu, 1, m, c, group, [oh, ow], [h, w], [kh, kw], [sh, sw], [pt, pl], [dh, dw]);
            double lhs = 0, rhs = 0;
            for (int i = 0; i < cx.Length; i++) lhs += (double)cx[i] * u[i];
            for (int i = 0; i < tu.Length; i++) rhs += (double)x[i] * tu[i];
            Assert.True(Math.Abs(lhs - rhs) <= 1e-4 * (1 + Math.Abs(lhs)), $"adjoint: {lhs} vs {rhs}");
        }
    }

    [Fact]
    public void PoolNdOn2DMatchesPool2D()
    {
        var r = new Random(14);
        for (int t = 0; t < 80; t++)
        {
            int n = r.Next(1, 3), c = r.Next(1, 3), h = r.Next(1, 9), w = r.Next(1, 9);
            int kh = r.Next(1, 4), kw = r.Next(1, 4), sh = r.Next(1, 3), sw = r.Next(1, 3), dh = r.Next(1, 3), dw = r.Next(1, 3);
            int pt = r.Next(0, kh), pl = r.Next(0, kw), pb = r.Next(0, kh), pr = r.Next(0, kw);
            int oh = (h + pt + pb - dh * (kh - 1) - 1) / sh + 1, ow = (w + pl + pr - dw * (kw - 1) - 1) / sw + 1;
            if (oh < 1 || ow < 1) continue;
            var x = Check.Data(r, n * c * h * w);
            var expected = new float[n * c * oh * ow];
            var y = new float[expected.Length];
            Pool.MaxPool2DScalar(x, expected, n, c, h, w, kh, kw, oh, ow, sh, sw, pt, pl, dh, dw);
            WindowNd.Pool(true, x, y, n * c, [h, w], [oh, ow], [kh, kw], [sh, sw], [pt, pl], [pb, pr], [dh, dw], false);
            Check.Exact(expected, y, "MaxPool Nd");
            oh = (h + pt + pb - kh) / sh + 1; ow = (w + pl + pr - kw) / sw + 1;
            if (oh < 1 || ow < 1) continue;
            bool include = r.Next(2) == 0;
            expected = new float[n * c * oh * ow]; y = new float[expected.Length];
            Pool.AveragePool2D(x, expected, n, c, h, w, kh, kw, oh, ow, sh, sw, pt, pl, pb, pr, include);
            WindowNd.Pool(false, x, y, n * c, [h, w], [oh, ow], [kh, kw], [sh, sw], [pt, pl], [pb, pr], [1, 1], include);
            Check.Close(expected, y, "AveragePool Nd");
        }
    }

    [Fact]
    public void CumSumHandComputed()
    {
        float[] x = [1, 2, 3, 4, 5];
        var y = new float[5];
        Misc.CumSum(x, y, 1, 5, 1, false, false); Assert.Equal([1f, 3, 6, 10, 15], y);
        Misc.CumSum(x, y, 1, 5, 1, true, false); Assert.Equal([0f, 1, 3, 6, 10], y);
        Misc.CumSum(x, y, 1, 5, 1, false, true); Assert.Equal([15f, 14, 12, 9, 5], y);
        Misc.CumSum(x, y, 1, 5, 1, true, true); Assert.Equal([14f, 12, 9, 5, 0], y);
        int[] xi = [1, 2, 3, 4, 5, 6];
        var yi = new int[6];
        Misc.CumSum(xi, (ReadOnlySpan<int>)[-1], yi, [2, 3], false, false); Assert.Equal([1, 3, 6, 4, 9, 15], yi);
        Misc.CumSum(xi, (ReadOnlySpan<long>)[0], yi, [2, 3], false, false); Assert.Equal([1, 2, 3, 5, 7, 9], yi);
        double[] xd = [0.5, 0.25];
        var yd = new double[2];
        Misc.CumSum(xd, yd, 1, 2, 1, false, false); Assert.Equal([0.5, 0.75], yd);
        Assert.Throws<ArgumentException>(() => Misc.CumSum(xi, (ReadOnlySpan<long>)[2], new int[6], [2, 3], false, false));
    }

    [Fact]
    public void TopKHandComputed()
    {
        float[] x = [0, 1, 2, 3, 7, 6, 5, 4, 8, 11, 10, 9];
        var v = new float[9]; var i = new long[9];
        Misc.TopK(x, v, i, 3, 4, 1, 3, true);
        Assert.Equal([3f, 2, 1, 7, 6, 5, 11, 10, 9], v);
        Assert.Equal([3L, 2, 1, 0, 1, 2, 1, 2, 3], i);
        // Along axis 0 of [3, 4] (inner 4), smallest two.
        v = new float[8]; i = new long[8];
        Misc.TopK(x, v, i, 1, 3, 4, 2, false);
        Assert.Equal([0f, 1, 2, 3, 7, 6, 5, 4], v);
        Assert.Equal([0L, 0, 0, 0, 1, 1, 1, 1], i);
        // Ties: lower index first; NaN ranks above every number.
        float[] tie = [1, 2, 2, 1, float.NaN];
        v = new float[3]; i = new long[3];
        Misc.TopK(tie, v, i, 1, 5, 1, 3, true);
        Assert.True(float.IsNaN(v[0])); Assert.Equal([4L, 1, 2], i);
        Misc.TopK(tie, v, i, 1, 5, 1, 3, false);
        Assert.Equal([1f, 1, 2], v); Assert.Equal([0L, 3, 1], i);
        long[] xl = [5, 9, 9, 1];
        var vl = new long[2];
        Misc.TopK(xl, (ReadOnlySpan<long>)[2], vl, i.AsSpan(0, 2), 1, 4, 1, 2, true);
        Assert.Equal([9L, 9], vl); Assert.Equal([1L, 2], i[..2]);
        Assert.Throws<ArgumentException>(() => Misc.TopK(xl, (ReadOnlySpan<long>)[3], new long[2], new long[2], 1, 4, 1, 2, true));
    }

    [Fact]
    public void HardmaxHandComputed()
    {
        float[] x = [3, 1, 3, 0, -1, -2];
        var y = new float[6];
        Misc.Hardmax(x, y, 2, 3, 1);
        Assert.Equal([1f, 0, 0, 1, 0, 0], y);
        Misc.Hardmax(x, y, 1, 2, 3); // along axis 0 of [2, 3]
        Assert.Equal([1f, 1, 1, 0, 0, 0], y);
    }

    [Fact]
    public void RangeHandComputed()
    {
        var y = new float[2];
        Misc.Range([1f], [5f], [2f], y); Assert.Equal([1f, 3], y);
        var yi = new int[2];
        Misc.Range([10], [4], [-3], yi); Assert.Equal([10, 7], yi);
        var yl = new long[0];
        Misc.Range([3L], [3L], [1L], yl);
        Assert.Throws<ArgumentException>(() => Misc.Range([1f], [6f], [2f], new float[2]));
        Assert.Throws<ArgumentException>(() => Misc.Range([1L], [6L], [0L], new long[2]));
    }

    [Fact]
    public void ClipAndBatchNormHandComputed()
    {
        float[] x = [-2, -0.5f, 0.5f, 2, float.NaN];
        var y = new float[5];
        Misc.Clip(x, [-1f], [1f], y); Assert.Equal([-1f, -0.5f, 0.5f, 1f, float.NaN], y);
        Misc.Clip(x, ReadOnlySpan<float>.Empty, [0f], y); Assert.Equal([-2f, -0.5f, 0f, 0f, float.NaN], y);
        Misc.Clip(x, [2f], [1f], y); Assert.Equal([1f, 1f, 1f, 1f, float.NaN], y);
        // [1, 2, 2]: channel 0 scale 2 bias 1 mean 1 var 3 (eps 1) → 2(x-1)/2 + 1 = x; channel 1 scale 1 bias 0 mean 0 var 0.
        float[] bx = [1, 3, 4, -4];
        var by = new float[4];
        Misc.BatchNorm(bx, [2f, 1f], [1f, 0f], [1f, 0f], [3f, 0f], by, 1, 2, 2, 1f);
        Assert.Equal([1f, 3, 4, -4], by);
    }

    [Fact]
    public void DoublePrecisionUnaryAndReduce()
    {
        double[] x = [-1.5, 0, 0.25, 2];
        var y = new double[4];
        Elementwise.Unary(UnaryOp.Exp, x, y, 0, 0);
        Assert.Equal(x.Select(Math.Exp).ToArray(), y);
        Elementwise.Unary(UnaryOp.LeakyRelu, x, y, 0.5f, 0);
        Assert.Equal([-0.75, 0, 0.25, 2], y);
        Elementwise.Unary(UnaryOp.Round, [0.5, 1.5, -2.5, 2.4], y, 0, 0);
        Assert.Equal([0.0, 2, -2, 2], y);
        Assert.Throws<ArgumentOutOfRangeException>(() => Elementwise.Unary(UnaryOp.Erf, x, y, 0, 0));

        double[] m = [1, 2, 3, 4]; // [2, 2]
        var r2 = new double[2];
        Reduce.Axes(ReduceOp.Sum, m, r2, [2, 2], [1, 0]); Assert.Equal([4.0, 6], r2);
        Reduce.Axes(ReduceOp.Max, m, r2, [2, 2], [0, 1]); Assert.Equal([2.0, 4], r2);
        var r1 = new double[1];
        Reduce.Axes(ReduceOp.LogSumExp, m, r1, [2, 2], [1, 1]);
        Assert.Equal(Math.Log(m.Sum(Math.Exp)), r1[0], 12);
        Reduce.RuntimeAxes(ReduceOp.Mean, m, [-1L], r2, [2, 2], [2, 1], true, false); Assert.Equal([1.5, 3.5], r2);
        Assert.Throws<ArgumentException>(() => Reduce.RuntimeAxes(ReduceOp.Mean, m, [0L], new double[2], [2, 2], [2, 1], true, false));
        var empty = new double[2];
        Reduce.Axes(ReduceOp.LogSumExp, ReadOnlySpan<double>.Empty, empty, [2, 0], [0, 1]);
        Assert.Equal([double.NegativeInfinity, double.NegativeInfinity], empty);
    }
}
