using EdgeCompile.Kernels.Tests.Support;

namespace EdgeCompile.Kernels.Tests;

public class PoolTests
{
    /// <summary>
    /// strideW 2 on rows wide enough for the vector horizontal step (ResNet's 3x3/2 over 112 columns among them), with
    /// NaN, -0 and +0 sprinkled in: bit-identical to the reference on every path.
    /// </summary>
    [Fact]
    public void MaxPoolStride2WideRowsMatchScalarReferenceExactly()
    {
        var r = new Random(55);
        int vectorRows = 0;
        for (int t = 0; t < 80; t++)
        {
            int n = 1, c = r.Next(1, 3), h = r.Next(1, 9), w = t == 0 ? 112 : r.Next(16, 131);
            int kh = r.Next(1, 4), kw = r.Next(2, 4), sh = r.Next(1, 3), sw = 2, dh = r.Next(1, 3), dw = r.Next(1, 3);
            int pt = r.Next(0, kh), pl = r.Next(0, kw), pb = r.Next(0, kh), pr = r.Next(0, kw);
            if (t == 0) (kh, kw, sh, dh, dw, pt, pl, pb, pr) = (3, 3, 2, 1, 1, 1, 1, 1, 1);
            int oh = (h + pt + pb - dh * (kh - 1) - 1) / sh + 1, ow = (w + pl + pr - dw * (kw - 1) - 1) / sw + 1;
            if (oh < 1 || ow < 1) continue;
            if (ow >= 10) vectorRows++;
            var x = Check.Data(r, n * c * h * w);
            for (int i = 0; i < x.Length; i += r.Next(5, 40)) x[i] = r.Next(3) switch { 0 => float.NaN, 1 => -0f, _ => 0f };
            var expected = new float[n * c * oh * ow];
            Pool.MaxPool2DScalar(x, expected, n, c, h, w, kh, kw, oh, ow, sh, sw, pt, pl, dh, dw);
            foreach (var isa in Check.FastPaths())
            {
                var y = new float[expected.Length];
                Pool.MaxPool2DCore(x, y, n, c, h, w, kh, kw, oh, ow, sh, sw, pt, pl, dh, dw, isa);
                Check.Exact(expected, y, $"MaxPool s2 {h}x{w} {kh}x{kw} p{pt},{pl} d{dh},{dw} {isa}");
            }
        }
        Assert.True(vectorRows > 40, $"coverage: {vectorRows}");
    }

    /// <summary>
    /// The 2x2 stride-2 path over the flat tensor (the digits CNN's 32x8x8 pool, tiny, odd and wide rows, several buffer
    /// chunks), with NaN, -0 and +0 sprinkled in: the path is taken for each shape, and bit-identical to the reference.
    /// </summary>
    [Fact]
    public void MaxPool2x2Stride2MatchesScalarReferenceExactly()
    {
        var r = new Random(57);
        foreach (var (n, c, h, w) in new[] { (1, 32, 8, 8), (1, 1, 2, 2), (2, 3, 4, 6), (1, 2, 6, 20), (1, 3, 64, 200), (1, 5, 4, 8), (1, 1, 2, 8200) })
        {
            int oh = h / 2, ow = w / 2;
            Assert.Equal(w <= 4096, QPool.Pool2x2Fits(h, w, 2, 2, oh, ow, 2, 2, 0, 0, 1, 1));
            var x = Check.Data(r, n * c * h * w);
            for (int i = 0; i < x.Length; i += r.Next(5, 40)) x[i] = r.Next(3) switch { 0 => float.NaN, 1 => -0f, _ => 0f };
            var expected = new float[n * c * oh * ow];
            Pool.MaxPool2DScalar(x, expected, n, c, h, w, 2, 2, oh, ow, 2, 2, 0, 0, 1, 1);
            foreach (var isa in Check.FastPaths())
            {
                var y = new float[expected.Length];
                Pool.MaxPool2DCore(x, y, n, c, h, w, 2, 2, oh, ow, 2, 2, 0, 0, 1, 1, isa);
                Check.Exact(expected, y, $"MaxPool 2x2/2 {c}x{h}x{w} {isa}");
            }
        }
    }

