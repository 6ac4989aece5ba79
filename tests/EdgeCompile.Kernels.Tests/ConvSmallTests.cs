using CsCheck;
using EdgeCompile.Kernels.Tests.Support;
using Check = EdgeCompile.Kernels.Tests.Support.Check;

namespace EdgeCompile.Kernels.Tests;

/// <summary>
/// The small-plane float convolution (<see cref="Conv.Conv2DSmallPlane"/>): stride 1, dilation 1, one group, output planes of
/// 16 to 64 pixels in 16-pixel tiles, 8x16 zmm tiles (Vector512, channels in multiples of 8) or 4x16 and 1x16 ymm tiles
/// (Vector256). Compared with the scalar reference (<see cref="Conv.Conv2DScalar"/>) within 1e-5 relative plus
/// 2e-6 x sqrt(taps) + 1e-6 absolute: the same order of sums (bias, then channel, ky, kx), only FMA rounding differs,
/// over values in [-1, 1]. Each variant is run directly (forced) where this machine runs it, and through the dispatcher.
/// </summary>
public class ConvSmallTests
{
    private static IEnumerable<Isa> SmallPaths()
    {
        if (KernelPaths.IsSupported(Isa.Vector256)) yield return Isa.Vector256;
        if (KernelPaths.IsSupported(Isa.Vector512)) yield return Isa.Vector512;
    }

    private static void Compare(int n, int c, int oh, int ow, int k, int kh, int kw, int pt, int pl, int pb, int pr,
        bool withBias, Activation act, int seed)
    {
        int h = oh + kh - 1 - pt - pb, width = ow + kw - 1 - pl - pr;
        Assert.True(h >= 1 && width >= 1, $"out {oh}x{ow} {kh}x{kw} pads={pt},{pl},{pb},{pr}: no input");
        ConvPathCheck.Compare("small plane",
            (ohs, ows) => Conv.SmallPlaneApplies(Isa.Vector256, c, k, kh, kw, ohs, ows, 1, 1, 1, 1, 1)
                          && Conv.SmallPlaneApplies(Isa.Vector512, c, k, kh, kw, ohs, ows, 1, 1, 1, 1, 1),
            n, c, h, width, k, kh, kw, 1, 1, pt, pl, pb, pr, 1, 1, withBias, act, seed, f =>
            {
                foreach (var isa in SmallPaths())
                {
                    var y = new float[n * k * f.Oh * f.Ow];
                    Array.Fill(y, float.NaN);   // every output must be written
                    Conv.Conv2DSmallPlane(f.X, f.W, f.Bias, y, n, c, h, width, k, kh, kw, f.Oh, f.Ow, pt, pl, act, f.P0, f.P1, isa);
                    f.Check(y, $"forced {isa} (512-bit tiles: {Conv.SmallPlaneUses512(isa, k)})");
                }
            });
    }

    /// <summary>
    /// The digits CNN's float convolutions (3x3, pad 1, bias, ReLU): 1→16 and 16→32 on 8x8, 32→32 on 4x4. All three take the
    /// path on both tile widths, and on AVX-512 the 8x16 zmm tiles (16 and 32 channels).
    /// </summary>
    [Theory]
    [InlineData(1, 16, 8)]
    [InlineData(16, 32, 8)]
    [InlineData(32, 32, 4)]
    public void Digits_shapes_take_the_path_and_match_the_reference(int c, int k, int hw)
    {
        Assert.True(Conv.SmallPlaneUses512(Isa.Vector512, k));
        Assert.False(Conv.SmallPlaneUses512(Isa.Vector256, k));
        Compare(1, c, hw, hw, k, 3, 3, 1, 1, 1, 1, true, Activation.Relu, c * 100 + k);
        Compare(2, c, hw, hw, k, 3, 3, 1, 1, 1, 1, false, Activation.None, c * 100 + k + 1);
    }

    private static readonly (int Oh, int Ow)[] Planes = { (4, 4), (8, 8), (2, 8), (8, 2), (1, 16), (16, 1), (4, 8), (8, 6), (3, 16), (2, 32), (1, 64), (4, 12) };

