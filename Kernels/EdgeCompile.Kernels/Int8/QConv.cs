using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace EdgeCompile.Kernels;

/// <summary>
/// Int8 2-D convolution over NCHW u8 tensors (ONNX QLinearConv / ConvInteger + requantization):
/// acc[n, k, oy, ox] = bias[k] + sum (x[n, c, iy, ix] - xZero) * w[k, c/group, ky, kx], positions outside the input
/// reading xZero (they contribute 0); y = edge-rne64 requantization of acc with per-channel (or per-tensor)
/// multiplier/shift. The scalar reference (and the ARM64 paths) gather each output pixel's patch (padding = xZero) into
/// caller scratch and run the <see cref="QGemm"/> row core over the group's packed weights; the AVX2 path is
/// register-blocked over tiles of output pixels (im2col panels from a zero-point-padded window, micro-kernels of
/// 8 channels x 8 or 24 pixels, requantization fused into their epilogue; see Int8/README.md). Depthwise 3x3 with stride 1 or 2
/// has its own direct kernel reading weights in ONNX layout.
/// </summary>
public static partial class QConv
{
    /// <summary>Packed weight length for <see cref="Conv2D"/>: per group, <see cref="QGemm.PackedLength"/>(k / group, cPerGroup * kh * kw).</summary>
    public static int PackedLength(int k, int cPerGroup, int kh, int kw, int group, QWeightLayout layout = QWeightLayout.N8K4Sums) =>
        group * QGemm.PackedLength(k / group, cPerGroup * kh * kw, layout);

    /// <summary>
    /// Scratch bytes <see cref="Conv2D"/> needs for this shape (the arguments as passed to it): at least one patch
    /// ((c / group) * kh * kw, the row paths), and the AVX2 path's widened 8-channel weight block, activation panel and
    /// input window or gathered rows (<see cref="ConvLayout"/>).
    /// </summary>
    public static int ScratchLength(int c, int h, int width, int k, int kh, int kw, int oh, int ow, int strideH, int strideW,
        int padTop, int padLeft, int dilationH, int dilationW, int group)
    {
        if (group < 1 || c < group || kh < 1 || kw < 1 || oh < 0 || ow < 0 || strideH < 1 || strideW < 1 || dilationH < 1 || dilationW < 1 || padLeft < 0)
            throw new ArgumentException($"QConv.ScratchLength: bad shape c={c}, kh={kh}, kw={kw}, group={group}.", nameof(c));
        long kd = (long)(c / group) * kh * kw;
        if (kd > QGemm.MaxK) throw new ArgumentException($"QConv.ScratchLength: reduction size {kd} exceeds {QGemm.MaxK}.", nameof(c));
        var l = ConvLayout.Create(c / group, width, kh, kw, oh, ow, strideH, strideW, padLeft, dilationH, dilationW);
        return (int)Math.Max(kd, l.Total);
    }

    /// <summary>
    /// The AVX2 path's tiling and scratch layout. Kernels larger than 1x1 ("windowed") read a window of the input padded with
    /// the zero point, per channel stride phase planes of <c>Wp</c> columns and <c>WindowRows</c> rows. Exact-pixel tiles
    /// (<c>Exact</c>, <see cref="ExactFits"/>: the whole map's window fits <see cref="ExactMaxWindow"/>): the window holds the
    /// whole map once, and tiles of <c>Tile</c> output pixels (the last one up to 7 more) gather exactly their pixels into the
    /// panel. Otherwise tiles of <c>Rows</c> output rows copy the input rows they read, so each im2col row is a contiguous
    /// slice of the window over q = row * Wp + ox (the Wp - ow columns past each row's outputs are computed and dropped).
    /// 1x1: tiles of <c>Tile</c> output pixels whose im2col rows are gathered (or read in place).
    /// Layout: wide (16 * k4), panel (2 * k4 * PanelPixels), then the window (exact tiles: followed by 4 * Kd bytes of im2col
    /// row offsets) or two gathered rows.
    /// </summary>
    internal readonly record struct ConvLayout(int Kd, int K4, bool Windowed, int Wp, int Rows, int WindowRows, int Tile, int PanelPixels, long WindowBytes, long Total,
        bool Exact = false)
    {
        public static ConvLayout Create(int cg, int width, int kh, int kw, int oh, int ow, int strideH, int strideW, int padLeft, int dilationH, int dilationW)
        {
            int kd = cg * kh * kw, k4 = (kd + 3) & ~3;
            if (kh * kw > 1)
            {
                // Wp: phase-plane columns (ow plus the taps' reach in phase-plane columns); WindowRows: phase-plane rows.
                int wp = ow + (kw - 1) * dilationW / strideW;
                if (ExactFits(cg, kh, kw, oh, ow, strideH, strideW, dilationH, dilationW, out long exactWindow))
                {
                    int tile = ExactTile(oh * ow, k4), capacity = (Math.Min(oh * ow, tile + 7) + 7) & ~7;
                    return new(kd, k4, true, wp, oh, oh + (kh - 1) * dilationH / strideH, tile, capacity, exactWindow,
                        16L * k4 + 2L * k4 * capacity + exactWindow + 4L * kd, Exact: true);
                }
                int rows = Math.Clamp(98304 / (k4 * wp), 1, Math.Max(oh, 1));
                if (rows * wp < 32) rows = Math.Min(Math.Max(oh, 1), (32 + wp - 1) / wp);
                int pixels = (rows * wp + 15) & ~15, windowRows = rows + (kh - 1) * dilationH / strideH;
                long window = (long)cg * strideH * strideW * windowRows * wp + (kw - 1) * dilationW / strideW + 32;
                return new(kd, k4, true, wp, rows, windowRows, rows * wp, pixels, window, 16L * k4 + 2L * k4 * pixels + window);
            }
            int tile1 = Math.Clamp(65536 / (2 * k4) & ~15, 16, 256);
            return new(kd, k4, false, 0, 0, 0, tile1, tile1, 2L * tile1, 16L * k4 + 2L * k4 * tile1 + 2L * tile1);
        }
    }

    /// <summary>Packs ONNX weights w[k, cPerGroup, kh, kw] (s8 in [-127, 127]) as <paramref name="group"/> consecutive
    /// <see cref="QGemm.PackWeights"/> matrices [k / group, cPerGroup * kh * kw].</summary>
    public static void PackWeights(ReadOnlySpan<sbyte> w, Span<sbyte> packed, int k, int cPerGroup, int kh, int kw, int group,
        QWeightLayout layout = QWeightLayout.N8K4Sums)
    {
        QGemm.ValidateLayout(layout, "QConv.PackWeights");
        if (group < 1 || k < 1 || k % group != 0 || cPerGroup < 1 || kh < 1 || kw < 1)
            throw new ArgumentException($"QConv.PackWeights: bad k={k}, cPerGroup={cPerGroup}, kh={kh}, kw={kw}, group={group}.", nameof(k));
        int kg = k / group, kd = cPerGroup * kh * kw, pl = QGemm.PackedLength(kg, kd, layout);
        if (w.Length != (long)k * kd) throw new ArgumentException($"QConv.PackWeights: w has {w.Length} elements, expected {(long)k * kd}.", nameof(w));
        if (packed.Length != (long)group * pl) throw new ArgumentException($"QConv.PackWeights: packed has {packed.Length} bytes, expected {(long)group * pl}.", nameof(packed));
        for (int g = 0; g < group; g++) QGemm.PackWeights(w.Slice(g * kg * kd, kg * kd), packed.Slice(g * pl, pl), kg, kd, layout);
    }

    /// <summary>General int8 convolution (any kernel, stride, dilation, group); bottom/right padding implied by oh/ow.</summary>
    public static void Conv2D(ReadOnlySpan<byte> x, int xZero, ReadOnlySpan<sbyte> packedW, ReadOnlySpan<int> bias, Span<byte> y, Span<byte> scratch,
        int n, int c, int h, int width, int k, int kh, int kw, int oh, int ow, int strideH, int strideW, int padTop, int padLeft,
        int dilationH, int dilationW, int group, ReadOnlySpan<int> multiplier, ReadOnlySpan<int> shift, int yZero, int qmin, int qmax,
        QWeightLayout layout = QWeightLayout.N8K4Sums)
    {
        ValidateConv2D("QConv.Conv2D", x, xZero, packedW, bias, y, scratch, n, c, h, width, k, kh, kw, oh, ow, strideH, strideW, padTop, padLeft,
            dilationH, dilationW, group, multiplier, shift, yZero, qmin, qmax, layout);
        Conv2DCore(QPaths.Best, x, xZero, packedW, bias, y, scratch, n, c, h, width, k, kh, kw, oh, ow, strideH, strideW, padTop, padLeft,
            dilationH, dilationW, group, multiplier, shift, yZero, qmin, qmax, null, layout);
    }

