using EdgeCompile.Kernels;

namespace EdgeCompile.Kernels.Tests.Support;

/// <summary>
/// One Conv2D shape on a fast path against the scalar reference (<see cref="Conv.Conv2DScalar"/>): the shape must be on the
/// path (the caller's dispatch predicate, given oh and ow), every GEMM path runs it through the dispatcher, and each output
/// must be written and within 1e-5 relative plus 2e-6 x sqrt(taps) absolute (FMA rounding over sums of products of
/// values in [-1, 1], the same order of sums). Group 1. <paramref name="forced"/>, when given, also runs the path's own entry
/// on the same data; it gets the tolerance check to apply (<see cref="Forced"/>).
/// </summary>
internal static class ConvPathCheck
{
    /// <summary>The data of one comparison: run the path's entry into a fresh output, then call <c>Check(y, label)</c>.</summary>
    public sealed record Forced(float[] X, float[] W, float[] Bias, int Oh, int Ow, float P0, float P1, string What, Action<float[], string> Check);

    public static void Compare(string path, Func<int, int, bool> onPath, int n, int c, int h, int width, int k, int kh, int kw,
        int sh, int sw, int pt, int pl, int pb, int pr, int dh, int dw, bool withBias, Activation act, int seed,
        Action<Forced>? forced = null)
    {
        int oh = (h + pt + pb - dh * (kh - 1) - 1) / sh + 1, ow = (width + pl + pr - dw * (kw - 1) - 1) / sw + 1;
        string what = $"n={n} c={c} {h}x{width} k={k} {kh}x{kw} s={sh},{sw} pads={pt},{pl},{pb},{pr} d={dh},{dw} bias={withBias} {act}";
        Assert.True(oh >= 1 && onPath(oh, ow), $"shape not on the {path} path: {what}");
        var r = new Random(seed);
        var x = Check.Data(r, n * c * h * width);
        var w = Check.Data(r, k * c * kh * kw);
        var bias = withBias ? Check.Data(r, k) : Array.Empty<float>();
        Check.ActivationParams(act, out float p0, out float p1);
        var expected = new float[n * k * oh * ow];
        Conv.Conv2DScalar(x, w, bias, expected, n, c, h, width, k, kh, kw, oh, ow, sh, sw, pt, pl, dh, dw, 1, act, p0, p1);
        float abs = 2e-6f * MathF.Sqrt(c * kh * kw) + 1e-6f;
        forced?.Invoke(new Forced(x, w, bias, oh, ow, p0, p1, what, (y, label) => Check.Close(expected, y, $"{path} {what} {label}", 1e-5f, abs)));
        foreach (var isa in Check.GemmPaths())
        {
            var y = new float[expected.Length];
            Array.Fill(y, float.NaN);   // every output must be written
            Conv.Conv2DCore(x, w, bias, y, n, c, h, width, k, kh, kw, oh, ow, sh, sw, pt, pl, dh, dw, 1, act, p0, p1, isa);
            Check.Close(expected, y, $"{path} {what} {isa}", 1e-5f, abs);
        }
    }
}
