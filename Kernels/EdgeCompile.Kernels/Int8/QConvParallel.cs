using System.Runtime.CompilerServices;

namespace EdgeCompile.Kernels;

/// <summary>
/// The multi-threaded entries of the int8 convolutions (model metadata <c>Threads</c>), split by output channels as the
/// float <see cref="Conv.Conv2DParallel"/>: each part is a convolution of its own run by the unchanged single-thread core
/// on the <see cref="WorkerPool"/>. <see cref="Conv2DParallel"/> (group 1): parts start at multiples of the packing block
/// (<see cref="QGemm.BlockN"/> = 8 channels, the conv tiles' channel block), so a part's weights are whole packed blocks;
/// bias, multiplier and shift are sliced (a single multiplier is shared); each part needs its own scratch, so the caller
/// passes <c>partScratch</c> with room for <c>threads - 1</c> more <see cref="ScratchLength"/> slices (the compiler sizes
/// it in the arena; one region serves every layer). Depthwise: parts are channel ranges of x, w, y. Integer kernels:
/// bit-identical to the serial call on every path (tested).
/// </summary>
public static unsafe partial class QConv
{
    /// <summary><see cref="Conv2D"/> split over up to <paramref name="threads"/> threads and up to 1 + partScratch.Length / ScratchLength parts.</summary>
    public static void Conv2DParallel(ReadOnlySpan<byte> x, int xZero, ReadOnlySpan<sbyte> packedW, ReadOnlySpan<int> bias, Span<byte> y, Span<byte> scratch,
        int n, int c, int h, int width, int k, int kh, int kw, int oh, int ow, int strideH, int strideW, int padTop, int padLeft,
        int dilationH, int dilationW, int group, ReadOnlySpan<int> multiplier, ReadOnlySpan<int> shift, int yZero, int qmin, int qmax,
        QWeightLayout layout, Span<byte> partScratch, int threads)
    {
        const string kernel = "QConv.Conv2DParallel";
        ValidateConv2D(kernel, x, xZero, packedW, bias, y, scratch, n, c, h, width, k, kh, kw, oh, ow, strideH, strideW, padTop, padLeft,
            dilationH, dilationW, group, multiplier, shift, yZero, qmin, qmax, layout);
        int need = ScratchLength(c, h, width, k, kh, kw, oh, ow, strideH, strideW, padTop, padLeft, dilationH, dilationW, group);
        int parts = n != 1 || group != 1 ? 1
            : Math.Min(WorkerPool.PartsFor(threads, k, QGemm.BlockN), 1 + partScratch.Length / need);
        Conv2DParallelCore(QPaths.Best, x, xZero, packedW, bias, y, scratch, n, c, h, width, k, kh, kw, oh, ow, strideH, strideW, padTop, padLeft,
            dilationH, dilationW, group, multiplier, shift, yZero, qmin, qmax, layout, partScratch, need, parts);
    }

    /// <summary>Extra scratch bytes <see cref="Conv2DParallel"/> needs to run <paramref name="threads"/> parts: threads - 1 slices.</summary>
    public static int PartScratchLength(int c, int h, int width, int k, int kh, int kw, int oh, int ow, int strideH, int strideW,
        int padTop, int padLeft, int dilationH, int dilationW, int group, int threads)
        => Math.Max(0, threads - 1) * ScratchLength(c, h, width, k, kh, kw, oh, ow, strideH, strideW, padTop, padLeft, dilationH, dilationW, group);

    private struct QConvParts
    {
        public byte* X, Y, Scratch, PartScratch;
        public sbyte* W;
        public int* Bias, Multiplier, Shift;
        public int XLength, YLength, WLength, BiasLength, MultiplierLength, ScratchLength, PartScratchLength, Need;
        public int XZero, N, C, H, Width, K, Kh, Kw, Oh, Ow, StrideH, StrideW, PadTop, PadLeft, DilationH, DilationW, YZero, QMin, QMax;
        public QWeightLayout Layout;
        public QIsa Isa;
        /// <summary>0: the general convolution; 3 or 5: the depthwise kernel of that size (StrideH is its stride).</summary>
        public int Depthwise;
    }