    /// <summary>The argument checks of <see cref="Conv2D"/> (and <see cref="Conv2DParallel"/>).</summary>
    internal static void ValidateConv2D(string kernel, ReadOnlySpan<byte> x, int xZero, ReadOnlySpan<sbyte> packedW, ReadOnlySpan<int> bias, Span<byte> y, Span<byte> scratch,
        int n, int c, int h, int width, int k, int kh, int kw, int oh, int ow, int strideH, int strideW, int padTop, int padLeft,
        int dilationH, int dilationW, int group, ReadOnlySpan<int> multiplier, ReadOnlySpan<int> shift, int yZero, int qmin, int qmax,
        QWeightLayout layout)
    {
        QGemm.ValidateLayout(layout, kernel);
        if (n < 0 || c < 1 || h < 0 || width < 0 || k < 1 || kh < 1 || kw < 1 || oh < 0 || ow < 0 || group < 1 || c % group != 0 || k % group != 0)
            throw new ArgumentException($"{kernel}: bad shape n={n}, c={c}, h={h}, width={width}, k={k}, kh={kh}, kw={kw}, oh={oh}, ow={ow}, group={group}.", nameof(n));
        if (strideH < 1 || strideW < 1 || dilationH < 1 || dilationW < 1 || padTop < 0 || padLeft < 0)
            throw new ArgumentException($"{kernel}: strides and dilations must be >= 1, padding >= 0.", nameof(strideH));
        int kd = c / group * kh * kw;
        if (kd > QGemm.MaxK) throw new ArgumentException($"{kernel}: reduction size {kd} exceeds {QGemm.MaxK}.", nameof(c));
        if (x.Length != (long)n * c * h * width) throw new ArgumentException($"{kernel}: x has {x.Length} elements, expected {(long)n * c * h * width}.", nameof(x));
        if (y.Length != (long)n * k * oh * ow) throw new ArgumentException($"{kernel}: y has {y.Length} elements, expected {(long)n * k * oh * ow}.", nameof(y));
        if (packedW.Length != PackedLength(k, c / group, kh, kw, group, layout))
            throw new ArgumentException($"{kernel}: packedW has {packedW.Length} bytes, expected {PackedLength(k, c / group, kh, kw, group, layout)} ({layout})"
                + (packedW.Length == PackedLength(k, c / group, kh, kw, group, layout == QWeightLayout.N8K4 ? QWeightLayout.N8K4Sums : QWeightLayout.N8K4)
                    ? $" (the weights were packed as {(layout == QWeightLayout.N8K4 ? QWeightLayout.N8K4Sums : QWeightLayout.N8K4)}; pass that layout)." : "."), nameof(packedW));
        int need = ScratchLength(c, h, width, k, kh, kw, oh, ow, strideH, strideW, padTop, padLeft, dilationH, dilationW, group);
        if (scratch.Length < need) throw new ArgumentException($"{kernel}: scratch has {scratch.Length} bytes, needs ScratchLength = {need}.", nameof(scratch));
        if (bias.Length != 0 && bias.Length != k) throw new ArgumentException($"{kernel}: bias has {bias.Length} elements, expected 0 or {k}.", nameof(bias));
        QGemm.ValidateZero(xZero, kernel);
        Requantization.ValidateParams(multiplier, shift, k, yZero, qmin, qmax, kernel);
    }

    internal static void Conv2DCore(QIsa isa, ReadOnlySpan<byte> x, int xZero, ReadOnlySpan<sbyte> packedW, ReadOnlySpan<int> bias, Span<byte> y, Span<byte> scratch,
        int n, int c, int h, int width, int k, int kh, int kw, int oh, int ow, int strideH, int strideW, int padTop, int padLeft,
        int dilationH, int dilationW, int group, ReadOnlySpan<int> multiplier, ReadOnlySpan<int> shift, int yZero, int qmin, int qmax, bool? wideTile = null,
        QWeightLayout layout = QWeightLayout.N8K4Sums)
    {
        isa = QGemm.PathFor(isa, layout);
        if (isa == QIsa.Avx2)
        {
            Conv2DAvx2(x, xZero, packedW, bias, y, scratch, n, c, h, width, k, kh, kw, oh, ow, strideH, strideW, padTop, padLeft,
                dilationH, dilationW, group, multiplier, shift, yZero, qmin, qmax, wideTile ?? WideTile, layout);
            return;
        }
        int cg = c / group, kg = k / group, kd = cg * kh * kw, hw = h * width, ohw = oh * ow;
        int bb = QGemm.BlockBytes(kd, layout), pl = QGemm.PackedLength(kg, kd, layout);
        var patch = scratch.Slice(0, kd);
        Span<int> acc = stackalloc int[QGemm.BlockN];
        Span<int> mult = stackalloc int[QGemm.BlockN];
        Span<int> sh = stackalloc int[QGemm.BlockN];
        Span<byte> out8 = stackalloc byte[QGemm.BlockN];
        bool pointwise = kh == 1 && kw == 1 && strideH == 1 && strideW == 1 && padTop == 0 && padLeft == 0 && oh == h && ow == width;
        for (int b = 0; b < n; b++)
            for (int g = 0; g < group; g++)
            {
                var xg = x.Slice((b * c + g * cg) * hw, cg * hw);
                for (int oy = 0; oy < oh; oy++)
                    for (int ox = 0; ox < ow; ox++)
                    {
                        if (pointwise)
                            for (int ci = 0; ci < cg; ci++) patch[ci] = xg[ci * hw + oy * width + ox];
                        else
                            Gather(xg, patch, xZero, cg, h, width, kh, kw, oy * strideH - padTop, ox * strideW - padLeft, dilationH, dilationW);
                        for (int n0 = 0; n0 < kg; n0 += QGemm.BlockN)
                        {
                            int nb = Math.Min(QGemm.BlockN, kg - n0);
                            QGemm.AccRow(isa, patch, xZero, packedW.Slice(g * pl + n0 / QGemm.BlockN * bb, bb), kd, acc);
                            mult.Clear(); sh.Clear();
                            for (int j = 0; j < nb; j++)
                            {
                                int ch = g * kg + n0 + j, pi = multiplier.Length == 1 ? 0 : ch;
                                if (!bias.IsEmpty) acc[j] += bias[ch];
                                mult[j] = multiplier[pi]; sh[j] = shift[pi];
                            }
                            QGemm.RequantizeBlock(isa, acc, mult, sh, yZero, qmin, qmax, out8);
                            int o = (b * k + g * kg + n0) * ohw + oy * ow + ox;
                            for (int j = 0; j < nb; j++) y[o + j * ohw] = out8[j];
                        }
                    }
            }
    }

    private static void Gather(ReadOnlySpan<byte> xg, Span<byte> patch, int xZero, int cg, int h, int width, int kh, int kw, int iy0, int ix0, int dh, int dw)
    {
        int p = 0, hw = h * width;
        for (int ci = 0; ci < cg; ci++)
            for (int ky = 0; ky < kh; ky++)
            {
                int iy = iy0 + ky * dh;
                if ((uint)iy >= (uint)h) { patch.Slice(p, kw).Fill((byte)xZero); p += kw; continue; }
                int rowBase = ci * hw + iy * width;
                for (int kx = 0; kx < kw; kx++)
                {
                    int ix = ix0 + kx * dw;
                    patch[p++] = (uint)ix < (uint)width ? xg[rowBase + ix] : (byte)xZero;
                }
            }
    }

    // ---------------------------------------------------------------- AVX2: register-blocked, pixels in the vector lanes
    //
    // Per group and per tile of P output pixels (row-major oy*ow + ox), the patch values are laid out as a panel of int16
    // pairs: panel[j][p] = (x_k(2j)(p) - xZero, x_k(2j+1)(p) - xZero) for k-pair j (out-of-image taps and padded k give 0).
    // Per block of 8 output channels the packed n8k4 weights are widened once per tile to int16 pairs wide[j][c] =
    // (w[c, 2j], w[c, 2j+1]). The micro-kernels hold 8 channels x 8 pixels (MicroKernel8) or 8 channels x 24 pixels
    // (MicroKernel8x3, with 32 vector registers) in int32 accumulators: per k-pair they load one or three panel vectors and
    // broadcast eight weight pairs into vpmaddwd (int16 x int16 pairs summed in int32: |sum| <= 2 * 255 * 127, no
    // saturation); the epilogue adds the bias, requantizes (edge-rne64) and stores 8 bytes per channel, which in NCHW are
    // consecutive. Sums are the same integers as the row paths (modulo 2^32), so results are bit-exact.

    /// <summary>Largest kh * kw whose tap offsets <see cref="Conv2DAvx2"/> tabulates on the stack (1 KiB).</summary>
    private const int MaxTapTable = 256;

