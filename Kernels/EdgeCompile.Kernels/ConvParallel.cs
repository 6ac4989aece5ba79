using System.Runtime.CompilerServices;

namespace EdgeCompile.Kernels;

/// <summary>
/// The multi-threaded entry of <see cref="Conv.Conv2D"/> (model metadata <c>Threads</c>): the output channels are split
/// into parts, each part a convolution of its own run by the unchanged single-thread core on the <see cref="WorkerPool"/>.
/// Output channels [k0, k1) of a one-image convolution are the weight rows k0..k1, bias[k0..k1] and the output planes
/// k0..k1 (for depthwise, also the input planes k0..k1, with c = k = group = k1 - k0). Parts start at multiples of the
/// path's channel tile (<see cref="ParallelUnit"/>), so every part runs the same path with the same tiles as the whole
/// would, and each output is the same sum in the same order: the result is bit-identical to <see cref="Conv.Conv2D"/>
/// (tested). A 1x1 convolution over a plane of at least <see cref="PixelSplitMinPixels"/> pixels is split by output pixels
/// instead (columns of its GEMM, at multiples of the 16-column tile; the last part keeps the whole's column tail): each part
/// then reads only its columns of the input, where a channel split would make every part read (and pack) all of it.
/// Batches above 1 and grouped convolutions other than depthwise run serially. Which layers are worth splitting
/// is the compiler's choice (<c>ParallelCalls.MinMacs</c>): this entry splits whatever it is given.
/// </summary>
public static unsafe partial class Conv
{
    /// <summary>
    /// <see cref="Conv2D"/> split over up to <paramref name="threads"/> threads (at most the processor count); the same
    /// result, bit for bit. Allocation-free (the first parallel call of the process starts the worker threads).
    /// </summary>
    public static void Conv2DParallel(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y,
        int n, int c, int h, int width, int k, int kh, int kw, int oh, int ow,
        int strideH, int strideW, int padTop, int padLeft, int dilationH, int dilationW, int group,
        Activation act, float p0, float p1, int threads)
    {
        Validate(x, w, bias, y, n, c, h, width, k, kh, kw, oh, ow, strideH, strideW, padTop, padLeft, dilationH, dilationW, group);
        Isa isa = KernelPaths.BestGemm;
        bool pixels = PixelSplit(isa, c, h, width, k, kh, kw, oh, ow, strideH, strideW, padTop, padLeft, group);
        int unit = pixels ? PixelUnit : ParallelUnit(isa, c, k, kh, kw, oh, ow, strideH, strideW, dilationH, dilationW, group);
        int parts = n != 1 || (group != 1 && !(group == c && k == c)) ? 1 : WorkerPool.PartsFor(threads, pixels ? h * width : k, unit);
        Conv2DParallelCore(x, w, bias, y, n, c, h, width, k, kh, kw, oh, ow, strideH, strideW, padTop, padLeft, dilationH, dilationW, group,
            act, p0, p1, isa, unit, parts, pixels);
    }

    /// <summary>Output pixels from which a 1x1 convolution is split by pixels rather than channels.</summary>
    internal const int PixelSplitMinPixels = 256;

    /// <summary>The column tile of the GEMM's micro-kernels: pixel parts start at multiples of it.</summary>
    internal const int PixelUnit = 16;

    /// <summary>Whether the split is by output pixels: the whole takes the 1x1 GEMM path (as <see cref="Conv2DCore"/> decides) over a large plane.</summary>
    internal static bool PixelSplit(Isa isa, int c, int h, int width, int k, int kh, int kw, int oh, int ow, int strideH, int strideW, int padTop, int padLeft, int group)
        => isa != Isa.Scalar && group == 1 && kh == 1 && kw == 1 && strideH == 1 && strideW == 1 && padTop == 0 && padLeft == 0
           && oh == h && ow == width && (long)h * width >= PixelSplitMinPixels;

    /// <summary>
    /// The channel tile the parts of a split start at: the channel-tile path's block (32 or 16 channels) when the whole
    /// takes it, else 8 (the GEMM micro-kernel's zmm rows, the row tiles' and small planes' channel blocks, the depthwise
    /// channel blocks).
    /// </summary>
    internal static int ParallelUnit(Isa isa, int c, int k, int kh, int kw, int oh, int ow, int strideH, int strideW, int dilationH, int dilationW, int group)
        => ChannelTilesApply(isa, c, k, kh, kw, oh, ow, strideH, strideW, dilationH, dilationW, group) ? ChannelTileLanes(oh * ow) : 8;

    private struct ConvParts
    {
        public float* X, W, Bias, Y;
        public int XLength, WLength, BiasLength, YLength;
        public int C, H, Width, K, Kh, Kw, Oh, Ow, StrideH, StrideW, PadTop, PadLeft, DilationH, DilationW, Group, Unit;
        public Activation Act;
        public float P0, P1;
        public Isa Isa;
        public bool Pixels, ChannelTiles, RowTiles;
    }

