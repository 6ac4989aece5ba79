using CsCheck;
using EdgeCompile.Kernels.Tests.Support;

namespace EdgeCompile.Kernels.Tests;

/// <summary>
/// The row-tile convolution (<see cref="Conv.Conv2DRowTiles512"/>, AVX-512 only): output rows a multiple of 8 and at least
/// <see cref="Conv.RowTileMinWidth"/> wide, in 8x16 tiles and (for a last 8 columns) 8x8 tiles, 56-wide rows as 4 channels x the whole row, from zero-padded input rows
/// (stride 2 split into even and odd columns). Compared with the scalar reference (<see cref="Conv.Conv2DScalar"/>) within
/// 1e-5 relative plus 2e-6 x sqrt(taps) absolute (FMA rounding over sums of products of values in [-1, 1], the same order
/// of sums). On a machine without AVX-512 the path does not run and these tests check only the dispatch.
/// </summary>
public class ConvRowTileTests
{
    private static void Compare(int n, int c, int h, int width, int k, int kh, int kw, int sh, int sw, int pt, int pl, int pb, int pr,
        int dh, int dw, bool withBias, Activation act, int seed)
        => ConvPathCheck.Compare("row tiles", (oh, ow) => Conv.RowTilesApply(Isa.Vector512, c, k, kh, kw, ow, sw, dw, 1)
                && !Conv.ChannelTilesApply(Isa.Vector512, c, k, kh, kw, oh, ow, sh, sw, dh, dw, 1),   // dispatched before the row tiles
            n, c, h, width, k, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw, withBias, act, seed);

    /// <summary>The benchmark models' shapes: ResNet's 7x7/2 stem (112 = 7 x 16), its 56x56 3x3 (the 4 x 56 whole-row tile), MobileNetV2's 3x3/2 stem.</summary>
    [Theory]
    [InlineData(3, 224, 64, 7, 2, 3)]
    [InlineData(64, 56, 64, 3, 1, 1)]
    [InlineData(3, 224, 32, 3, 2, 1)]
    public void Model_shapes_match_the_reference(int c, int hw, int k, int ks, int stride, int pad)
    {
        Compare(1, c, hw, hw, k, ks, ks, stride, stride, pad, pad, pad, pad, 1, 1, true, Activation.Relu, c * 1000 + hw);
    }

    private static readonly Gen<(int Ow, int Sw, int Kw, int Dw, int Pl, int Pr)> Row =
        Gen.Select(Gen.Int[4, 9], Gen.Int[1, 2], Gen.Int[1, 7], Gen.Int[1, 2], Gen.Int[0, 3], Gen.Int[0, 3])
            .Select(t => (t.Item1 * 8, t.Item2, t.Item3, t.Item4, Math.Min(t.Item5, (t.Item3 - 1) * t.Item4), t.Item6));

    /// <summary>
    /// Random shapes on the path: output widths 32 to 72 (multiples of 8: with and without the 8-column tail, and 56),
    /// strideW 1 and 2, 1 to 7 taps wide, dilation 1 and 2, left/right padding 0 to 3, any strideH, heights with rows
    /// outside the input (padding top and bottom), 8 to 24 output channels, 1 to 5 input channels, 1 or 2 images, with and
    /// without bias, every activation.
    /// </summary>
    [Fact]
    public void Random_shapes_match_the_reference()
    {
        int compared = 0;
        Gen.Select(Row, Gen.Select(Gen.Int[1, 5], Gen.Int[1, 3], Gen.Int[1, 4], Gen.Int[1, 3], Gen.Int[0, 2]),
                Gen.Select(Gen.Int[1, 2], Gen.Int[1, 2], Gen.Bool, Gen.Int[0, 7], Gen.Int))
            .Sample(t =>
            {
                var (ow, sw, kw, dw, pl, pr) = t.Item1;
                var (c, kStrips, kh, sh, pt) = t.Item2;
                var (n, dh, bias, act, seed) = t.Item3;
                // The input width giving ow outputs with these paddings (at least one column).
                int width = Math.Max(1, (ow - 1) * sw + dw * (kw - 1) + 1 - pl - pr);
                int owReal = (width + pl + pr - dw * (kw - 1) - 1) / sw + 1;
                if (owReal != ow) pr += (ow - owReal) * sw;   // widen the right padding until the row is ow wide
                owReal = (width + pl + pr - dw * (kw - 1) - 1) / sw + 1;
                if (owReal != ow || pr < 0) return;
                int h = 1 + (seed & 7);
                int pb = (seed >> 3) & 1;
                if ((h + pt + pb - dh * (kh - 1) - 1) / sh + 1 < 1 || h + pt + pb < dh * (kh - 1) + 1) return;
                if (!Conv.RowTilesApply(Isa.Vector512, c, 8 * kStrips, kh, kw, ow, sw, dw, 1)) return;
                int oh = (h + pt + pb - dh * (kh - 1) - 1) / sh + 1;
                if (Conv.ChannelTilesApply(Isa.Vector512, c, 8 * kStrips, kh, kw, oh, ow, sh, sw, dh, dw, 1)) return;   // dispatched first
                Compare(n, c, h, width, 8 * kStrips, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw, bias, (Activation)act, seed);
                compared++;
            }, iter: 200, threads: 1);
        Assert.True(compared >= 100, $"only {compared} of 200 samples were on the row-tile path");
    }

    /// <summary>The path's stack bounds and conditions: shapes past them go to the other paths.</summary>
    [Fact]
    public void Dispatch_respects_the_stack_bounds()
    {
        Assert.True(Conv.RowTilesApply(Isa.Vector512, 64, 64, 3, 3, 56, 1, 1, 1));     // 64 x 3 x 58 = 11136 floats
        Assert.False(Conv.RowTilesApply(Isa.Vector512, 128, 128, 3, 3, 56, 1, 1, 1));  // 22272 floats of rows
        Assert.False(Conv.RowTilesApply(Isa.Vector512, 256, 64, 3, 3, 32, 1, 1, 1));   // 2304 taps
        Assert.False(Conv.RowTilesApply(Isa.Vector512, 64, 64, 3, 3, 28, 1, 1, 1));    // narrower than RowTileMinWidth
        Assert.False(Conv.RowTilesApply(Isa.Vector512, 64, 60, 3, 3, 56, 1, 1, 1));    // channels not in strips of 8
        Assert.False(Conv.RowTilesApply(Isa.Vector512, 64, 64, 3, 3, 52, 1, 1, 1));    // a row not a multiple of 8
        Assert.False(Conv.RowTilesApply(Isa.Vector512, 8, 64, 3, 3, 56, 3, 1, 1));     // strideW 3
        Assert.False(Conv.RowTilesApply(Isa.Vector512, 64, 64, 3, 3, 56, 1, 1, 2));    // grouped
        Assert.False(Conv.RowTilesApply(Isa.Vector256, 64, 64, 3, 3, 56, 1, 1, 1));    // AVX-512 only
        for (int c = 1; c <= 300; c += 7)
            foreach (int ks in new[] { 1, 3, 5, 7, 11 })
                foreach (int ow in new[] { 32, 56, 112, 224, 512 })
                    foreach (int s in new[] { 1, 2 })
                        if (Conv.RowTilesApply(Isa.Vector512, c, 8, ks, ks, ow, s, 1, 1))
                            Assert.True((long)c * ks * Conv.RowTileRowFloats(ow, ks, s, 1) <= Conv.RowTileBufferFloats
                                && c * ks * ks <= Conv.RowTileMaxTaps, $"c={c} {ks}x{ks} ow={ow} s={s}");
    }
}