    [SkipLocalsInit]
    private static void Conv2DAvx2(ReadOnlySpan<byte> x, int xZero, ReadOnlySpan<sbyte> packedW, ReadOnlySpan<int> bias, Span<byte> y, Span<byte> scratch,
        int n, int c, int h, int width, int k, int kh, int kw, int oh, int ow, int strideH, int strideW, int padTop, int padLeft,
        int dilationH, int dilationW, int group, ReadOnlySpan<int> multiplier, ReadOnlySpan<int> shift, int yZero, int qmin, int qmax, bool wideTile,
        QWeightLayout layout)
    {
        int cg = c / group, kg = k / group, kd = cg * kh * kw, hw = h * width, ohw = oh * ow;
        var l = ConvLayout.Create(cg, width, kh, kw, oh, ow, strideH, strideW, padLeft, dilationH, dilationW);
        int k4 = l.K4, pairs = k4 / 2, bb = QGemm.BlockBytes(kd, layout), pl = QGemm.PackedLength(kg, kd, layout);
        var wide = MemoryMarshal.Cast<byte, int>(scratch.Slice(0, 16 * k4));
        var panel = MemoryMarshal.Cast<byte, int>(scratch.Slice(16 * k4, 2 * k4 * l.PanelPixels));
        var rest = scratch.Slice(16 * k4 + 2 * k4 * l.PanelPixels, (int)l.WindowBytes);
        var geo = new Geometry(h, width, kh, kw, ow, strideH, strideW, padTop, padLeft, dilationH, dilationW,
            kh == 1 && kw == 1 && strideH == 1 && strideW == 1 && padTop == 0 && padLeft == 0 && oh == h && ow == width);
        var rowA = l.Windowed ? default : rest.Slice(0, l.Tile);
        var rowB = l.Windowed ? default : rest.Slice(l.Tile, l.Tile);
        int taps = kh * kw, phasePlane = l.WindowRows * l.Wp, chanStride = strideH * strideW * phasePlane;
        // Windowed tiles: each tap's offset in its channel's phase planes, once per call (the same for every tile; larger
        // kernels compute it per row with WindowRow; the exact-pixel path has its own table).
        Span<int> tapOff = l.Windowed && !l.Exact && taps <= MaxTapTable ? stackalloc int[MaxTapTable] : default;
        if (!tapOff.IsEmpty)
            for (int t = 0; t < taps; t++)
            {
                int dy = t / kw * dilationH, dx = t % kw * dilationW;
                tapOff[t] = ((dy % strideH) * strideW + dx % strideW) * phasePlane + dy / strideH * l.Wp + dx / strideW;
            }
        for (int b = 0; b < n; b++)
            for (int g = 0; g < group; g++)
            {
                var xg = x.Slice((b * c + g * cg) * hw, cg * hw);
                var wg = packedW.Slice(g * pl, pl);
                if (l.Exact)
                {
                    ExactAvx2(xg, xZero, wg, bb, l, wide, panel, scratch.Slice(16 * k4 + 2 * k4 * l.PanelPixels), cg, h, width, kh, kw, oh, ow,
                        strideH, strideW, padTop, padLeft, dilationH, dilationW, kg, g * kg, b * k + g * kg, wideTile, bias, multiplier, shift, yZero, qmin, qmax, y);
                    continue;
                }
                int tiles = !l.Windowed ? (ohw + l.Tile - 1) / l.Tile : (oh + l.Rows - 1) / l.Rows;
                for (int t = 0; t < tiles; t++)
                {
                    // Output positions of this tile: pixels [p0, p0 + np) (gathered, or pointwise read in place), or rows
                    // [oy0, oy0 + rows) as q in [0, rows * Wp) of the window.
                    int p0, np, oy0 = 0, rows = 0;
                    if (!l.Windowed) { p0 = t * l.Tile; np = Math.Min(l.Tile, ohw - p0); }
                    else
                    {
                        oy0 = t * l.Rows; rows = Math.Min(l.Rows, oh - oy0);
                        p0 = 0; np = rows * l.Wp;
                        FillWindow(xg, xZero, rest, cg, h, width, l.Wp, l.WindowRows, oy0 * strideH - padTop, padLeft, strideH, strideW);
                    }
                    int npad = (np + 15) & ~15;
                    int ci = 0, tap = 0;   // im2col row 2j's channel and tap (tap table path)
                    for (int j = 0; j < pairs; j++)
                    {
                        ReadOnlySpan<byte> ra, rb;
                        if (!tapOff.IsEmpty)
                        {
                            ra = 2 * j < kd ? rest.Slice(ci * chanStride + tapOff[tap], npad) : default;
                            if (++tap == taps) { tap = 0; ci++; }
                            rb = 2 * j + 1 < kd ? rest.Slice(ci * chanStride + tapOff[tap], npad) : default;
                            if (++tap == taps) { tap = 0; ci++; }
                        }
                        else if (l.Windowed)
                        {
                            ra = WindowRow(rest, 2 * j, kd, taps, kw, phasePlane, l.Wp, dilationH, dilationW, strideH, strideW, npad);
                            rb = WindowRow(rest, 2 * j + 1, kd, taps, kw, phasePlane, l.Wp, dilationH, dilationW, strideH, strideW, npad);
                        }
                        else
                        {
                            ra = PanelRow(xg, xZero, 2 * j, kd, geo, p0, np, npad, rowA);
                            rb = PanelRow(xg, xZero, 2 * j + 1, kd, geo, p0, np, npad, rowB);
                        }
                        Interleave(ra, rb, xZero, panel, j, pairs, npad);
                    }
                    TileChannels(wg, bb, k4, pairs, wide, panel, kg, g * kg, b * k + g * kg, ohw, p0, np, npad, wideTile, l.Windowed, oy0, l.Wp, ow,
                        bias, multiplier, shift, yZero, qmin, qmax, y);
                }
            }
    }

    /// <summary>All output channels of one tile: per 8-channel block, widen its weights, run the micro-kernel over the
    /// tile's 8-pixel blocks and store through the fused epilogue. A separate method so its loops keep their state in
    /// registers.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    [SkipLocalsInit]
    private static void TileChannels(ReadOnlySpan<sbyte> wg, int bb, int k4, int pairs, Span<int> wide, Span<int> panel, int kg, int ch0, int yCh0,
        int ohw, int p0, int np, int npad, bool wideTile, bool windowed, int oy0, int wp, int ow,
        ReadOnlySpan<int> bias, ReadOnlySpan<int> multiplier, ReadOnlySpan<int> shift, int yZero, int qmin, int qmax, Span<byte> y)
    {
        Span<byte> tail = stackalloc byte[16];
        Span<int> runs = stackalloc int[24];
        Span<int> acc192 = stackalloc int[192];
        ref int accRef = ref MemoryMarshal.GetReference(acc192);
        Span<byte> tail64 = stackalloc byte[64];
        Span<Requantization.UniformAvx2> rqs = stackalloc Requantization.UniformAvx2[QGemm.BlockN];
        Span<int> biases = stackalloc int[QGemm.BlockN];
        Span<double> scales = stackalloc double[QGemm.BlockN];
        ref double scale0 = ref MemoryMarshal.GetReference(scales);
        for (int n0 = 0; n0 < kg; n0 += QGemm.BlockN)
        {
            WidenBlock(wg.Slice(n0 / QGemm.BlockN * bb, bb), k4, wide);
            int nc = Math.Min(QGemm.BlockN, kg - n0);
            // Per-channel epilogue constants, once per tile and channel (not per 8 outputs): the double form
            // (Requantization.StoreBlockDoubleAvx2) when every channel of the block allows it, else UniformAvx2 per channel.
            bool dbl = true;
            for (int cc = 0; cc < nc; cc++)
            {
                int ch = ch0 + n0 + cc, pi = multiplier.Length == 1 ? 0 : ch;
                biases[cc] = bias.IsEmpty ? 0 : bias[ch];
                // |acc| <= |bias| + k * 255 * 127 (k4: the padded reduction, its padding contributes 0).
                dbl &= Requantization.TryDoubleScale(multiplier[pi], shift[pi], Math.Abs((long)biases[cc]) + (long)k4 * MaxTap, out scales[cc]);
            }
            if (!dbl)
                for (int cc = 0; cc < nc; cc++)
                {
                    int pi = multiplier.Length == 1 ? 0 : ch0 + n0 + cc;
                    rqs[cc] = new Requantization.UniformAvx2(multiplier[pi], shift[pi], yZero, qmin, qmax, Math.Abs((long)biases[cc]) + (long)k4 * MaxTap);
                }
            var yBlock = y.Slice((yCh0 + n0) * ohw, nc * ohw);   // bounds: every store below is inside a channel's plane
            ref byte y0 = ref MemoryMarshal.GetReference(yBlock);
            ref Requantization.UniformAvx2 rq0 = ref MemoryMarshal.GetReference(rqs);
            ref int bias0 = ref MemoryMarshal.GetReference(biases);
            // Three 8-pixel blocks per micro-kernel call where they exist in the panel (npad pixels, a multiple of 16), then one.
            for (int q0 = 0; q0 < np;)
            {
                int blocks = wideTile && q0 + 24 <= npad ? 3 : 1;
                if (blocks == 3) MicroKernel8x3(ref MemoryMarshal.GetReference(panel.Slice(q0 * pairs)), 8 * pairs, ref MemoryMarshal.GetReference(wide), pairs, ref accRef);
                else MicroKernel8(ref MemoryMarshal.GetReference(panel.Slice(q0 * pairs)), ref MemoryMarshal.GetReference(wide), pairs, ref accRef);
                for (int bi = 0; bi < blocks && q0 < np; bi++, q0 += 8)
                {
                    // Where the block's 8 lanes go in a channel's plane, computed once for all channels: one 8-byte store at
                    // `direct`, or runs (lane, plane offset, length) of the lanes that are outputs.
                    int count = Math.Min(8, np - q0), direct = -1, nRuns = 0;
                    if (!windowed)
                    {
                        if (count == 8) direct = p0 + q0;
                        else { runs[0] = 0; runs[1] = p0 + q0; runs[2] = count; nRuns = 1; }
                    }
                    else
                    {
                        int row = q0 / wp, col = q0 - row * wp;
                        if (col + 8 <= ow && count == 8) direct = (oy0 + row) * ow + col;
                        else
                            for (int i = 0; i < count;)
                            {
                                int run = Math.Min(count - i, wp - col), valid = Math.Min(run, ow - col);
                                if (valid > 0) { runs[3 * nRuns] = i; runs[3 * nRuns + 1] = (oy0 + row) * ow + col; runs[3 * nRuns + 2] = valid; nRuns++; }
                                i += run; row++; col = 0;
                            }
                    }
                    ref int blockAcc = ref Unsafe.Add(ref accRef, bi * 64);
                    if (dbl)
                    {
                        if (direct >= 0)
                        {
                            Requantization.StoreBlockDoubleAvx2(ref blockAcc, nc, ref scale0, ref bias0, ref Unsafe.Add(ref y0, direct), ohw, yZero, qmin, qmax);
                            continue;
                        }
                        Requantization.StoreBlockDoubleAvx2(ref blockAcc, nc, ref scale0, ref bias0, ref MemoryMarshal.GetReference(tail64), 8, yZero, qmin, qmax);
                        for (int cc = 0; cc < nc; cc++)
                        {
                            ref byte plane = ref Unsafe.Add(ref y0, cc * ohw);
                            for (int ri = 0; ri < nRuns; ri++)
                                for (int e = 0; e < runs[3 * ri + 2]; e++) Unsafe.Add(ref plane, runs[3 * ri + 1] + e) = tail64[cc * 8 + runs[3 * ri] + e];
                        }
                        continue;
                    }
                    for (int cc = 0; cc < nc; cc++)
                    {
                        var r = Unsafe.Add(ref rq0, cc).Apply(Avx2.Add(Vector256.LoadUnsafe(ref blockAcc, (nuint)(cc * 8)), Vector256.Create(Unsafe.Add(ref bias0, cc))));
                        ref byte plane = ref Unsafe.Add(ref y0, cc * ohw);
                        if (direct >= 0) { Requantization.StoreBytesAvx2(r, ref Unsafe.Add(ref plane, direct)); continue; }
                        Requantization.StoreBytesAvx2(r, ref MemoryMarshal.GetReference(tail));
                        for (int ri = 0; ri < nRuns; ri++)
                            for (int e = 0; e < runs[3 * ri + 2]; e++) Unsafe.Add(ref plane, runs[3 * ri + 1] + e) = tail[runs[3 * ri] + e];
                    }
                }
            }
        }
    }