    /// <summary>
    /// Runs <paramref name="parts"/> parts of <paramref name="unit"/>-aligned output channels (one part: <see cref="Conv2DCore"/>
    /// itself). Tests call it with any part count (the pool runs more parts than threads by claiming them in turn).
    /// </summary>
    internal static void Conv2DParallelCore(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y,
        int n, int c, int h, int width, int k, int kh, int kw, int oh, int ow,
        int strideH, int strideW, int padTop, int padLeft, int dilationH, int dilationW, int group,
        Activation act, float p0, float p1, Isa isa, int unit, int parts, bool pixels = false)
    {
        if (parts <= 1)
        {
            Conv2DCore(x, w, bias, y, n, c, h, width, k, kh, kw, oh, ow, strideH, strideW, padTop, padLeft, dilationH, dilationW, group, act, p0, p1, isa);
            return;
        }
        if (n != 1 || (group != 1 && !(group == c && k == c))) throw new ArgumentException("Conv2DParallel: parts need one image and group 1 or depthwise.", nameof(parts));
        if (pixels && !PixelSplit(isa, c, h, width, k, kh, kw, oh, ow, strideH, strideW, padTop, padLeft, group))
            throw new ArgumentException("Conv2DParallel: a pixel split needs the 1x1 GEMM path.", nameof(pixels));
        // The spans stay pinned until WorkerPool.Run returns, which is after every part has finished.
        fixed (float* px = x, pw = w, pb = bias, py = y)
        {
            var s = new ConvParts
            {
                X = px, W = pw, Bias = pb, Y = py, XLength = x.Length, WLength = w.Length, BiasLength = bias.Length, YLength = y.Length,
                C = c, H = h, Width = width, K = k, Kh = kh, Kw = kw, Oh = oh, Ow = ow, StrideH = strideH, StrideW = strideW,
                PadTop = padTop, PadLeft = padLeft, DilationH = dilationH, DilationW = dilationW, Group = group, Unit = unit,
                Act = act, P0 = p0, P1 = p1, Isa = isa, Pixels = pixels,
                // The two paths whose choice depends on k (its divisibility): a part takes one only when the whole does, so a part
                // of 16 channels of a 70-channel layer stays on the whole's im2col path (found by the random-shape property).
                ChannelTiles = ChannelTilesApply(isa, c, k, kh, kw, oh, ow, strideH, strideW, dilationH, dilationW, group),
                RowTiles = RowTilesApply(isa, c, k, kh, kw, ow, strideW, dilationW, group),
            };
            WorkerPool.Run(&ConvPart, &s, parts);
        }
    }

    private static void ConvPart(void* state, int part, int parts)
    {
        ref ConvParts s = ref Unsafe.AsRef<ConvParts>(state);
        if (s.Pixels)
        {
            // Columns [j0, j1) of y[k, hw] = bias + W[k, c] @ x[c, hw]: Conv2D1x1's GEMM on a column range.
            int hw = s.H * s.Width;
            var (j0, j1) = WorkerPool.Range(hw, s.Unit, part, parts);
            if (j0 == j1) return;
            Gemm.MultiplyNN(new ReadOnlySpan<float>(s.W, s.WLength), s.C, 1, new ReadOnlySpan<float>(s.X, s.XLength).Slice(j0), hw,
                new Span<float>(s.Y, s.YLength).Slice(j0), hw, s.K, s.C, j1 - j0, accumulate: false, new ReadOnlySpan<float>(s.Bias, s.BiasLength),
                s.Act, s.P0, s.P1, s.Isa);
            return;
        }
        var (k0, k1) = WorkerPool.Range(s.K, s.Unit, part, parts);
        if (k0 == k1) return;
        int kk = k1 - k0, planeOut = s.Oh * s.Ow, taps = s.C / s.Group * s.Kh * s.Kw;
        bool depthwise = s.Group != 1;
        var x = new ReadOnlySpan<float>(s.X, s.XLength);
        var bias = new ReadOnlySpan<float>(s.Bias, s.BiasLength);
        Conv2DCore(depthwise ? x.Slice(k0 * s.H * s.Width, kk * s.H * s.Width) : x,
            new ReadOnlySpan<float>(s.W, s.WLength).Slice(k0 * taps, kk * taps),
            bias.IsEmpty ? bias : bias.Slice(k0, kk),
            new Span<float>(s.Y, s.YLength).Slice(k0 * planeOut, kk * planeOut),
            1, depthwise ? kk : s.C, s.H, s.Width, kk, s.Kh, s.Kw, s.Oh, s.Ow, s.StrideH, s.StrideW, s.PadTop, s.PadLeft,
            s.DilationH, s.DilationW, depthwise ? kk : 1, s.Act, s.P0, s.P1, s.Isa, s.ChannelTiles, s.RowTiles);
    }
}