    /// <summary>Runs <paramref name="parts"/> parts (one: <see cref="Conv2DCore"/> itself); tests call it with any part count.</summary>
    internal static void Conv2DParallelCore(QIsa isa, ReadOnlySpan<byte> x, int xZero, ReadOnlySpan<sbyte> packedW, ReadOnlySpan<int> bias, Span<byte> y, Span<byte> scratch,
        int n, int c, int h, int width, int k, int kh, int kw, int oh, int ow, int strideH, int strideW, int padTop, int padLeft,
        int dilationH, int dilationW, int group, ReadOnlySpan<int> multiplier, ReadOnlySpan<int> shift, int yZero, int qmin, int qmax,
        QWeightLayout layout, Span<byte> partScratch, int need, int parts)
    {
        if (parts <= 1)
        {
            Conv2DCore(isa, x, xZero, packedW, bias, y, scratch, n, c, h, width, k, kh, kw, oh, ow, strideH, strideW, padTop, padLeft,
                dilationH, dilationW, group, multiplier, shift, yZero, qmin, qmax, null, layout);
            return;
        }
        if (n != 1 || group != 1 || partScratch.Length < (long)(parts - 1) * need)
            throw new ArgumentException("QConv.Conv2DParallel: parts need one image, group 1 and a scratch slice each.", nameof(parts));
        fixed (byte* px = x, py = y, ps = scratch, pps = partScratch)
        fixed (sbyte* pw = packedW)
        fixed (int* pb = bias, pm = multiplier, psh = shift)
        {
            var s = new QConvParts
            {
                X = px, Y = py, Scratch = ps, PartScratch = pps, W = pw, Bias = pb, Multiplier = pm, Shift = psh,
                XLength = x.Length, YLength = y.Length, WLength = packedW.Length, BiasLength = bias.Length, MultiplierLength = multiplier.Length,
                ScratchLength = scratch.Length, PartScratchLength = partScratch.Length, Need = need,
                XZero = xZero, C = c, H = h, Width = width, K = k, Kh = kh, Kw = kw, Oh = oh, Ow = ow, StrideH = strideH, StrideW = strideW,
                PadTop = padTop, PadLeft = padLeft, DilationH = dilationH, DilationW = dilationW, YZero = yZero, QMin = qmin, QMax = qmax,
                Layout = layout, Isa = isa,
            };
            WorkerPool.Run(&ConvPart, &s, parts);
        }
    }

    /// <summary>
    /// <see cref="DepthwiseConv3x3"/> split by channels over up to <paramref name="threads"/> threads; the same bytes.
    /// </summary>
    public static void DepthwiseConv3x3Parallel(ReadOnlySpan<byte> x, int xZero, ReadOnlySpan<sbyte> w, ReadOnlySpan<int> bias, Span<byte> y,
        int n, int c, int h, int width, int oh, int ow, int stride, int padTop, int padLeft,
        ReadOnlySpan<int> multiplier, ReadOnlySpan<int> shift, int yZero, int qmin, int qmax, int threads)
        => DepthwiseParallel("QConv.DepthwiseConv3x3Parallel", 3, x, xZero, w, bias, y, n, c, h, width, oh, ow, stride, padTop, padLeft, multiplier, shift, yZero, qmin, qmax, threads);

    /// <summary>
    /// <see cref="DepthwiseConv5x5"/> split by channels over up to <paramref name="threads"/> threads; the same bytes.
    /// </summary>
    public static void DepthwiseConv5x5Parallel(ReadOnlySpan<byte> x, int xZero, ReadOnlySpan<sbyte> w, ReadOnlySpan<int> bias, Span<byte> y,
        int n, int c, int h, int width, int oh, int ow, int stride, int padTop, int padLeft,
        ReadOnlySpan<int> multiplier, ReadOnlySpan<int> shift, int yZero, int qmin, int qmax, int threads)
        => DepthwiseParallel("QConv.DepthwiseConv5x5Parallel", 5, x, xZero, w, bias, y, n, c, h, width, oh, ow, stride, padTop, padLeft, multiplier, shift, yZero, qmin, qmax, threads);

    private static void DepthwiseParallel(string kernel, int kSize, ReadOnlySpan<byte> x, int xZero, ReadOnlySpan<sbyte> w, ReadOnlySpan<int> bias, Span<byte> y,
        int n, int c, int h, int width, int oh, int ow, int stride, int padTop, int padLeft,
        ReadOnlySpan<int> multiplier, ReadOnlySpan<int> shift, int yZero, int qmin, int qmax, int threads)
    {
        ValidateDepthwise(kernel, kSize, x, xZero, w, bias, y, n, c, h, width, oh, ow, stride, padTop, padLeft, multiplier, shift, yZero, qmin, qmax);
        int parts = n != 1 ? 1 : WorkerPool.PartsFor(threads, c, QGemm.BlockN);
        DepthwiseParallelCore(QPaths.Best, kSize, x, xZero, w, bias, y, n, c, h, width, oh, ow, stride, padTop, padLeft, multiplier, shift, yZero, qmin, qmax, parts);
    }