    /// <summary>
    /// Fills the window of one tile: per input channel, strideH x strideW phase planes of windowRows x Wp bytes, phase (py, px)
    /// holding input (iy0 + strideH * r + py, strideW * c + px - padLeft) at (r, c), the zero point outside the image (and in the
    /// slack after the last plane). A tap (ky, kx) of output (oy, ox) then reads phase ((ky dh) % sh, (kx dw) % sw) at
    /// (oy - oy0 + (ky dh) / sh, ox + (kx dw) / sw): for every tap, the outputs of the tile are one contiguous slice.
    /// </summary>
    private static void FillWindow(ReadOnlySpan<byte> xg, int xZero, Span<byte> window, int cg, int h, int width, int wp, int windowRows, int iy0, int padLeft,
        int sh, int sw)
    {
        int hw = h * width, plane = windowRows * wp;
        int p = 0;
        for (int ci = 0; ci < cg; ci++)
            for (int py = 0; py < sh; py++)
                for (int px = 0; px < sw; px++, p++)
                    for (int r = 0; r < windowRows; r++)
                    {
                        var dst = window.Slice(p * plane + r * wp, wp);
                        int iy = iy0 + sh * r + py;
                        if ((uint)iy >= (uint)h) { dst.Fill((byte)xZero); continue; }
                        var src = xg.Slice(ci * hw + iy * width);               // the row and everything after it in x
                        int ix0 = px - padLeft;                                   // input column of c = 0
                        if (sw == 1)
                        {
                            int lo = Math.Clamp(-ix0, 0, wp), hi = Math.Clamp(width - ix0, lo, wp);
                            dst.Slice(0, lo).Fill((byte)xZero);
                            src.Slice(ix0 + lo, hi - lo).CopyTo(dst.Slice(lo));
                            dst.Slice(hi).Fill((byte)xZero);
                        }
                        else StridedRow(src, window.Slice(p * plane + r * wp), wp, ix0, sw, width, xZero);
                    }
        window.Slice(p * plane).Fill((byte)xZero);
    }

    /// <summary>
    /// dst[c] = src[ix0 + sw * c] for c &lt; <paramref name="wp"/> where that column is inside the row (0 &lt;= column &lt; width),
    /// else the zero point. <paramref name="src"/> starts at the row and may run past it (x after the row); <paramref name="dst"/>
    /// starts at the row and runs to the end of the window: stride 2 takes the in-row columns 16 at a time (the even bytes
    /// of a 32-byte load, masked and packed), then 8 at a time, where the loads are readable; an 8-column step may write up
    /// to 7 bytes past the in-row columns, even past wp (into later rows of the window, written afterwards, or its slack),
    /// which the zero-point fill after the data overwrites within the row. The rest per byte.
    /// </summary>
    internal static void StridedRow(ReadOnlySpan<byte> src, Span<byte> dst, int wp, int ix0, int sw, int width, int xZero)
    {
        // In-row columns: c in [lo, hi) (ix0 + sw * c in [0, width)).
        int lo = Math.Clamp(ix0 >= 0 ? 0 : (-ix0 + sw - 1) / sw, 0, wp);
        int hi = Math.Clamp(width - ix0 <= 0 ? 0 : (width - ix0 + sw - 1) / sw, lo, wp);
        int c = lo;
        if (sw == 2 && Sse2.IsSupported)
        {
            ref byte s0 = ref MemoryMarshal.GetReference(src);
            ref byte d0 = ref MemoryMarshal.GetReference(dst);
            var low = Vector128.Create((short)0xFF);
            for (; c + 16 <= hi && ix0 + 2 * c + 32 <= src.Length; c += 16)
            {
                ref byte s = ref Unsafe.Add(ref s0, ix0 + 2 * c);
                var a = Sse2.And(Vector128.LoadUnsafe(ref s).AsInt16(), low);
                var b = Sse2.And(Vector128.LoadUnsafe(ref s, 16).AsInt16(), low);
                Sse2.PackUnsignedSaturate(a, b).StoreUnsafe(ref d0, (nuint)c);
            }
            for (; c < hi && c + 8 <= dst.Length && ix0 + 2 * c + 16 <= src.Length; c += 8)
            {
                var a = Sse2.And(Vector128.LoadUnsafe(ref Unsafe.Add(ref s0, ix0 + 2 * c)).AsInt16(), low);
                Unsafe.WriteUnaligned(ref Unsafe.Add(ref d0, c), Sse2.PackUnsignedSaturate(a, a).AsUInt64().ToScalar());
            }
            c = Math.Min(c, hi);
        }
        for (; c < hi; c++) dst[c] = src[ix0 + sw * c];
        dst.Slice(0, lo).Fill((byte)xZero);
        dst.Slice(hi, wp - hi).Fill((byte)xZero);
    }

    /// <summary>im2col row kk of a windowed tile: the phase-plane slice its tap reads (npad bytes), or empty (the zero point) for padded k.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ReadOnlySpan<byte> WindowRow(ReadOnlySpan<byte> window, int kk, int kd, int taps, int kw, int phasePlane, int wp, int dh, int dw, int sh, int sw, int npad)
    {
        if (kk >= kd) return default;
        int ci = kk / taps, r = kk - ci * taps, ky = r / kw, kx = r - ky * kw;
        int dy = ky * dh, dx = kx * dw;
        int phase = (ci * sh + dy % sh) * sw + dx % sw;
        return window.Slice(phase * phasePlane + dy / sh * wp + dx / sw, npad);
    }

    private readonly record struct Geometry(int H, int W, int Kh, int Kw, int Ow, int StrideH, int StrideW, int PadTop, int PadLeft, int DilationH, int DilationW, bool Pointwise);

    /// <summary>Row kk of the im2col matrix for output pixels [p0, p0 + np): a slice of x when it can be read in place
    /// (1x1 stride-1 unpadded, npad bytes inside x), else gathered into <paramref name="row"/> (padding taps = xZero;
    /// bytes np..npad are don't-care: they only feed discarded lanes).</summary>
    private static ReadOnlySpan<byte> PanelRow(ReadOnlySpan<byte> xg, int xZero, int kk, int kd, Geometry g, int p0, int np, int npad, Span<byte> row)
    {
        int hw = g.H * g.W;
        if (kk >= kd) { row.Slice(0, npad).Fill((byte)xZero); return row; }
        if (g.Pointwise)
        {
            if (kk * hw + p0 + npad <= xg.Length) return xg.Slice(kk * hw + p0, npad);
            xg.Slice(kk * hw + p0, np).CopyTo(row);
            return row;
        }
        int taps = g.Kh * g.Kw, ci = kk / taps, r = kk - ci * taps, ky = r / g.Kw, kx = r - ky * g.Kw;
        var xc = xg.Slice(ci * hw, hw);
        int p = p0, end = p0 + np, i = 0;
        while (p < end)
        {
            int oy = p / g.Ow, ox = p - oy * g.Ow, seg = Math.Min(g.Ow - ox, end - p);
            int iy = oy * g.StrideH - g.PadTop + ky * g.DilationH;
            var dst = row.Slice(i, seg);
            if ((uint)iy >= (uint)g.H) dst.Fill((byte)xZero);
            else
            {
                var src = xc.Slice(iy * g.W, g.W);
                int ix0 = ox * g.StrideW - g.PadLeft + kx * g.DilationW;
                if (g.StrideW == 1)
                {
                    // Columns ix0 .. ix0 + seg: zero point left of 0 and right of W, a copy in between.
                    int lo = Math.Clamp(-ix0, 0, seg), hi = Math.Clamp(g.W - ix0, lo, seg);
                    dst.Slice(0, lo).Fill((byte)xZero);
                    src.Slice(ix0 + lo, hi - lo).CopyTo(dst.Slice(lo));
                    dst.Slice(hi).Fill((byte)xZero);
                }
                else
                {
                    for (int t = 0, ix = ix0; t < seg; t++, ix += g.StrideW) dst[t] = (uint)ix < (uint)g.W ? src[ix] : (byte)xZero;
                }
            }
            p += seg; i += seg;
        }
        return row;
    }

