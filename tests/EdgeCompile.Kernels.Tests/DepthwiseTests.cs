using CsCheck;
using EdgeCompile.Kernels.Tests.Support;
using Check = EdgeCompile.Kernels.Tests.Support.Check;

namespace EdgeCompile.Kernels.Tests;

/// <summary>
/// The Vector256 depthwise 3x3 kernels (<c>Conv.Conv2DDepthwise3x3Padded</c>): the padded-row kernel and the 8-channel
/// tile kernel (<c>Conv.DepthwiseChannelsApplies</c>). Property tests (CsCheck, with shrinking) over
/// channel counts below and above 8 (with a remainder past the last multiple of 8), planes from 1 pixel up to 60 rows
/// (the tile kernel in one strip or several; rows narrower than a vector, fewer than 8 pixels), strides 1 and 2 on each
/// axis, padding 0-2 on each side, dilation 1 and 2, every activation, one or two images. Each is compared with the scalar reference (tolerance: <see cref="Check.Close"/>,
/// 1e-5 relative + 1e-5 absolute: fused multiply-adds over nine products of values in [-1, 1]; the kernels skip no
/// padding tap, which adds w * 0), and the tile kernel with the padded-row kernel bit for bit (same operations in the
/// same order). Without Vector256 (CI's DOTNET_EnableAVX2=0 run) the kernels under test do not run: only the dispatch
/// through <c>Conv.Conv2DCore</c> on the remaining paths is checked.
/// </summary>
public class DepthwiseTests
{
    private const int Iter = 300;

    private static readonly Gen<(int N, int C, int H, int W, int Sh, int Sw, int Pt, int Pl)> Shape =
        Gen.Select(Gen.Int[1, 2], Gen.OneOf(Gen.Int[1, 3], Gen.Int[8, 19]), Gen.Int[1, 60], Gen.Int[1, 40],
            Gen.Int[1, 2], Gen.Int[1, 2], Gen.Int[0, 2], Gen.Int[0, 2]);

    private static readonly Gen<(int Pb, int Pr, int Dil, int Act, int Seed)> Rest =
        Gen.Select(Gen.Int[0, 2], Gen.Int[0, 2], Gen.OneOf(Gen.Const(1), Gen.Const(1), Gen.Const(2)), Gen.Int[0, 7], Gen.Int);

    [Fact]
    public void Fast_paths_match_the_reference_and_each_other()
    {
        int tiles = 0;
        Gen.Select(Shape, Rest).Sample(t =>
        {
            var (s, e) = t;
            if (Compare(s.N, s.C, s.H, s.W, s.Sh, s.Sw, s.Pt, s.Pl, e.Pb, e.Pr, e.Dil, (Activation)e.Act, e.Seed)) tiles++;
        }, iter: Iter, threads: 1);
        // The draws must reach the tile kernel (about a third of them do).
        Assert.True(tiles > Iter / 10 || !KernelPaths.IsSupported(Isa.Vector256), $"coverage: {tiles} tile-kernel shapes of {Iter}");
    }

    /// <summary>Every depthwise layer shape of MobileNetV2 (pad 1, Clip(0, 6); the large planes in strips of output
    /// rows, <paramref name="strips"/>) and a few edges: which kernel takes it, and the results.</summary>
    [Theory]
    [InlineData(32, 112, 1, false, false)]   // strips of 6 rows: padded rows
    [InlineData(96, 112, 2, true, true)]
    [InlineData(144, 56, 1, true, true)]
    [InlineData(144, 56, 2, true, true)]
    [InlineData(192, 28, 1, true, false)]
    [InlineData(192, 28, 2, true, false)]
    [InlineData(384, 14, 1, true, false)]
    [InlineData(576, 14, 2, true, false)]
    [InlineData(960, 7, 1, true, false)]
    [InlineData(20, 7, 2, true, false)]     // 4 channels past the last block of 8; a 4x4 output (16 pixels)
    [InlineData(8, 3, 1, true, false)]      // 9 pixels: the last block of 8 overlaps the first
    [InlineData(16, 2, 2, false, false)]    // 1 output pixel: fewer than 8
    [InlineData(8, 300, 1, false, false)]   // strips of one output row (3 tile rows of 302 pixels): padded rows
    [InlineData(8, 60, 1, true, true)]     // 5 strips: 4 of 14 rows, one of 4
    [InlineData(16, 100, 2, true, true)]   // 13 strips of 4 rows (8 input rows' stride), the last of 2
    [InlineData(8, 400, 1, false, false)]   // a tile row of 402 pixels: not even 3 rows fit the tile
    public void MobileNetV2_shapes(int c, int hw, int stride, bool tile, bool strips)
    {
        int o = (hw - 1) / stride + 1;
        // Several strips only with AVX-512VL's 32 registers (DOTNET_EnableAVX512=0 turns it off).
        bool expected = tile && (!strips || System.Runtime.Intrinsics.X86.Avx512F.VL.IsSupported) && System.Runtime.Intrinsics.X86.Avx.IsSupported;
        Assert.Equal(expected, Conv.DepthwiseChannelsApplies(c, hw, hw, o, o, stride, stride, 1, 1, 1, 1));
        Compare(1, c, hw, hw, stride, stride, 1, 1, 1, 1, 1, Activation.Clip, c * 100 + hw, p0: 0f, p1: 6f);
    }

