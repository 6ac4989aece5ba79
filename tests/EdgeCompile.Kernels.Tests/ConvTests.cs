using EdgeCompile.Kernels.Tests.Support;

namespace EdgeCompile.Kernels.Tests;

public class ConvTests
{
    private sealed record Shape(int N, int C, int H, int W, int K, int Kh, int Kw, int Sh, int Sw, int Pt, int Pl, int Pb, int Pr, int Dh, int Dw, int Group)
    {
        public int Oh => (H + Pt + Pb - Dh * (Kh - 1) - 1) / Sh + 1;
        public int Ow => (W + Pl + Pr - Dw * (Kw - 1) - 1) / Sw + 1;
    }

    private static void CompareAllPaths(Shape s, Random r, string what)
    {
        var x = Check.Data(r, s.N * s.C * s.H * s.W);
        var w = Check.Data(r, s.K * (s.C / s.Group) * s.Kh * s.Kw);
        var bias = r.Next(2) == 0 ? Array.Empty<float>() : Check.Data(r, s.K);
        var act = Check.RandomActivation(r, out float p0, out float p1);
        int oh = s.Oh, ow = s.Ow;
        var expected = new float[s.N * s.K * oh * ow];
        Conv.Conv2DScalar(x, w, bias, expected, s.N, s.C, s.H, s.W, s.K, s.Kh, s.Kw, oh, ow, s.Sh, s.Sw, s.Pt, s.Pl, s.Dh, s.Dw, s.Group, act, p0, p1);
        foreach (var isa in Check.GemmPaths())
        {
            var y = new float[expected.Length];
            Conv.Conv2DCore(x, w, bias, y, s.N, s.C, s.H, s.W, s.K, s.Kh, s.Kw, oh, ow, s.Sh, s.Sw, s.Pt, s.Pl, s.Dh, s.Dw, s.Group, act, p0, p1, isa);
            Check.Close(expected, y, $"{what} {s} {act} {isa}");
        }
    }

    [Fact]
    public void GeneralConvolutionMatchesScalarReference()
    {
        var r = new Random(1234);
        for (int t = 0; t < 120; t++)
        {
            int group = r.Next(1, 4);
            var s = new Shape(r.Next(1, 3), group * r.Next(1, 4), r.Next(1, 12), r.Next(1, 21), group * r.Next(1, 7),
                r.Next(1, 5), r.Next(1, 5), r.Next(1, 4), r.Next(1, 4), r.Next(0, 3), r.Next(0, 3), r.Next(0, 3), r.Next(0, 3),
                r.Next(1, 3), r.Next(1, 3), group);
            if (s.Oh < 1 || s.Ow < 1) continue;
            CompareAllPaths(s, r, "general");
        }
    }

    [Fact]
    public void ShiftedGemmConvolutionMatchesScalarReference()
    {
        // strideW 1 and at least 4 output channels per group: the per-tap GEMM path.
        var r = new Random(4321);
        for (int t = 0; t < 60; t++)
        {
            int group = r.Next(1, 3);
            var s = new Shape(r.Next(1, 3), group * r.Next(1, 6), r.Next(1, 10), r.Next(1, 25), group * r.Next(4, 10),
                r.Next(1, 4), r.Next(1, 4), r.Next(1, 3), 1, r.Next(0, 3), r.Next(0, 3), r.Next(0, 3), r.Next(0, 3),
                r.Next(1, 3), r.Next(1, 3), group);
            if (s.Oh < 1 || s.Ow < 1) continue;
            CompareAllPaths(s, r, "shifted-gemm");
        }
    }

    [Fact]
    public void PointwiseConvolutionMatchesScalarReference()
    {
        var r = new Random(99);
        for (int t = 0; t < 40; t++)
        {
            int group = r.Next(1, 3);
            var s = new Shape(r.Next(1, 3), group * r.Next(1, 9), r.Next(1, 9), r.Next(1, 19), group * r.Next(1, 11), 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, group);
            CompareAllPaths(s, r, "1x1");
        }
    }

    [Fact]
    public void Depthwise3x3MatchesScalarReference()
    {
        var r = new Random(7);
        for (int t = 0; t < 60; t++)
        {
            int c = r.Next(1, 6);
            var s = new Shape(r.Next(1, 3), c, r.Next(1, 14), r.Next(1, 30), c, 3, 3, r.Next(1, 3), 1,
                r.Next(0, 3), r.Next(0, 3), r.Next(0, 3), r.Next(0, 3), r.Next(1, 3), r.Next(1, 3), c);
            if (s.Oh < 1 || s.Ow < 1) continue;
            CompareAllPaths(s, r, "depthwise");
        }
    }