    /// <summary>Panel row j: panel[(p / 8) * pairs * 8 + j * 8 + p % 8] = (a[p] - z, b[p] - z) as an int16 pair in one
    /// int32, p in [0, npad) (npad a multiple of 16; an empty row stands for the zero point: padded k).</summary>
    private static void Interleave(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, int z, Span<int> panel, int j, int pairs, int npad)
    {
        ref int d = ref MemoryMarshal.GetReference(panel);
        var zv = Vector256.Create((short)z);
        var zb = Vector128.Create((byte)z);
        bool hasA = !a.IsEmpty, hasB = !b.IsEmpty;
        ref byte ra = ref MemoryMarshal.GetReference(a);
        ref byte rb = ref MemoryMarshal.GetReference(b);
        for (int p = 0; p < npad; p += 16)
        {
            var va = hasA ? Vector128.LoadUnsafe(ref ra, (nuint)p) : zb;
            var vb = hasB ? Vector128.LoadUnsafe(ref rb, (nuint)p) : zb;
            nuint o = (nuint)(p * pairs + j * 8);
            Avx2.Subtract(Avx2.ConvertToVector256Int16(Sse2.UnpackLow(va, vb)), zv).AsInt32().StoreUnsafe(ref d, o);
            Avx2.Subtract(Avx2.ConvertToVector256Int16(Sse2.UnpackHigh(va, vb)), zv).AsInt32().StoreUnsafe(ref d, o + (nuint)(8 * pairs));
        }
    }

    /// <summary>One packed n8k4 block (8 channels, k4 / 4 quads) widened to wide[j * 8 + c] = (w[c, 2j], w[c, 2j + 1]) as int16 pairs.</summary>
    internal static void WidenBlock(ReadOnlySpan<sbyte> block, int k4, Span<int> wide)
    {
        ref sbyte w0 = ref MemoryMarshal.GetReference(block);
        ref int d = ref MemoryMarshal.GetReference(wide);
        var evenOdd = Vector256.Create(0, 2, 4, 6, 1, 3, 5, 7);
        for (int q = 0; q < k4 / 4; q++)
        {
            var v = Vector256.LoadUnsafe(ref w0, (nuint)(q * 32));
            // c0..c3 (k0..k3) and c4..c7 as int16; as int32: [c0 k01, c0 k23, c1 k01, ...]; even dwords = pairs (k0, k1).
            var lo = Avx2.PermuteVar8x32(Avx2.ConvertToVector256Int16(v.GetLower()).AsInt32(), evenOdd);
            var hi = Avx2.PermuteVar8x32(Avx2.ConvertToVector256Int16(v.GetUpper()).AsInt32(), evenOdd);
            Avx2.Permute2x128(lo, hi, 0x20).StoreUnsafe(ref d, (nuint)(q * 16));
            Avx2.Permute2x128(lo, hi, 0x31).StoreUnsafe(ref d, (nuint)(q * 16 + 8));
        }
    }

    /// <summary>8 channels x 8 pixels summed over all k-pairs: acc[c * 8 + lane]. Per k-pair one panel load (8 pixels' pairs),
    /// 8 weight-pair broadcasts, 8 vpmaddwd: the panel is read once per 8-channel block.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal static void MicroKernel8(ref int panel, ref int wide, int pairs, ref int acc)
    {
        Vector256<int> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
        for (int j = 0; j < pairs; j++)
        {
            var x = Vector256.LoadUnsafe(ref panel).AsInt16();
            a0 = Avx2.Add(a0, Avx2.MultiplyAddAdjacent(x, Vector256.Create(wide).AsInt16()));
            a1 = Avx2.Add(a1, Avx2.MultiplyAddAdjacent(x, Vector256.Create(Unsafe.Add(ref wide, 1)).AsInt16()));
            a2 = Avx2.Add(a2, Avx2.MultiplyAddAdjacent(x, Vector256.Create(Unsafe.Add(ref wide, 2)).AsInt16()));
            a3 = Avx2.Add(a3, Avx2.MultiplyAddAdjacent(x, Vector256.Create(Unsafe.Add(ref wide, 3)).AsInt16()));
            a4 = Avx2.Add(a4, Avx2.MultiplyAddAdjacent(x, Vector256.Create(Unsafe.Add(ref wide, 4)).AsInt16()));
            a5 = Avx2.Add(a5, Avx2.MultiplyAddAdjacent(x, Vector256.Create(Unsafe.Add(ref wide, 5)).AsInt16()));
            a6 = Avx2.Add(a6, Avx2.MultiplyAddAdjacent(x, Vector256.Create(Unsafe.Add(ref wide, 6)).AsInt16()));
            a7 = Avx2.Add(a7, Avx2.MultiplyAddAdjacent(x, Vector256.Create(Unsafe.Add(ref wide, 7)).AsInt16()));
            panel = ref Unsafe.Add(ref panel, 8);
            wide = ref Unsafe.Add(ref wide, QGemm.BlockN);
        }
        a0.StoreUnsafe(ref acc); a1.StoreUnsafe(ref acc, 8); a2.StoreUnsafe(ref acc, 16); a3.StoreUnsafe(ref acc, 24);
        a4.StoreUnsafe(ref acc, 32); a5.StoreUnsafe(ref acc, 40); a6.StoreUnsafe(ref acc, 48); a7.StoreUnsafe(ref acc, 56);
    }

    /// <summary>
    /// 8 channels x 24 pixels (three 8-pixel panel blocks, <paramref name="blockStride"/> ints apart) summed over all k-pairs:
    /// acc[b * 64 + c * 8 + lane]. Per k-pair 3 panel loads, 8 weight-pair broadcasts, 24 vpmaddwd: 24 accumulators, so it
    /// is only used where the JIT has 32 vector registers (AVX-512 machines, <see cref="WideTile"/>); elsewhere it would
    /// spill (still exact, only slower).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal static void MicroKernel8x3(ref int panel, int blockStride, ref int wide, int pairs, ref int acc)
    {
        Vector256<int> a00 = default, a01 = default, a02 = default, a03 = default, a04 = default, a05 = default, a06 = default, a07 = default;
        Vector256<int> a10 = default, a11 = default, a12 = default, a13 = default, a14 = default, a15 = default, a16 = default, a17 = default;
        Vector256<int> a20 = default, a21 = default, a22 = default, a23 = default, a24 = default, a25 = default, a26 = default, a27 = default;
        ref int p1 = ref Unsafe.Add(ref panel, blockStride);
        ref int p2 = ref Unsafe.Add(ref panel, 2 * blockStride);
        for (int j = 0; j < pairs; j++)
        {
            var x0 = Vector256.LoadUnsafe(ref panel).AsInt16();
            var x1 = Vector256.LoadUnsafe(ref p1).AsInt16();
            var x2 = Vector256.LoadUnsafe(ref p2).AsInt16();
            var w = Vector256.Create(wide).AsInt16();
            a00 = Avx2.Add(a00, Avx2.MultiplyAddAdjacent(x0, w)); a10 = Avx2.Add(a10, Avx2.MultiplyAddAdjacent(x1, w)); a20 = Avx2.Add(a20, Avx2.MultiplyAddAdjacent(x2, w));
            w = Vector256.Create(Unsafe.Add(ref wide, 1)).AsInt16();
            a01 = Avx2.Add(a01, Avx2.MultiplyAddAdjacent(x0, w)); a11 = Avx2.Add(a11, Avx2.MultiplyAddAdjacent(x1, w)); a21 = Avx2.Add(a21, Avx2.MultiplyAddAdjacent(x2, w));
            w = Vector256.Create(Unsafe.Add(ref wide, 2)).AsInt16();
            a02 = Avx2.Add(a02, Avx2.MultiplyAddAdjacent(x0, w)); a12 = Avx2.Add(a12, Avx2.MultiplyAddAdjacent(x1, w)); a22 = Avx2.Add(a22, Avx2.MultiplyAddAdjacent(x2, w));
            w = Vector256.Create(Unsafe.Add(ref wide, 3)).AsInt16();
            a03 = Avx2.Add(a03, Avx2.MultiplyAddAdjacent(x0, w)); a13 = Avx2.Add(a13, Avx2.MultiplyAddAdjacent(x1, w)); a23 = Avx2.Add(a23, Avx2.MultiplyAddAdjacent(x2, w));
            w = Vector256.Create(Unsafe.Add(ref wide, 4)).AsInt16();
            a04 = Avx2.Add(a04, Avx2.MultiplyAddAdjacent(x0, w)); a14 = Avx2.Add(a14, Avx2.MultiplyAddAdjacent(x1, w)); a24 = Avx2.Add(a24, Avx2.MultiplyAddAdjacent(x2, w));
            w = Vector256.Create(Unsafe.Add(ref wide, 5)).AsInt16();
            a05 = Avx2.Add(a05, Avx2.MultiplyAddAdjacent(x0, w)); a15 = Avx2.Add(a15, Avx2.MultiplyAddAdjacent(x1, w)); a25 = Avx2.Add(a25, Avx2.MultiplyAddAdjacent(x2, w));
            w = Vector256.Create(Unsafe.Add(ref wide, 6)).AsInt16();
            a06 = Avx2.Add(a06, Avx2.MultiplyAddAdjacent(x0, w)); a16 = Avx2.Add(a16, Avx2.MultiplyAddAdjacent(x1, w)); a26 = Avx2.Add(a26, Avx2.MultiplyAddAdjacent(x2, w));
            w = Vector256.Create(Unsafe.Add(ref wide, 7)).AsInt16();
            a07 = Avx2.Add(a07, Avx2.MultiplyAddAdjacent(x0, w)); a17 = Avx2.Add(a17, Avx2.MultiplyAddAdjacent(x1, w)); a27 = Avx2.Add(a27, Avx2.MultiplyAddAdjacent(x2, w));
            panel = ref Unsafe.Add(ref panel, 8);
            p1 = ref Unsafe.Add(ref p1, 8);
            p2 = ref Unsafe.Add(ref p2, 8);
            wide = ref Unsafe.Add(ref wide, QGemm.BlockN);
        }
        a00.StoreUnsafe(ref acc); a01.StoreUnsafe(ref acc, 8); a02.StoreUnsafe(ref acc, 16); a03.StoreUnsafe(ref acc, 24);
        a04.StoreUnsafe(ref acc, 32); a05.StoreUnsafe(ref acc, 40); a06.StoreUnsafe(ref acc, 48); a07.StoreUnsafe(ref acc, 56);
        a10.StoreUnsafe(ref acc, 64); a11.StoreUnsafe(ref acc, 72); a12.StoreUnsafe(ref acc, 80); a13.StoreUnsafe(ref acc, 88);
        a14.StoreUnsafe(ref acc, 96); a15.StoreUnsafe(ref acc, 104); a16.StoreUnsafe(ref acc, 112); a17.StoreUnsafe(ref acc, 120);
        a20.StoreUnsafe(ref acc, 128); a21.StoreUnsafe(ref acc, 136); a22.StoreUnsafe(ref acc, 144); a23.StoreUnsafe(ref acc, 152);
        a24.StoreUnsafe(ref acc, 160); a25.StoreUnsafe(ref acc, 168); a26.StoreUnsafe(ref acc, 176); a27.StoreUnsafe(ref acc, 184);
    }

