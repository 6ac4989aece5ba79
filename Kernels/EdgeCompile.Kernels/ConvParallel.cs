using System.Runtime.CompilerServices;

namespace EdgeCompile.Kernels;

/// <summary>
/// The multi-threaded entry of <see cref="Conv.Conv2D"/> (model metadata <c>Threads</c>): the output channels are split
/// into parts, each part a convolution of its own run by the unchanged single-thread core on the <see cref="WorkerPool"/>.
/// Output channels [k0, k1) of a one-image convolution are the weight rows k0..k1, bias[k0..k1] and the output planes
/// k0..k1 (for depthwise, also the input planes k0..k1, with c = k = group = k1 - k0). Parts start at multiples of the
/// path's channel tile (<see cref="ParallelUnit"/>), so every part runs the same path with the same tiles as the whole
/// would, and each output is the same sum in the same order: the result is bit-identical to <see cref="Conv.Conv2D"/>
/// (tested). Batches above 1, grouped convolutions other than depthwise, and layers under <see cref="ParallelMinMacs"/>
/// run serially.
/// </summary>
public static unsafe partial class Conv
{
    /// <summary>
    /// Multiply-adds under which a convolution runs on the calling thread alone: handing parts to a worker costs a few
    /// microseconds (waking it, the parts' cache misses), measured in docs/benchmarks.md "Multi-threaded Run".
    /// </summary>
    public const long ParallelMinMacs = 1_000_000;

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
        long macs = (long)k * oh * ow * (c / group) * kh * kw;
        int unit = ParallelUnit(isa, c, k, kh, kw, oh, ow, strideH, strideW, dilationH, dilationW, group);
        int parts = n != 1 || (group != 1 && !(group == c && k == c)) || macs < ParallelMinMacs ? 1 : WorkerPool.PartsFor(threads, k, unit);
        Conv2DParallelCore(x, w, bias, y, n, c, h, width, k, kh, kw, oh, ow, strideH, strideW, padTop, padLeft, dilationH, dilationW, group,
            act, p0, p1, isa, unit, parts);
    }

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
    }

    /// <summary>
    /// Runs <paramref name="parts"/> parts of <paramref name="unit"/>-aligned output channels (one part: <see cref="Conv2DCore"/>
    /// itself). Tests call it with any part count (the pool runs more parts than threads by claiming them in turn).
    /// </summary>
    internal static void Conv2DParallelCore(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y,
        int n, int c, int h, int width, int k, int kh, int kw, int oh, int ow,
        int strideH, int strideW, int padTop, int padLeft, int dilationH, int dilationW, int group,
        Activation act, float p0, float p1, Isa isa, int unit, int parts)
    {
        if (parts <= 1)
        {
            Conv2DCore(x, w, bias, y, n, c, h, width, k, kh, kw, oh, ow, strideH, strideW, padTop, padLeft, dilationH, dilationW, group, act, p0, p1, isa);
            return;
        }
        if (n != 1 || (group != 1 && !(group == c && k == c))) throw new ArgumentException("Conv2DParallel: parts need one image and group 1 or depthwise.", nameof(parts));
        // The spans stay pinned until WorkerPool.Run returns, which is after every part has finished.
        fixed (float* px = x, pw = w, pb = bias, py = y)
        {
            var s = new ConvParts
            {
                X = px, W = pw, Bias = pb, Y = py, XLength = x.Length, WLength = w.Length, BiasLength = bias.Length, YLength = y.Length,
                C = c, H = h, Width = width, K = k, Kh = kh, Kw = kw, Oh = oh, Ow = ow, StrideH = strideH, StrideW = strideW,
                PadTop = padTop, PadLeft = padLeft, DilationH = dilationH, DilationW = dilationW, Group = group, Unit = unit,
                Act = act, P0 = p0, P1 = p1, Isa = isa,
            };
            WorkerPool.Run(&ConvPart, &s, parts);
        }
    }

    private static void ConvPart(void* state, int part, int parts)
    {
        ref ConvParts s = ref Unsafe.AsRef<ConvParts>(state);
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
            s.DilationH, s.DilationW, depthwise ? kk : 1, s.Act, s.P0, s.P1, s.Isa);
    }
}