    [Fact]
    public void No_allocation_per_call()
    {
        // Through the public entry point: the kernels above where Vector256 runs, the other depthwise kernel elsewhere.
        var r = new Random(5);
        foreach (var (c, hw, stride) in new[] { (32, 28, 1), (32, 28, 2), (16, 7, 1), (20, 14, 2), (3, 56, 1), (3, 56, 2) })
        {
            int o = (hw - 1) / stride + 1;
            var x = Check.Data(r, c * hw * hw); var w = Check.Data(r, c * 9); var b = Check.Data(r, c);
            var y = new float[c * o * o];
            void Run() => Conv.Conv2D(x, w, b, y, 1, c, hw, hw, c, 3, 3, o, o, stride, stride, 1, 1, 1, 1, c, Activation.Clip, 0f, 6f);
            Run();
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 10; i++) Run();
            Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        }
    }

    /// <summary>Checks one shape; returns whether the tile kernel ran it.</summary>
    private static bool Compare(int n, int c, int h, int width, int sh, int sw, int pt, int pl, int pb, int pr, int dil, Activation act, int seed,
        float? p0 = null, float? p1 = null)
    {
        int oh = (h + pt + pb - 2 * dil - 1) / sh + 1, ow = (width + pl + pr - 2 * dil - 1) / sw + 1;
        if (h + pt + pb - 2 * dil - 1 < 0 || width + pl + pr - 2 * dil - 1 < 0) return false;
        var r = new Random(seed);
        var x = Check.Data(r, n * c * h * width);
        var w = Check.Data(r, c * 9);
        var bias = r.Next(3) == 0 ? Array.Empty<float>() : Check.Data(r, c);
        float q0, q1;
        if (p0 is null) act = Check.ActivationParams(act, out q0, out q1); else (q0, q1) = (p0.Value, p1!.Value);
        var expected = new float[n * c * oh * ow];
        Conv.Conv2DScalar(x, w, bias, expected, n, c, h, width, c, 3, 3, oh, ow, sh, sw, pt, pl, dil, dil, c, act, q0, q1);
        string what = $"n={n} c={c} {h}x{width} stride {sh}x{sw} pads {pt},{pl},{pb},{pr} dilation {dil} {act}";
        foreach (var isa in Check.FastPaths())
        {
            var viaCore = new float[expected.Length];
            Conv.Conv2DCore(x, w, bias, viaCore, n, c, h, width, c, 3, 3, oh, ow, sh, sw, pt, pl, dil, dil, c, act, q0, q1, isa);
            Check.Close(expected, viaCore, $"Conv2DCore {what} {isa}");
        }
        if (!KernelPaths.IsSupported(Isa.Vector256) || !Conv.DepthwisePaddedApplies(Isa.Vector256, sw, dil, dil, ow)) return false;
        var rows = new float[expected.Length];
        Conv.Conv2DDepthwise3x3Padded(x, w, bias, rows, n, c, h, width, oh, ow, sh, sw, pt, pl, dil, dil, act, q0, q1, channelBlocks: false);
        Check.Close(expected, rows, $"padded rows {what}");
        var any = new float[expected.Length];
        Conv.Conv2DDepthwise3x3Padded(x, w, bias, any, n, c, h, width, oh, ow, sh, sw, pt, pl, dil, dil, act, q0, q1);
        Check.Close(expected, any, $"depthwise {what}");
        bool tile = Conv.DepthwiseChannelsApplies(c, h, width, oh, ow, sh, sw, pt, pl, dil, dil);
        if (tile) Check.Exact(rows, any, $"tile kernel vs padded rows {what}");
        return tile;
    }
}