    /// <summary>True where the JIT has 32 vector registers (AVX-512): the AVX2 conv and GEMM paths then run
    /// <see cref="MicroKernel8x3"/> over three 8-pixel blocks at a time (the rest one block at a time with <see cref="MicroKernel8"/>).</summary>
    internal static readonly bool WideTile = Avx512F.IsSupported;

    /// <summary>Largest |(x - xZero) · w| of one tap: 255 · 127.</summary>
    internal const long MaxTap = 255 * 127;

    // ---------------------------------------------------------------- depthwise 3x3

    /// <summary>
    /// Depthwise 3x3 convolution (group = c = k), stride 1 or 2 in both directions, dilation 1; weights w[c, 1, 3, 3] in ONNX
    /// layout (s8 in [-127, 127], no packing); bottom/right padding implied by oh/ow.
    /// </summary>
    public static void DepthwiseConv3x3(ReadOnlySpan<byte> x, int xZero, ReadOnlySpan<sbyte> w, ReadOnlySpan<int> bias, Span<byte> y,
        int n, int c, int h, int width, int oh, int ow, int stride, int padTop, int padLeft,
        ReadOnlySpan<int> multiplier, ReadOnlySpan<int> shift, int yZero, int qmin, int qmax)
    {
        ValidateDepthwise("QConv.DepthwiseConv3x3", 3, x, xZero, w, bias, y, n, c, h, width, oh, ow, stride, padTop, padLeft, multiplier, shift, yZero, qmin, qmax);
        DepthwiseCore(QPaths.Best, x, xZero, w, bias, y, n, c, h, width, oh, ow, stride, padTop, padLeft, multiplier, shift, yZero, qmin, qmax);
    }

    /// <summary>The argument checks of the depthwise kernels (<paramref name="kSize"/> = 3 or 5: weights [c, 1, kSize, kSize]).</summary>
    internal static void ValidateDepthwise(string kernel, int kSize, ReadOnlySpan<byte> x, int xZero, ReadOnlySpan<sbyte> w, ReadOnlySpan<int> bias, Span<byte> y,
        int n, int c, int h, int width, int oh, int ow, int stride, int padTop, int padLeft,
        ReadOnlySpan<int> multiplier, ReadOnlySpan<int> shift, int yZero, int qmin, int qmax)
    {
        int taps = kSize * kSize;
        if (n < 0 || c < 1 || h < 0 || width < 0 || oh < 0 || ow < 0) throw new ArgumentException($"{kernel}: bad shape.", nameof(n));
        if (stride is not (1 or 2)) throw new ArgumentException($"{kernel}: stride {stride} is not 1 or 2.", nameof(stride));
        if (padTop < 0 || padLeft < 0) throw new ArgumentException($"{kernel}: padding must be >= 0.", nameof(padTop));
        if (x.Length != (long)n * c * h * width) throw new ArgumentException($"{kernel}: x has {x.Length} elements, expected {(long)n * c * h * width}.", nameof(x));
        if (y.Length != (long)n * c * oh * ow) throw new ArgumentException($"{kernel}: y has {y.Length} elements, expected {(long)n * c * oh * ow}.", nameof(y));
        if (w.Length != c * taps) throw new ArgumentException($"{kernel}: w has {w.Length} elements, expected c*{taps} = {c * taps}.", nameof(w));
        foreach (sbyte v in w) if (v == sbyte.MinValue) throw new ArgumentException($"{kernel}: weights must be in [-127, 127].", nameof(w));
        if (bias.Length != 0 && bias.Length != c) throw new ArgumentException($"{kernel}: bias has {bias.Length} elements, expected 0 or {c}.", nameof(bias));
        QGemm.ValidateZero(xZero, kernel);
        Requantization.ValidateParams(multiplier, shift, c, yZero, qmin, qmax, kernel);
    }

    internal static void DepthwiseCore(QIsa isa, ReadOnlySpan<byte> x, int xZero, ReadOnlySpan<sbyte> w, ReadOnlySpan<int> bias, Span<byte> y,
        int n, int c, int h, int width, int oh, int ow, int stride, int padTop, int padLeft,
        ReadOnlySpan<int> multiplier, ReadOnlySpan<int> shift, int yZero, int qmin, int qmax)
    {
        isa = QPaths.NoDot(isa);
        if (isa == QIsa.Avx2 && DepthwisePlaneFits(h, width, oh, ow, stride, padTop, padLeft, out int hp, out int wp))
        {
            DepthwisePlaneAvx2(x, xZero, w, bias, y, n, c, h, width, oh, ow, stride, padTop, padLeft, hp, wp, multiplier, shift, yZero, qmin, qmax);
            return;
        }
        // Outputs per vector step and the input bytes a step reads past its first tap.
        int vec = isa == QIsa.Avx2 && stride == 1 ? 16 : 8;
        int need = isa == QIsa.AdvSimd && stride == 1 ? 10 : 18;
        for (int b = 0; b < n; b++)
            for (int ch = 0; ch < c; ch++)
            {
                var xp = x.Slice((b * c + ch) * h * width, h * width);
                var yp = y.Slice((b * c + ch) * oh * ow, oh * ow);
                var wc = w.Slice(ch * 9, 9);
                int bs = bias.IsEmpty ? 0 : bias[ch], pi = multiplier.Length == 1 ? 0 : ch;
                int mul = multiplier[pi], sh = shift[pi];
                int oxFirst = (padLeft + stride - 1) / stride;                 // first ox whose window starts inside the row
                for (int oy = 0; oy < oh; oy++)
                {
                    int iy0 = oy * stride - padTop, ox = 0;
                    if (isa != QIsa.Scalar && iy0 >= 0 && iy0 + 2 < h)
                    {
                        for (; ox < Math.Min(oxFirst, ow); ox++) yp[oy * ow + ox] = Pixel(xp, wc, 3, xZero, bs, h, width, iy0, ox * stride - padLeft, mul, sh, yZero, qmin, qmax);
                        for (; ox + vec <= ow && ox * stride - padLeft + need <= width; ox += vec)
                        {
                            if (isa == QIsa.Avx2) DepthwiseStepAvx2(xp, wc, xZero, bs, width, iy0, ox * stride - padLeft, stride, mul, sh, yZero, qmin, qmax, yp.Slice(oy * ow + ox, vec));
                            else DepthwiseStepArm(xp, wc, xZero, bs, width, iy0, ox * stride - padLeft, stride, mul, sh, yZero, qmin, qmax, yp.Slice(oy * ow + ox, vec));
                        }
                    }
                    for (; ox < ow; ox++) yp[oy * ow + ox] = Pixel(xp, wc, 3, xZero, bs, h, width, iy0, ox * stride - padLeft, mul, sh, yZero, qmin, qmax);
                }
            }
    }

    /// <summary>The specification of one depthwise output (a kSize x kSize window, weights wc[ky * kSize + kx]).</summary>
    internal static byte Pixel(ReadOnlySpan<byte> xp, ReadOnlySpan<sbyte> wc, int kSize, int xZero, int bias, int h, int width, int iy0, int ix0,
        int mul, int sh, int yZero, int qmin, int qmax)
    {
        int acc = bias;
        for (int ky = 0; ky < kSize; ky++)
        {
            int iy = iy0 + ky;
            if ((uint)iy >= (uint)h) continue;
            for (int kx = 0; kx < kSize; kx++)
            {
                int ix = ix0 + kx;
                if ((uint)ix < (uint)width) acc += (xp[iy * width + ix] - xZero) * wc[ky * kSize + kx];
            }
        }
        return (byte)Requantization.Requantize(acc, mul, sh, yZero, qmin, qmax);
    }