    /// <summary>
    /// The im2col + GEMM path against the reference, called directly and through the dispatcher: any stride
    /// (1-3), dilation and padding, ragged column blocks (output planes above 256 pixels are split into blocks
    /// that are multiples of 16, plus a ragged last block) and input channels split into several panels
    /// (cg*kh*kw*block above 16384 floats). The products are summed in the reference's order; only FMA rounding
    /// separates the paths, so the tolerance scales with the length of the sum: 1e-5 relative + 2e-6·√K absolute.
    /// </summary>
    [Fact]
    public void Im2ColConvolutionMatchesScalarReference()
    {
        var r = new Random(2024);
        int tested = 0, chunked = 0, blocked = 0;
        for (int t = 0; t < 80; t++)
        {
            int group = r.Next(4) == 0 ? 2 : 1;
            bool big = r.Next(3) == 0;
            int cg = big ? r.Next(20, 48) : r.Next(1, 6);
            int kh = r.Next(1, 8), kw = r.Next(1, 8);
            var s = new Shape(r.Next(1, 3), group * cg, r.Next(kh, big ? 24 : 40), r.Next(kw, big ? 24 : 45), group * r.Next(4, 13),
                kh, kw, r.Next(1, 4), r.Next(1, 4), r.Next(0, 4), r.Next(0, 4), r.Next(0, 4), r.Next(0, 4),
                r.Next(4) == 0 ? 2 : 1, r.Next(4) == 0 ? 2 : 1, group);
            if (s.Oh < 1 || s.Ow < 1) continue;
            int nb = Conv.Im2ColBlock(kh * kw, s.Oh * s.Ow);
            if (nb == 0) continue;
            tested++;
            if (s.Oh * s.Ow > nb) blocked++;
            if ((long)cg * kh * kw * Math.Min(nb, s.Oh * s.Ow) > Conv.Im2ColPanelFloats) chunked++;
            var x = Check.Data(r, s.N * s.C * s.H * s.W);
            var w = Check.Data(r, s.K * cg * s.Kh * s.Kw);
            var bias = r.Next(2) == 0 ? Array.Empty<float>() : Check.Data(r, s.K);
            var act = Check.RandomActivation(r, out float p0, out float p1);
            var expected = new float[s.N * s.K * s.Oh * s.Ow];
            Conv.Conv2DScalar(x, w, bias, expected, s.N, s.C, s.H, s.W, s.K, s.Kh, s.Kw, s.Oh, s.Ow, s.Sh, s.Sw, s.Pt, s.Pl, s.Dh, s.Dw, s.Group, act, p0, p1);
            float abs = 2e-6f * MathF.Sqrt(cg * kh * kw) + 1e-6f;
            foreach (var isa in Check.GemmPaths())
            {
                var y = new float[expected.Length];
                Conv.Conv2DIm2Col(x, w, bias, y, s.N, s.C, s.H, s.W, s.K, s.Kh, s.Kw, s.Oh, s.Ow, s.Sh, s.Sw, s.Pt, s.Pl, s.Dh, s.Dw, s.Group, act, p0, p1, isa);
                Check.Close(expected, y, $"im2col {s} {act} {isa}", 1e-5f, abs);
                var y2 = new float[expected.Length];
                Conv.Conv2DCore(x, w, bias, y2, s.N, s.C, s.H, s.W, s.K, s.Kh, s.Kw, s.Oh, s.Ow, s.Sh, s.Sw, s.Pt, s.Pl, s.Dh, s.Dw, s.Group, act, p0, p1, isa);
                Check.Close(expected, y2, $"dispatch {s} {act} {isa}", 1e-5f, abs);
            }
        }
        Assert.True(tested > 40 && chunked > 3 && blocked > 3, $"coverage: {tested} shapes, {chunked} chunked, {blocked} blocked");
    }

