using CsCheck;
using EdgeCompile.Kernels.Tests.Support;

namespace EdgeCompile.Kernels.Tests;

/// <summary>
/// The channel-tile convolution (<see cref="Conv.Conv2DChannelTiles512"/>, AVX-512 only): 32 output channels x 7 output
/// pixels per tile (16 x 14 on planes over 392 pixels), input channels in chunks whose partial sums wait in y, from zero-padded input rows (stride 2 split
/// into even and odd columns). Compared with the scalar reference (<see cref="Conv.Conv2DScalar"/>) within 1e-5 relative
/// plus 2e-6 x sqrt(taps) absolute (FMA rounding over sums of products of values in [-1, 1], the same order of sums). On a
/// machine without AVX-512 the path does not run and these tests check only the dispatch.
/// </summary>
public class ConvChannelTileTests
{
    private static void Compare(int n, int c, int h, int width, int k, int kh, int kw, int sh, int sw, int pt, int pl, int pb, int pr,
        int dh, int dw, bool withBias, Activation act, int seed)
        => ConvPathCheck.Compare("channel tiles", (oh, ow) => Conv.ChannelTilesApply(Isa.Vector512, c, k, kh, kw, oh, ow, sh, sw, dh, dw, 1)
                && !(kh == 1 && kw == 1 && sh == 1 && sw == 1 && pt == 0 && pl == 0 && oh == h && ow == width),   // the 1x1 GEMM's
            n, c, h, width, k, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw, withBias, act, seed);

    /// <summary>
    /// ResNet-18's layers on the path: the 256->256 14x14 3x3 (9 chunks of 28 channels and one of 4), the 128->256 3x3/2
    /// from 28x28, and the 128->128 28x28 3x3 (16-channel blocks, 16x14 tiles).
    /// </summary>
    [Theory]
    [InlineData(256, 14, 256, 3, 1, 1)]
    [InlineData(128, 28, 128, 3, 1, 1)]
    [InlineData(128, 28, 256, 3, 2, 1)]
    public void Model_shapes_match_the_reference(int c, int hw, int k, int ks, int stride, int pad)
    {
        Compare(1, c, hw, hw, k, ks, ks, stride, stride, pad, pad, pad, pad, 1, 1, true, Activation.Relu, c * 1000 + hw);
    }

    /// <summary>
    /// Random shapes on the path: output rows of 7 to 28 pixels (multiples of 7), planes of 98 to 384 pixels, strideW 1
    /// and 2, 1 to 5 taps wide and high, dilation 1 and 2, padding 0 to 2 on each side, 16 to 64 output channels (blocks of
    /// 32 and 7-pixel tiles up to 392 pixels, blocks of 16 and 14-pixel tiles above), 1 to 40
    /// input channels (one chunk or several, with a partial last one), 1 or 2 images, with and without bias, every activation.
    /// </summary>
    [Fact]
    public void Random_shapes_match_the_reference()
    {
        int compared = 0, lanes16 = 0;
        Gen.Select(Gen.Select(Gen.Int[1, 4], Gen.Int[1, 2], Gen.Int[1, 5], Gen.Int[1, 2], Gen.Int[0, 2]),
                Gen.Select(Gen.Int[1, 40], Gen.Int[1, 4], Gen.Int[1, 5], Gen.Int[1, 2], Gen.Int[0, 2]),
                Gen.Select(Gen.Int[1, 2], Gen.Int[1, 2], Gen.Bool, Gen.Int[0, 7], Gen.Int[0, 2]),
                Gen.Select(Gen.Int[4, 40], Gen.Int[0, 2], Gen.Int))
            .Sample(t =>
            {
                var (rowTiles, sw, kw, dw, pl) = t.Item1;
                var (c, kBlocks, kh, sh, pt) = t.Item2;
                var (n, dh, bias, act, pr) = t.Item3;
                var (ohWanted, pb, seed) = t.Item4;
                int ow = 7 * rowTiles;
                pl = Math.Min(pl, (kw - 1) * dw);
                pt = Math.Min(pt, (kh - 1) * dh);
                // The input size giving ow (oh) outputs with these paddings, widening the right (bottom) padding as needed.
                int width = Math.Max(1, (ow - 1) * sw + dw * (kw - 1) + 1 - pl - pr);
                pr = (ow - 1) * sw + dw * (kw - 1) + 1 - pl - width;
                int h = Math.Max(1, (ohWanted - 1) * sh + dh * (kh - 1) + 1 - pt - pb);
                pb = (ohWanted - 1) * sh + dh * (kh - 1) + 1 - pt - h;
                if (pr < 0 || pb < 0) return;
                int oh = (h + pt + pb - dh * (kh - 1) - 1) / sh + 1;
                if (!Conv.ChannelTilesApply(Isa.Vector512, c, 16 * kBlocks, kh, kw, oh, ow, sh, sw, dh, dw, 1)) return;
                if (kh == 1 && kw == 1 && sh == 1 && sw == 1 && pt == 0 && pl == 0 && oh == h && ow == width) return;   // the 1x1 GEMM's
                lanes16 += Conv.ChannelTileLanes(oh * ow) == 16 ? 1 : 0;
                Compare(n, c, h, width, 16 * kBlocks, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw, bias, (Activation)act, seed);
                compared++;
            }, iter: 200, threads: 1);
        Assert.True(compared >= 50, $"only {compared} of 200 samples were on the channel-tile path");
        Assert.True(lanes16 >= 5, $"only {lanes16} samples took the 16-channel blocks");
    }