    /// <summary>
    /// Random shapes on the path: every output plane of 16 to 64 pixels with rows shorter than, equal to, longer than and
    /// straddling the 16-pixel tiles; kernels 1x2 to 5x5; paddings from none to past the kernel's reach (output rows and
    /// columns entirely in the padding); 1 to 20 output channels (multiples of 8 for the zmm tiles, 4 for the ymm tiles, and
    /// remainders for the 1x16 tiles); 1 to 6 input channels; 1 or 2 images; with and without bias; every activation.
    /// </summary>
    [Fact]
    public void Random_shapes_match_the_reference()
    {
        int compared = 0, zmm = 0, remainders = 0;
        Gen.Select(Gen.Int[0, Planes.Length - 1], Gen.Select(Gen.Int[1, 5], Gen.Int[1, 5], Gen.Int[1, 20], Gen.Int[1, 6]),
                Gen.Select(Gen.Int[0, 5], Gen.Int[0, 5], Gen.Int[0, 5], Gen.Int[0, 5]),
                Gen.Select(Gen.Int[1, 2], Gen.Bool, Gen.Int[0, 7], Gen.Int))
            .Sample(t =>
            {
                var (oh, ow) = Planes[t.Item1];
                var (kh, kw, k, c) = t.Item2;
                var (pt, pl, pb, pr) = t.Item3;
                var (n, bias, act, seed) = t.Item4;
                if (kh * kw == 1) kw = 2;
                // Paddings up to one past the kernel's reach; the input keeps at least one row and column.
                pt = Math.Min(pt, kh); pb = Math.Min(pb, kh); pl = Math.Min(pl, kw); pr = Math.Min(pr, kw);
                if (oh + kh - 1 - pt - pb < 1 || ow + kw - 1 - pl - pr < 1) return;
                Compare(n, c, oh, ow, k, kh, kw, pt, pl, pb, pr, bias, (Activation)act, seed);
                compared++;
                if (k % 8 == 0) zmm++;
                if (k % 4 != 0) remainders++;
            }, iter: 200, threads: 1);
        Assert.True(compared >= 100, $"only {compared} of 200 samples were compared");
        Assert.True(zmm >= 5 && remainders >= 20, $"tiles: {zmm} shapes with 8x16 zmm tiles, {remainders} with 1x16 remainders");
    }