    /// <summary>Runs the depthwise kernel of size <paramref name="kSize"/> (3 or 5) in <paramref name="parts"/> channel ranges.</summary>
    internal static void DepthwiseParallelCore(QIsa isa, int kSize, ReadOnlySpan<byte> x, int xZero, ReadOnlySpan<sbyte> w, ReadOnlySpan<int> bias, Span<byte> y,
        int n, int c, int h, int width, int oh, int ow, int stride, int padTop, int padLeft,
        ReadOnlySpan<int> multiplier, ReadOnlySpan<int> shift, int yZero, int qmin, int qmax, int parts)
    {
        if (parts > 1 && n != 1) throw new ArgumentException("QConv depthwise parts need one image.", nameof(parts));
        fixed (byte* px = x, py = y)
        fixed (sbyte* pw = w)
        fixed (int* pb = bias, pm = multiplier, psh = shift)
        {
            var s = new QConvParts
            {
                X = px, Y = py, W = pw, Bias = pb, Multiplier = pm, Shift = psh,
                XLength = x.Length, YLength = y.Length, WLength = w.Length, BiasLength = bias.Length, MultiplierLength = multiplier.Length,
                XZero = xZero, C = c, H = h, Width = width, K = c, Oh = oh, Ow = ow, StrideH = stride, PadTop = padTop, PadLeft = padLeft,
                YZero = yZero, QMin = qmin, QMax = qmax, Isa = isa, Depthwise = kSize, Kh = kSize, Kw = kSize, N = n,
            };
            if (parts <= 1 || n != 1) DepthwisePart(ref s, 0, c);
            else WorkerPool.Run(&ConvPart, &s, parts);
        }
    }

    private static void ConvPart(void* state, int part, int parts)
    {
        ref QConvParts s = ref Unsafe.AsRef<QConvParts>(state);
        var (k0, k1) = WorkerPool.Range(s.K, QGemm.BlockN, part, parts);
        if (k0 == k1) return;
        if (s.Depthwise != 0)
        {
            DepthwisePart(ref s, k0, k1);
            return;
        }
        int kk = k1 - k0, planeOut = s.Oh * s.Ow;
        int bb = QGemm.BlockBytes(s.C * s.Kh * s.Kw, s.Layout);
        var bias = new ReadOnlySpan<int>(s.Bias, s.BiasLength);
        var mult = new ReadOnlySpan<int>(s.Multiplier, s.MultiplierLength);
        var shift = new ReadOnlySpan<int>(s.Shift, s.MultiplierLength);
        Span<byte> scratch = part == 0 ? new Span<byte>(s.Scratch, s.ScratchLength) : new Span<byte>(s.PartScratch, s.PartScratchLength).Slice((part - 1) * s.Need, s.Need);
        Conv2DCore(s.Isa, new ReadOnlySpan<byte>(s.X, s.XLength), s.XZero,
            new ReadOnlySpan<sbyte>(s.W, s.WLength).Slice(k0 / QGemm.BlockN * bb, (kk + QGemm.BlockN - 1) / QGemm.BlockN * bb),
            bias.IsEmpty ? bias : bias.Slice(k0, kk), new Span<byte>(s.Y, s.YLength).Slice(k0 * planeOut, kk * planeOut), scratch,
            1, s.C, s.H, s.Width, kk, s.Kh, s.Kw, s.Oh, s.Ow, s.StrideH, s.StrideW, s.PadTop, s.PadLeft, s.DilationH, s.DilationW, 1,
            mult.Length == 1 ? mult : mult.Slice(k0, kk), shift.Length == 1 ? shift : shift.Slice(k0, kk), s.YZero, s.QMin, s.QMax, null, s.Layout);
    }

    // Channels [c0, c1) of a depthwise call (all of them for the serial call, or a batch above 1).
    private static void DepthwisePart(ref QConvParts s, int c0, int c1)
    {
        int cc = c1 - c0, planeIn = s.H * s.Width, planeOut = s.Oh * s.Ow, taps = s.Depthwise * s.Depthwise;
        bool whole = c0 == 0 && c1 == s.C;
        var x = new ReadOnlySpan<byte>(s.X, s.XLength);
        var w = new ReadOnlySpan<sbyte>(s.W, s.WLength);
        var y = new Span<byte>(s.Y, s.YLength);
        var bias = new ReadOnlySpan<int>(s.Bias, s.BiasLength);
        var mult = new ReadOnlySpan<int>(s.Multiplier, s.MultiplierLength);
        var shift = new ReadOnlySpan<int>(s.Shift, s.MultiplierLength);
        int n = whole ? s.N : 1;
        if (!whole)
        {
            x = x.Slice(c0 * planeIn, cc * planeIn);
            w = w.Slice(c0 * taps, cc * taps);
            y = y.Slice(c0 * planeOut, cc * planeOut);
            if (!bias.IsEmpty) bias = bias.Slice(c0, cc);
            if (mult.Length != 1) { mult = mult.Slice(c0, cc); shift = shift.Slice(c0, cc); }
        }
        if (s.Depthwise == 3)
            DepthwiseCore(s.Isa, x, s.XZero, w, bias, y, n, cc, s.H, s.Width, s.Oh, s.Ow, s.StrideH, s.PadTop, s.PadLeft, mult, shift, s.YZero, s.QMin, s.QMax);
        else
            Depthwise5x5Core(s.Isa, x, s.XZero, w, bias, y, n, cc, s.H, s.Width, s.Oh, s.Ow, s.StrideH, s.PadTop, s.PadLeft, mult, shift, s.YZero, s.QMin, s.QMax);
    }
}