    [Fact]
    public void MaxPoolMatchesScalarReferenceExactly()
    {
        var r = new Random(5);
        for (int t = 0; t < 120; t++)
        {
            int n = r.Next(1, 3), c = r.Next(1, 4), h = r.Next(1, 12), w = r.Next(1, 30);
            int kh = r.Next(1, 4), kw = r.Next(1, 4), sh = r.Next(1, 3), sw = r.Next(1, 3), dh = r.Next(1, 3), dw = r.Next(1, 3);
            int pt = r.Next(0, kh), pl = r.Next(0, kw), pb = r.Next(0, kh), pr = r.Next(0, kw);
            int oh = (h + pt + pb - dh * (kh - 1) - 1) / sh + 1, ow = (w + pl + pr - dw * (kw - 1) - 1) / sw + 1;
            if (oh < 1 || ow < 1) continue;
            var x = Check.Data(r, n * c * h * w);
            var expected = new float[n * c * oh * ow];
            Pool.MaxPool2DScalar(x, expected, n, c, h, w, kh, kw, oh, ow, sh, sw, pt, pl, dh, dw);
            foreach (var isa in Check.FastPaths())
            {
                var y = new float[expected.Length];
                Pool.MaxPool2DCore(x, y, n, c, h, w, kh, kw, oh, ow, sh, sw, pt, pl, dh, dw, isa);
                Check.Exact(expected, y, $"MaxPool {isa}");
            }
        }
    }

    [Fact]
    public void GlobalPoolsMatchScalarReference()
    {
        var r = new Random(6);
        for (int t = 0; t < 40; t++)
        {
            int channels = r.Next(1, 7), spatial = r.Next(1, 70);
            var x = Check.Data(r, channels * spatial);
            var eAvg = new float[channels];
            var eMax = new float[channels];
            Pool.GlobalScalar(x, eAvg, channels, spatial, max: false);
            Pool.GlobalScalar(x, eMax, channels, spatial, max: true);
            foreach (var isa in Check.FastPaths())
            {
                var y = new float[channels];
                Pool.GlobalCore(x, y, channels, spatial, max: false, isa);
                Check.Close(eAvg, y, $"GlobalAverage {isa}");
                Pool.GlobalCore(x, y, channels, spatial, max: true, isa);
                Check.Exact(eMax, y, $"GlobalMax {isa}");
            }
        }
    }

    [Fact]
    public void HandComputedPools()
    {
        float[] x = [1, 2, 3, 4, 5, 6, 7, 8, 9];
        var y = new float[4];
        // 2x2 max, stride 1.
        Pool.MaxPool2D(x, y, 1, 1, 3, 3, 2, 2, 2, 2, 1, 1, 0, 0, 1, 1);
        Assert.Equal(new float[] { 5, 6, 8, 9 }, y);
        // 2x2 average, stride 2, pad 0 top/left, 1 bottom/right (ceil-mode-like): the last window sees 1 tap.
        Pool.AveragePool2D(x, y, 1, 1, 3, 3, 2, 2, 2, 2, 2, 2, 0, 0, 1, 1, countIncludePad: false);
        Assert.Equal(new float[] { 3, 4.5f, 7.5f, 9 }, y);
        Pool.AveragePool2D(x, y, 1, 1, 3, 3, 2, 2, 2, 2, 2, 2, 0, 0, 1, 1, countIncludePad: true);
        Assert.Equal(new float[] { 3, 9 / 4f, 15 / 4f, 9 / 4f }, y);
        // The same windows with no bottom/right padding passed: positions past the padding never count.
        Pool.AveragePool2D(x, y, 1, 1, 3, 3, 2, 2, 2, 2, 2, 2, 0, 0, 0, 0, countIncludePad: true);
        Assert.Equal(new float[] { 3, 4.5f, 7.5f, 9 }, y);
        var g = new float[1];
        Pool.GlobalAverage(x, g, 1, 9);
        Assert.Equal(5f, g[0]);
        Pool.GlobalMax(x, g, 1, 9);
        Assert.Equal(9f, g[0]);
    }

    [Fact]
    public void RejectsMismatchedLengths()
    {
        Assert.Equal("y", Assert.Throws<ArgumentException>(() => Pool.MaxPool2D(new float[9], new float[3], 1, 1, 3, 3, 2, 2, 2, 2, 1, 1, 0, 0, 1, 1)).ParamName);
        Assert.Equal("x", Assert.Throws<ArgumentException>(() => Pool.GlobalMax(new float[8], new float[1], 1, 9)).ParamName);
    }
}