    /// <summary>
    /// The stride-1 im2col gather copies each output row's in-range taps with 8-float (or 4-float) vectors, the last one
    /// overlapping its predecessor, and writes the padding columns one at a time: every row width from 1 to 40 (copy
    /// lengths below 4, between 4 and 8, multiples of 8 and ragged ones), paddings 0 to 3 on either side, 1x1 to 7x7
    /// kernels, planes that span several im2col blocks, on every GEMM path.
    /// </summary>
    [Fact]
    public void Im2ColStride1RowsOfEveryWidthMatchScalarReference()
    {
        var r = new Random(77);
        for (int width = 1; width <= 40; width++)
        {
            int kw = r.Next(1, 8), kh = r.Next(1, 4);
            int pl = r.Next(0, Math.Min(4, kw)), pr = r.Next(0, Math.Min(4, kw));
            int h = r.Next(kh, width <= 8 ? 70 : 20);
            var s = new Shape(1, r.Next(1, 6), h, Math.Max(width, kw - pl - pr), r.Next(4, 10), kh, kw, 1, 1, r.Next(0, kh), pl, r.Next(0, kh), pr, 1, 1, 1);
            if (s.Oh < 1 || s.Ow < 1 || Conv.Im2ColBlock(kh * kw, s.Oh * s.Ow) == 0) continue;
            var x = Check.Data(r, s.C * s.H * s.W);
            var w = Check.Data(r, s.K * s.C * kh * kw);
            var bias = Check.Data(r, s.K);
            var expected = new float[s.K * s.Oh * s.Ow];
            Conv.Conv2DScalar(x, w, bias, expected, 1, s.C, s.H, s.W, s.K, kh, kw, s.Oh, s.Ow, 1, 1, s.Pt, s.Pl, 1, 1, 1, Activation.None, 0f, 0f);
            foreach (var isa in Check.GemmPaths())
            {
                var y = new float[expected.Length];
                Conv.Conv2DIm2Col(x, w, bias, y, 1, s.C, s.H, s.W, s.K, kh, kw, s.Oh, s.Ow, 1, 1, s.Pt, s.Pl, 1, 1, 1, Activation.None, 0f, 0f, isa);
                Check.Close(expected, y, $"im2col stride 1 {s} {isa}", 1e-5f, 2e-6f * MathF.Sqrt(s.C * kh * kw) + 1e-6f);
            }
        }
    }

    [Fact]
    public void Im2ColBlockKeepsThePanelBounded()
    {
        foreach (int taps in new[] { 1, 4, 9, 25, 49, 121, 1024, 2048, 4096 })
            foreach (int plane in new[] { 1, 7, 49, 196, 256, 257, 784, 3136, 12544 })
            {
                int nb = Conv.Im2ColBlock(taps, plane);
                if (nb == 0) { Assert.True(Conv.Im2ColPanelFloats / taps < 8, $"{taps} taps, {plane} pixels"); continue; }
                Assert.True(nb <= plane && (long)nb * taps <= Conv.Im2ColPanelFloats, $"{taps} taps, {plane} pixels: block {nb}");
                Assert.True(nb == plane || nb % 8 == 0, $"{taps} taps, {plane} pixels: block {nb}");
            }
    }

    [Fact]
    public void Depthwise3x3Stride2MatchesScalarReference()
    {
        // MobileNet's downsampling depthwise layers: the de-interleaving vector loops, their bounds (they read one
        // element past the last tap they use) and the scalar borders, over widths up to 80 and every padding.
        var r = new Random(77);
        for (int t = 0; t < 120; t++)
        {
            int c = r.Next(1, 5);
            var s = new Shape(r.Next(1, 3), c, r.Next(1, 12), r.Next(1, 80), c, 3, 3, r.Next(1, 3), 2,
                r.Next(0, 3), r.Next(0, 3), r.Next(0, 3), r.Next(0, 3), r.Next(1, 3), r.Next(1, 3), c);
            if (s.Oh < 1 || s.Ow < 1) continue;
            var x = Check.Data(r, s.N * s.C * s.H * s.W);
            var w = Check.Data(r, c * 9);
            var bias = r.Next(2) == 0 ? Array.Empty<float>() : Check.Data(r, c);
            var act = Check.RandomActivation(r, out float p0, out float p1);
            var expected = new float[s.N * c * s.Oh * s.Ow];
            Conv.Conv2DScalar(x, w, bias, expected, s.N, c, s.H, s.W, c, 3, 3, s.Oh, s.Ow, s.Sh, 2, s.Pt, s.Pl, s.Dh, s.Dw, c, act, p0, p1);
            foreach (var isa in Check.FastPaths())
            {
                var y = new float[expected.Length];
                Conv.Conv2DDepthwise3x3(x, w, bias, y, s.N, c, s.H, s.W, s.Oh, s.Ow, s.Sh, 2, s.Pt, s.Pl, s.Dh, s.Dw, act, p0, p1, isa);
                Check.Close(expected, y, $"depthwise s2 {s} {act} {isa}");
            }
        }
    }