    /// <summary>The path's conditions and stack bounds: shapes outside them go to the other paths (and still match).</summary>
    [Fact]
    public void Dispatch_respects_the_conditions()
    {
        Assert.True(Conv.SmallPlaneApplies(Isa.Vector256, 16, 32, 3, 3, 8, 8, 1, 1, 1, 1, 1));
        Assert.False(Conv.SmallPlaneApplies(Isa.Vector128, 16, 32, 3, 3, 8, 8, 1, 1, 1, 1, 1));   // 128-bit: im2col
        Assert.False(Conv.SmallPlaneApplies(Isa.Scalar, 16, 32, 3, 3, 8, 8, 1, 1, 1, 1, 1));
        Assert.False(Conv.SmallPlaneApplies(Isa.Vector512, 16, 32, 3, 3, 8, 8, 2, 1, 1, 1, 1));   // strideH 2
        Assert.False(Conv.SmallPlaneApplies(Isa.Vector512, 16, 32, 3, 3, 8, 8, 1, 2, 1, 1, 1));   // strideW 2
        Assert.False(Conv.SmallPlaneApplies(Isa.Vector512, 16, 32, 3, 3, 8, 8, 1, 1, 2, 1, 1));   // dilation
        Assert.False(Conv.SmallPlaneApplies(Isa.Vector512, 16, 32, 3, 3, 8, 8, 1, 1, 1, 2, 1));
        Assert.False(Conv.SmallPlaneApplies(Isa.Vector512, 16, 32, 3, 3, 8, 8, 1, 1, 1, 1, 2));   // grouped
        Assert.False(Conv.SmallPlaneApplies(Isa.Vector512, 16, 32, 1, 1, 8, 8, 1, 1, 1, 1, 1));   // 1x1
        Assert.False(Conv.SmallPlaneApplies(Isa.Vector512, 16, 32, 3, 3, 8, 10, 1, 1, 1, 1, 1));  // 80 pixels
        Assert.False(Conv.SmallPlaneApplies(Isa.Vector512, 16, 32, 3, 3, 2, 4, 1, 1, 1, 1, 1));   // 8 pixels: not whole tiles
        Assert.False(Conv.SmallPlaneApplies(Isa.Vector512, 16, 32, 3, 3, 4, 6, 1, 1, 1, 1, 1));   // 24 pixels
        Assert.True(Conv.SmallPlaneApplies(Isa.Vector512, 51, 32, 3, 3, 8, 8, 1, 1, 1, 1, 1));    // 51 x 3 x 10 x 8 = 12240 floats of shifted planes
        Assert.False(Conv.SmallPlaneApplies(Isa.Vector512, 52, 32, 3, 3, 8, 8, 1, 1, 1, 1, 1));   // 12480 floats
        Assert.True(Conv.SmallPlaneApplies(Isa.Vector512, 227, 32, 9, 1, 16, 1, 1, 1, 1, 1, 1));  // 2043 taps (5448 floats)
        Assert.False(Conv.SmallPlaneApplies(Isa.Vector512, 228, 32, 9, 1, 16, 1, 1, 1, 1, 1, 1)); // 2052 taps: past the offsets' bound
        Assert.False(Conv.SmallPlaneUses512(Isa.Vector512, 12));                                 // k not a multiple of 8: ymm tiles
        for (int c = 1; c <= 64; c += 3)
            foreach (int ks in new[] { 2, 3, 5 })
                foreach (var (oh, ow) in Planes)
                    if (Conv.SmallPlaneApplies(Isa.Vector512, c, 8, ks, ks, oh, ow, 1, 1, 1, 1, 1))
                        Assert.True((long)c * ks * (oh + ks - 1) * ow <= Conv.SmallPlaneBufferFloats
                            && c * ks * ks <= Conv.SmallPlaneMaxTaps, $"c={c} {ks}x{ks} {oh}x{ow}");
        // Neighbours off the path still match the reference through the dispatcher: 8 and 24 pixels, stride 2, 80 pixels.
        OffPath(4, 2, 4, 8, 3, 1, 1);
        OffPath(4, 4, 6, 8, 3, 1, 1);
        OffPath(4, 4, 4, 8, 3, 2, 1);
        OffPath(4, 8, 10, 8, 3, 1, 1);
    }

    private static void OffPath(int c, int oh, int ow, int k, int ks, int stride, int pad)
    {
        int h = (oh - 1) * stride + ks - 2 * pad, width = (ow - 1) * stride + ks - 2 * pad;
        foreach (var isa in Check.GemmPaths())
            Assert.False(Conv.SmallPlaneApplies(isa, c, k, ks, ks, oh, ow, stride, stride, 1, 1, 1));
        var r = new Random(oh * 100 + ow);
        var x = Check.Data(r, c * h * width);
        var w = Check.Data(r, k * c * ks * ks);
        var bias = Check.Data(r, k);
        var expected = new float[k * oh * ow];
        Conv.Conv2DScalar(x, w, bias, expected, 1, c, h, width, k, ks, ks, oh, ow, stride, stride, pad, pad, 1, 1, 1, Activation.Relu, 0, 0);
        foreach (var isa in Check.GemmPaths())
        {
            var y = new float[expected.Length];
            Conv.Conv2DCore(x, w, bias, y, 1, c, h, width, k, ks, ks, oh, ow, stride, stride, pad, pad, 1, 1, 1, Activation.Relu, 0, 0, isa);
            Check.Close(expected, y, $"off path c={c} {oh}x{ow} s={stride} {isa}", 1e-5f, 2e-6f * MathF.Sqrt(c * ks * ks) + 1e-6f);
        }
    }
}