    private static void DepthwiseStepAvx2(ReadOnlySpan<byte> xp, ReadOnlySpan<sbyte> wc, int xZero, int bias, int width, int iy0, int ix0, int stride,
        int mul, int sh, int yZero, int qmin, int qmax, Span<byte> dst)
    {
        ref byte x0 = ref MemoryMarshal.GetReference(xp);
        var xz = Vector256.Create((short)xZero);
        var lo = Vector256.Create(bias); var hi = lo;
        for (int ky = 0; ky < 3; ky++)
        {
            ref byte row = ref Unsafe.Add(ref x0, (iy0 + ky) * width + ix0);
            if (stride == 1)
            {
                // (x - xZero) * w fits int16 (|.| <= 255 * 127); 16 outputs.
                for (int kx = 0; kx < 3; kx++)
                {
                    var v = Avx2.Subtract(Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref row, (nuint)kx)), xz);
                    var p = Avx2.MultiplyLow(v, Vector256.Create((short)wc[ky * 3 + kx]));
                    lo = Avx2.Add(lo, Avx2.ConvertToVector256Int32(p.GetLower()));
                    hi = Avx2.Add(hi, Avx2.ConvertToVector256Int32(p.GetUpper()));
                }
            }
            else
            {
                // 8 outputs: int16 pairs (x[2j], x[2j+1]) times (w0, w1), then (x[2j+2], .) times (w2, 0).
                var v01 = Avx2.Subtract(Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref row)), xz);
                var v2 = Avx2.Subtract(Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref row, 2)), xz);
                ushort u0 = (ushort)(short)wc[ky * 3], u1 = (ushort)(short)wc[ky * 3 + 1], u2 = (ushort)(short)wc[ky * 3 + 2];
                int w01 = (int)(u0 | (uint)u1 << 16), w2 = u2;
                lo = Avx2.Add(lo, Avx2.MultiplyAddAdjacent(v01, Vector256.Create(w01).AsInt16()));
                lo = Avx2.Add(lo, Avx2.MultiplyAddAdjacent(v2, Vector256.Create(w2).AsInt16()));
            }
        }
        var rq = new Requantization.UniformAvx2(mul, sh, yZero, qmin, qmax, Math.Abs((long)bias) + 9 * MaxTap);
        ref byte d = ref MemoryMarshal.GetReference(dst);
        Requantization.StoreBytesAvx2(rq.Apply(lo), ref d);
        if (stride == 1) Requantization.StoreBytesAvx2(rq.Apply(hi), ref Unsafe.Add(ref d, 8));
    }

    private static void DepthwiseStepArm(ReadOnlySpan<byte> xp, ReadOnlySpan<sbyte> wc, int xZero, int bias, int width, int iy0, int ix0, int stride,
        int mul, int sh, int yZero, int qmin, int qmax, Span<byte> dst)
    {
        ref byte x0 = ref MemoryMarshal.GetReference(xp);
        var xz = Vector128.Create((short)xZero);
        var lo = Vector128.Create(bias); var hi = lo;
        for (int ky = 0; ky < 3; ky++)
        {
            ref byte row = ref Unsafe.Add(ref x0, (iy0 + ky) * width + ix0);
            Vector64<byte> t0, t1, t2;
            if (stride == 1)
            {
                t0 = Vector64.LoadUnsafe(ref row); t1 = Vector64.LoadUnsafe(ref row, 1); t2 = Vector64.LoadUnsafe(ref row, 2);
            }
            else
            {
                var v = Vector128.LoadUnsafe(ref row); var v2 = Vector128.LoadUnsafe(ref row, 2);
                t0 = AdvSimd.Arm64.UnzipEven(v, v).GetLower(); t1 = AdvSimd.Arm64.UnzipOdd(v, v).GetLower(); t2 = AdvSimd.Arm64.UnzipEven(v2, v2).GetLower();
            }
            Tap(ref lo, ref hi, t0, xz, wc[ky * 3]);
            Tap(ref lo, ref hi, t1, xz, wc[ky * 3 + 1]);
            Tap(ref lo, ref hi, t2, xz, wc[ky * 3 + 2]);
        }
        var m = Vector128.Create(mul); var s = Vector128.Create(sh);
        Requantization.StoreBytesArm(Requantization.RequantizeArm(lo, m, s, yZero, qmin, qmax), Requantization.RequantizeArm(hi, m, s, yZero, qmin, qmax),
            ref MemoryMarshal.GetReference(dst));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static void Tap(ref Vector128<int> lo, ref Vector128<int> hi, Vector64<byte> t, Vector128<short> xz, sbyte wv)
        {
            var v = AdvSimd.Subtract(AdvSimd.ZeroExtendWideningLower(t).AsInt16(), xz);
            var wq = Vector128.Create((short)wv);
            lo = AdvSimd.MultiplyWideningLowerAndAdd(lo, v.GetLower(), wq.GetLower());
            hi = AdvSimd.MultiplyWideningUpperAndAdd(hi, v, wq);
        }
    }

    // ---------------------------------------------------------------- depthwise 3x3, AVX2 plane path
    //
    // Per channel, the input plane is copied, widened to int16, into a stack buffer padded with xZero on every side (so no
    // output needs a bounds check; the padding is written once per call), and the zero point is folded into the bias:
    // sum (x - z) w + bias = sum x w + (bias - z sum w), exact in int32 (|x w| <= 255 * 127, 9 taps). Every tap pair is a
    // plain 16-value load of the int16 plane into vpmaddwd with a weight pair: stride 1 runs over the flattened padded
    // plane (q = oy * Wp + ox, 16 outputs per step as even and odd outputs; the Wp - ow columns per row that are not
    // outputs are computed and dropped); stride 2 runs per output row, where each output's (kx0, kx1) taps are the pair at
    // 2 ox and kx2 pairs with a zero weight. Stack: PlaneBytes int16 values (32 KiB) + PlaneBytes output bytes (16 KiB).

    /// <summary>Capacity of the plane buffer (int16 values) and of the output buffer (bytes).</summary>
    internal const int PlaneBytes = 16384;

    /// <summary>True when the AVX2 plane path takes this depthwise shape (padded plane and output fit the stack buffers).</summary>
    internal static bool DepthwisePlaneFits(int h, int width, int oh, int ow, int stride, int padTop, int padLeft, out int hp, out int wp)
    {
        hp = Math.Max(h + padTop, (oh - 1) * stride + 3);
        wp = Math.Max(width + padLeft, (ow - 1) * stride + 3);
        long plane = (long)hp * wp + 96;
        long outBytes = stride == 1 ? (long)oh * wp + 16 : (long)oh * ((ow + 15) & ~15);
        return plane <= PlaneBytes && outBytes <= PlaneBytes;
    }

    [SkipLocalsInit]
    private static void DepthwisePlaneAvx2(ReadOnlySpan<byte> x, int xZero, ReadOnlySpan<sbyte> w, ReadOnlySpan<int> bias, Span<byte> y,
        int n, int c, int h, int width, int oh, int ow, int stride, int padTop, int padLeft, int hp, int wp,
        ReadOnlySpan<int> multiplier, ReadOnlySpan<int> shift, int yZero, int qmin, int qmax)
    {
        Span<short> plane = stackalloc short[PlaneBytes];
        Span<byte> outBuf = stackalloc byte[PlaneBytes];
        int used = hp * wp + 96;
        // Filled once: the row copies below only ever write input values at the data positions and xZero elsewhere, so
        // every padding position keeps xZero for all channels.
        plane.Slice(0, used).Fill((short)xZero);
        var xzBytes = Vector128.Create((byte)xZero);
        // Lanes below width (narrow rows copied as one masked 16-byte step).
        var rowMask = Sse2.CompareGreaterThan(Vector128.Create((sbyte)Math.Min(width, 16)), Vector128.Create((sbyte)0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)).AsByte();
        ref byte x0 = ref MemoryMarshal.GetReference(x);
        ref byte y0 = ref MemoryMarshal.GetReference(y);
        ref short p0 = ref MemoryMarshal.GetReference(plane);
        ref byte o0 = ref MemoryMarshal.GetReference(outBuf);
        for (int b = 0; b < n; b++)
            for (int ch = 0; ch < c; ch++)
            {
                int xOff = (b * c + ch) * h * width, yOff = (b * c + ch) * oh * ow;
                ref short pd = ref Unsafe.Add(ref p0, padTop * wp + padLeft);
                for (int iy = 0; iy < h; iy++)
                    CopyRowIn(ref Unsafe.Add(ref x0, xOff + iy * width), ref Unsafe.Add(ref pd, iy * wp), width, x.Length - (xOff + iy * width), rowMask, xzBytes);
                var wc = w.Slice(ch * 9, 9);
                int sumW = 0;
                for (int t = 0; t < 9; t++) sumW += wc[t];
                int bs = (bias.IsEmpty ? 0 : bias[ch]) - xZero * sumW, pi = multiplier.Length == 1 ? 0 : ch;
                // The folded sum equals sum (x - z) w + bias: |acc| <= |bias| + 9 * 255 * 127.
                var rq = new Requantization.UniformAvx2(multiplier[pi], shift[pi], yZero, qmin, qmax, Math.Abs((long)(bias.IsEmpty ? 0 : bias[ch])) + 9 * MaxTap);
                var bv = Vector256.Create(bs);
                if (stride == 1)
                {
                    // A 16-value load at q holds the pairs (x[q + 2j], x[q + 2j + 1]): even outputs q + 2j take (k0, k1) from it
                    // and (k2, 0) from the load at q + 2; odd outputs q + 2j + 1 take (0, k0) from the load at q and (k1, k2)
                    // from the load at q + 2. Two loads per kernel row serve 16 outputs.
                    var e0 = Pair(wc[0], wc[1]); var e1 = Pair(wc[2], 0); var d0 = Pair(0, wc[0]); var d1 = Pair(wc[1], wc[2]);
                    var e3 = Pair(wc[3], wc[4]); var e4 = Pair(wc[5], 0); var d3 = Pair(0, wc[3]); var d4 = Pair(wc[4], wc[5]);
                    var e6 = Pair(wc[6], wc[7]); var e7 = Pair(wc[8], 0); var d6 = Pair(0, wc[6]); var d7 = Pair(wc[7], wc[8]);
                    int count = (oh - 1) * wp + ow;
                    for (int q = 0; q < count; q += 16)
                    {
                        ref short r0 = ref Unsafe.Add(ref p0, q);
                        ref short r1 = ref Unsafe.Add(ref r0, wp);
                        ref short r2 = ref Unsafe.Add(ref r1, wp);
                        var ev = bv; var od = bv;
                        RowTaps(ref ev, ref od, Vector256.LoadUnsafe(ref r0), Vector256.LoadUnsafe(ref r0, 2), e0, e1, d0, d1);
                        RowTaps(ref ev, ref od, Vector256.LoadUnsafe(ref r1), Vector256.LoadUnsafe(ref r1, 2), e3, e4, d3, d4);
                        RowTaps(ref ev, ref od, Vector256.LoadUnsafe(ref r2), Vector256.LoadUnsafe(ref r2, 2), e6, e7, d6, d7);
                        // Both in [0, 255]: (even | odd << 16) as int16 is e0 o0 e1 o1 ..., packed to 16 bytes in output order.
                        var v = Avx2.Or(rq.Apply(ev), Avx2.ShiftLeftLogical(rq.Apply(od), 16)).AsInt16();
                        Sse2.PackUnsignedSaturate(v.GetLower(), v.GetUpper()).StoreUnsafe(ref o0, (nuint)q);
                    }
                    for (int oy = 0; oy < oh; oy++) CopyRowOut(ref Unsafe.Add(ref o0, oy * wp), ref Unsafe.Add(ref y0, yOff + oy * ow), ow, y.Length - (yOff + oy * ow));
                }
                else
                {
                    // A 16-value load at 2 ox holds (x[2 ox + 2j], x[2 ox + 2j + 1]): taps (k0, k1) of output ox + j; the load at
                    // 2 ox + 2 gives (k2, 0). 16 outputs per step, in order.
                    var wa0 = Pair(wc[0], wc[1]); var wb0 = Pair(wc[2], 0);
                    var wa1 = Pair(wc[3], wc[4]); var wb1 = Pair(wc[5], 0);
                    var wa2 = Pair(wc[6], wc[7]); var wb2 = Pair(wc[8], 0);
                    int ow16 = (ow + 15) & ~15;
                    for (int oy = 0; oy < oh; oy++)
                    {
                        ref short r0 = ref Unsafe.Add(ref p0, 2 * oy * wp);
                        ref short r1 = ref Unsafe.Add(ref r0, wp);
                        ref short r2 = ref Unsafe.Add(ref r1, wp);
                        int ox = 0;
                        for (; ox + 8 < ow; ox += 16)
                        {
                            var lo = bv; var hi = bv;
                            StrideTwoTaps(ref lo, ref hi, ref Unsafe.Add(ref r0, 2 * ox), wa0, wb0);
                            StrideTwoTaps(ref lo, ref hi, ref Unsafe.Add(ref r1, 2 * ox), wa1, wb1);
                            StrideTwoTaps(ref lo, ref hi, ref Unsafe.Add(ref r2, 2 * ox), wa2, wb2);
                            Requantization.StoreBytesAvx2(rq.Apply(lo), ref Unsafe.Add(ref o0, oy * ow16 + ox));
                            Requantization.StoreBytesAvx2(rq.Apply(hi), ref Unsafe.Add(ref o0, oy * ow16 + ox + 8));
                        }
                        if (ox < ow)
                        {
                            // At most 8 outputs left (e.g. 7-wide rows): one 8-output half.
                            var lo = bv;
                            StrideTwoHalf(ref lo, ref Unsafe.Add(ref r0, 2 * ox), wa0, wb0);
                            StrideTwoHalf(ref lo, ref Unsafe.Add(ref r1, 2 * ox), wa1, wb1);
                            StrideTwoHalf(ref lo, ref Unsafe.Add(ref r2, 2 * ox), wa2, wb2);
                            Requantization.StoreBytesAvx2(rq.Apply(lo), ref Unsafe.Add(ref o0, oy * ow16 + ox));
                        }
                        CopyRowOut(ref Unsafe.Add(ref o0, oy * ow16), ref Unsafe.Add(ref y0, yOff + oy * ow), ow, y.Length - (yOff + oy * ow));
                    }
                }
            }

        static Vector256<short> Pair(int w0, int w1) => Vector256.Create((int)((ushort)(short)w0 | (uint)(ushort)(short)w1 << 16)).AsInt16();
    }

    /// <summary>One kernel row of 16 stride-1 outputs: a = plane[q..q+16), b = plane[q+2..q+18) (int16); even/odd accumulators.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void RowTaps(ref Vector256<int> ev, ref Vector256<int> od, Vector256<short> a, Vector256<short> b,
        Vector256<short> e01, Vector256<short> e2, Vector256<short> d0, Vector256<short> d12)
    {
        ev = Avx2.Add(ev, Avx2.Add(Avx2.MultiplyAddAdjacent(a, e01), Avx2.MultiplyAddAdjacent(b, e2)));
        od = Avx2.Add(od, Avx2.Add(Avx2.MultiplyAddAdjacent(a, d0), Avx2.MultiplyAddAdjacent(b, d12)));
    }

    /// <summary>16 stride-2 outputs of one kernel row starting at <paramref name="row"/> (int16 plane; reads 34 values).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StrideTwoTaps(ref Vector256<int> lo, ref Vector256<int> hi, ref short row, Vector256<short> wa, Vector256<short> wb)
    {
        lo = Avx2.Add(lo, Avx2.Add(Avx2.MultiplyAddAdjacent(Vector256.LoadUnsafe(ref row), wa), Avx2.MultiplyAddAdjacent(Vector256.LoadUnsafe(ref row, 2), wb)));
        hi = Avx2.Add(hi, Avx2.Add(Avx2.MultiplyAddAdjacent(Vector256.LoadUnsafe(ref row, 16), wa), Avx2.MultiplyAddAdjacent(Vector256.LoadUnsafe(ref row, 18), wb)));
    }

    /// <summary>8 stride-2 outputs of one kernel row starting at <paramref name="row"/> (int16 plane; reads 18 values).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StrideTwoHalf(ref Vector256<int> lo, ref short row, Vector256<short> wa, Vector256<short> wb)
        => lo = Avx2.Add(lo, Avx2.Add(Avx2.MultiplyAddAdjacent(Vector256.LoadUnsafe(ref row), wa), Avx2.MultiplyAddAdjacent(Vector256.LoadUnsafe(ref row, 2), wb)));

    /// <summary>
    /// Copies one input row (width bytes, <paramref name="srcLeft"/> bytes readable from src) widened to int16 to its place
    /// in the padded plane. Rows of 16 bytes or more: 16-byte steps, the last one overlapping. Narrower rows: one 16-byte
    /// load blended with xZero past the width (it writes xZero over the padding that follows and over the next rows' data
    /// positions, which are copied afterwards); where 16 bytes are not readable, per element.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CopyRowIn(ref byte src, ref short dst, int width, int srcLeft, Vector128<byte> mask, Vector128<byte> xz)
    {
        if (width >= 16)
        {
            int i = 0;
            for (; i + 16 <= width; i += 16) Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref src, (nuint)i)).StoreUnsafe(ref dst, (nuint)i);
            if (i < width) Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref src, (nuint)(width - 16))).StoreUnsafe(ref dst, (nuint)(width - 16));
        }
        else if (srcLeft >= 16) Avx2.ConvertToVector256Int16(Vector128.ConditionalSelect(mask, Vector128.LoadUnsafe(ref src), xz)).StoreUnsafe(ref dst);
        else for (int i = 0; i < width; i++) Unsafe.Add(ref dst, i) = Unsafe.Add(ref src, i);
    }

    /// <summary>
    /// Copies one output row (ow bytes) from the output buffer to y (<paramref name="dstLeft"/> bytes writable from dst).
    /// Rows of 16 bytes or more: 16-byte steps, the last one overlapping. Narrower rows: one 16-byte store where it fits in y
    /// (the bytes past the row belong to later rows or channels, written afterwards), otherwise a plain copy.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CopyRowOut(ref byte src, ref byte dst, int ow, int dstLeft)
    {
        if (ow >= 16)
        {
            int i = 0;
            for (; i + 16 <= ow; i += 16) Vector128.LoadUnsafe(ref src, (nuint)i).StoreUnsafe(ref dst, (nuint)i);
            if (i < ow) Vector128.LoadUnsafe(ref src, (nuint)(ow - 16)).StoreUnsafe(ref dst, (nuint)(ow - 16));
        }
        else if (dstLeft >= 16) Vector128.LoadUnsafe(ref src).StoreUnsafe(ref dst);
        else MemoryMarshal.CreateReadOnlySpan(ref src, ow).CopyTo(MemoryMarshal.CreateSpan(ref dst, ow));
    }
}