    /// <summary>The path's conditions and stack bounds: shapes past them go to the other paths.</summary>
    [Fact]
    public void Dispatch_respects_the_stack_bounds()
    {
        Assert.True(Conv.ChannelTilesApply(Isa.Vector512, 256, 256, 3, 3, 14, 14, 1, 1, 1, 1, 1));
        Assert.True(Conv.ChannelTilesApply(Isa.Vector512, 128, 256, 3, 3, 14, 14, 2, 2, 1, 1, 1));
        Assert.False(Conv.ChannelTilesApply(Isa.Vector512, 512, 512, 3, 3, 7, 7, 1, 1, 1, 1, 1));     // 49 pixels: too few
        Assert.True(Conv.ChannelTilesApply(Isa.Vector512, 128, 128, 3, 3, 28, 28, 1, 1, 1, 1, 1));    // 784 pixels: 16-channel blocks
        Assert.Equal(16, Conv.ChannelTileLanes(28 * 28));
        Assert.Equal(32, Conv.ChannelTileLanes(14 * 14));
        Assert.False(Conv.ChannelTilesApply(Isa.Vector512, 64, 64, 3, 3, 56, 56, 1, 1, 1, 1, 1));     // 3136 pixels: too many
        Assert.False(Conv.ChannelTilesApply(Isa.Vector512, 128, 120, 3, 3, 28, 28, 1, 1, 1, 1, 1));   // 16-channel blocks: not a multiple of 16
        Assert.False(Conv.ChannelTilesApply(Isa.Vector512, 128, 128, 3, 3, 21, 21, 1, 1, 1, 1, 1));   // 441 pixels: rows not a multiple of 14
        Assert.False(Conv.ChannelTilesApply(Isa.Vector512, 128, 256, 1, 1, 14, 14, 2, 2, 1, 1, 1));     // 1x1/2: 15-tap chunks
        Assert.False(Conv.ChannelTilesApply(Isa.Vector512, 256, 240, 3, 3, 14, 14, 1, 1, 1, 1, 1));   // channels not in blocks of 32
        Assert.False(Conv.ChannelTilesApply(Isa.Vector512, 256, 256, 3, 3, 16, 16, 1, 1, 1, 1, 1));   // a row not a multiple of 7
        Assert.False(Conv.ChannelTilesApply(Isa.Vector512, 256, 256, 3, 3, 14, 14, 1, 3, 1, 1, 1));   // strideW 3
        Assert.False(Conv.ChannelTilesApply(Isa.Vector512, 256, 256, 3, 3, 14, 14, 1, 1, 1, 1, 2));   // grouped
        Assert.False(Conv.ChannelTilesApply(Isa.Vector256, 256, 256, 3, 3, 14, 14, 1, 1, 1, 1, 1));   // AVX-512 only
        for (int ks = 1; ks <= 17; ks += 2)
            foreach (int oh in new[] { 7, 14, 21, 28 })
                foreach (int ow in new[] { 7, 14, 21, 28 })
                    foreach (int s in new[] { 1, 2 })
                        if (Conv.ChannelTilesApply(Isa.Vector512, 64, 32, ks, ks, oh, ow, s, s, 1, 1, 1))
                        {
                            int rows = Conv.ChannelTileRows(oh, ks, s, 1), rowFloats = Conv.RowTileRowFloats(ow, ks, s, 1);
                            int chunk = Conv.ChannelTileChunk(ks * ks, rows, rowFloats);
                            Assert.True(chunk >= 1 && chunk * ks * ks <= Conv.ChannelTileChunkTaps && chunk * rows * rowFloats <= Conv.ChannelTileBufferFloats
                                && oh * ow * Conv.ChannelTileLanes(oh * ow) <= Conv.ChannelTileBufferFloats, $"{ks}x{ks} {oh}x{ow} s={s}");
                        }
    }
}