    /// <summary>
    /// The padded-row depthwise kernel (the Vector256 dispatch for depthwise 3x3) called directly, strideW 1 and 2,
    /// widths from 1 (one output at a time) past MobileNetV2's 112, every padding (wider than the kernel too),
    /// strideH 1-3 (rows re-used from the ring or skipped) and dilations 1, 2 and 4 (3 keeps the other kernel), with
    /// every activation, against the reference. Also the other depthwise kernel called directly on the same shapes.
    /// </summary>
    [Fact]
    public void Depthwise3x3PaddedRowsMatchScalarReference()
    {
        var r = new Random(3131);
        int padded = 0;
        for (int t = 0; t < 150; t++)
        {
            int c = r.Next(1, 5), sw = r.Next(1, 3), dh = new[] { 1, 2, 4 }[r.Next(3)], dw = new[] { 1, 2, 4 }[r.Next(3)];
            var s = new Shape(r.Next(1, 3), c, r.Next(1, 14), r.Next(1, 130), c, 3, 3, r.Next(1, 4), sw,
                r.Next(0, 5), r.Next(0, 5), r.Next(0, 5), r.Next(0, 5), dh, dw, c);
            if (s.Oh < 1 || s.Ow < 1) continue;
            var x = Check.Data(r, s.N * s.C * s.H * s.W);
            var w = Check.Data(r, c * 9);
            var bias = r.Next(2) == 0 ? Array.Empty<float>() : Check.Data(r, c);
            var act = Check.RandomActivation(r, out float p0, out float p1);
            var expected = new float[s.N * c * s.Oh * s.Ow];
            Conv.Conv2DScalar(x, w, bias, expected, s.N, c, s.H, s.W, c, 3, 3, s.Oh, s.Ow, s.Sh, sw, s.Pt, s.Pl, s.Dh, s.Dw, c, act, p0, p1);
            if (Conv.DepthwisePaddedApplies(Isa.Vector256, sw, dh, dw, s.Ow) && KernelPaths.IsSupported(Isa.Vector256))
            {
                padded++;
                var y = new float[expected.Length];
                Conv.Conv2DDepthwise3x3Padded(x, w, bias, y, s.N, c, s.H, s.W, s.Oh, s.Ow, s.Sh, sw, s.Pt, s.Pl, s.Dh, s.Dw, act, p0, p1);
                Check.Close(expected, y, $"depthwise padded {s} {act}");
            }
            foreach (var isa in Check.FastPaths())
            {
                var y = new float[expected.Length];
                Conv.Conv2DDepthwise3x3(x, w, bias, y, s.N, c, s.H, s.W, s.Oh, s.Ow, s.Sh, sw, s.Pt, s.Pl, s.Dh, s.Dw, act, p0, p1, isa);
                Check.Close(expected, y, $"depthwise {s} {act} {isa}");
            }
        }
        // Without Vector256 (DOTNET_EnableAVX2=0 runs) only the other kernel is checked here.
        Assert.True(padded > 60 || !KernelPaths.IsSupported(Isa.Vector256), $"coverage: {padded} padded-row shapes");
    }

    [Fact]
    public void HandComputedPaddedSum()
    {
        // x = 1..9 in a 3x3 image, a 3x3 kernel of ones, pad 1: each output is the sum of its 3x3 neighbourhood.
        float[] x = [1, 2, 3, 4, 5, 6, 7, 8, 9];
        float[] w = [1, 1, 1, 1, 1, 1, 1, 1, 1];
        float[] y = new float[9];
        Conv.Conv2D(x, w, [10f], y, 1, 1, 3, 3, 1, 3, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, Activation.None, 0, 0);
        Assert.Equal(new float[] { 22, 31, 26, 37, 55, 43, 34, 49, 38 }, y);
        // Stride 2 picks the corner sums [12, 16, 24, 28]; bias -20 and Relu give [0, 0, 4, 8].
        float[] y2 = new float[4];
        Conv.Conv2D(x, w, [-20f], y2, 1, 1, 3, 3, 1, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1, 1, Activation.Relu, 0, 0);
        Assert.Equal(new float[] { 0, 0, 4, 8 }, y2);
    }

    [Fact]
    public void RejectsMismatchedLengths()
    {
        var ex = Assert.Throws<ArgumentException>(() =>
            Conv.Conv2D(new float[8], new float[9], [], new float[9], 1, 1, 3, 3, 1, 3, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, Activation.None, 0, 0));
        Assert.Equal("x", ex.ParamName);
        ex = Assert.Throws<ArgumentException>(() =>
            Conv.Conv2D(new float[9], new float[9], [1, 2], new float[9], 1, 1, 3, 3, 1, 3, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, Activation.None, 0, 0));
        Assert.Equal("bias", ex.ParamName);
        ex = Assert.Throws<ArgumentException>(() =>
            Conv.Conv2D(new float[18], new float[9], [], new float[18], 1, 2, 3, 3, 2, 3, 3, 3, 3, 1, 1, 1, 1, 1, 1, 3, Activation.None, 0, 0));
        Assert.Equal("group", ex.ParamName);
    }
}
