using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace EdgeCompile.Kernels;

/// <summary>
/// Int8 pooling over NCHW u8 tensors. MaxPool keeps the input's quantization (max commutes with it; a window with no tap
/// inside the input gives 0). Average pooling (ONNX QLinearAveragePool / QLinearGlobalAveragePool):
/// <code>
/// acc = sum over the window's in-bounds taps of (x - xZero)      (padding contributes 0, i.e. reads xZero)
/// avg = round_half_to_even(acc / count)                          (exact integer division; count = 0 gives 0)
/// y   = clamp(yZero + RoundingShift((long)avg * multiplier, 31 + shift), qmin, qmax)
/// </code>
/// multiplier * 2^-(31+shift) = xScale / yScale (2^30, -1 for the identity). count follows <see cref="Pool.AveragePool2D"/>.
/// The vector paths cover interior windows with dilationW 1 and strideW 1 or 2; the rest runs the reference per output.
/// </summary>
public static class QPool
{
    /// <summary>Largest window (kh * kw) or spatial size for which acc fits int32: 255 * size &lt;= 2^31 - 1.</summary>
    public const int MaxWindow = 8_421_504;

    /// <summary>Quantized MaxPool; see the class summary.</summary>
    public static void MaxPool2D(ReadOnlySpan<byte> x, Span<byte> y, int n, int c, int h, int width, int kh, int kw, int oh, int ow,
        int strideH, int strideW, int padTop, int padLeft, int dilationH, int dilationW)
    {
        ValidateWindow(x.Length, y.Length, n, c, h, width, kh, kw, oh, ow, strideH, strideW, padTop, padLeft, dilationH, dilationW, "QPool.MaxPool2D");
        WindowCore(QPaths.Best, true, x, 0, y, n, c, h, width, kh, kw, oh, ow, strideH, strideW, padTop, padLeft, 0, 0, dilationH, dilationW, false, 0, 0, 0, 0, 255);
    }

    /// <summary>Quantized AveragePool (dilation 1); see the class summary.</summary>
    public static void AveragePool2D(ReadOnlySpan<byte> x, int xZero, Span<byte> y, int n, int c, int h, int width, int kh, int kw, int oh, int ow,
        int strideH, int strideW, int padTop, int padLeft, int padBottom, int padRight, bool countIncludePad,
        int multiplier, int shift, int yZero, int qmin, int qmax)
    {
        const string kernel = "QPool.AveragePool2D";
        ValidateWindow(x.Length, y.Length, n, c, h, width, kh, kw, oh, ow, strideH, strideW, padTop, padLeft, 1, 1, kernel);
        if (padBottom < 0 || padRight < 0) throw new ArgumentException($"{kernel}: padding must be >= 0.", nameof(padBottom));
        if ((long)kh * kw > MaxWindow) throw new ArgumentException($"{kernel}: window {kh}x{kw} exceeds {MaxWindow} taps.", nameof(kh));
        QGemm.ValidateZero(xZero, kernel);
        Requantization.ValidateOne(multiplier, shift, kernel);
        Requantization.ValidateRange(yZero, qmin, qmax, kernel);
        WindowCore(QPaths.Best, false, x, xZero, y, n, c, h, width, kh, kw, oh, ow, strideH, strideW, padTop, padLeft, padBottom, padRight, 1, 1,
            countIncludePad, multiplier, shift, yZero, qmin, qmax);
    }

    /// <summary>Quantized GlobalAveragePool: y[i] over x[i * spatial .. (i + 1) * spatial); channels = n * c.</summary>
    public static void GlobalAveragePool(ReadOnlySpan<byte> x, int xZero, Span<byte> y, int channels, int spatial,
        int multiplier, int shift, int yZero, int qmin, int qmax)
    {
        const string kernel = "QPool.GlobalAveragePool";
        if (channels < 0 || spatial < 1 || spatial > MaxWindow) throw new ArgumentException($"{kernel}: bad channels={channels}, spatial={spatial} (spatial in [1, {MaxWindow}]).", nameof(spatial));
        if (x.Length != (long)channels * spatial) throw new ArgumentException($"{kernel}: x has {x.Length} elements, expected {(long)channels * spatial}.", nameof(x));
        if (y.Length != channels) throw new ArgumentException($"{kernel}: y has {y.Length} elements, expected {channels}.", nameof(y));
        QGemm.ValidateZero(xZero, kernel);
        Requantization.ValidateOne(multiplier, shift, kernel);
        Requantization.ValidateRange(yZero, qmin, qmax, kernel);
        GlobalCore(QPaths.Best, x, xZero, y, channels, spatial, multiplier, shift, yZero, qmin, qmax);
    }

    private static void ValidateWindow(int xLength, int yLength, int n, int c, int h, int width, int kh, int kw, int oh, int ow,
        int strideH, int strideW, int padTop, int padLeft, int dilationH, int dilationW, string kernel)
    {
        if (n < 0 || c < 0 || h < 0 || width < 0 || kh < 1 || kw < 1 || oh < 0 || ow < 0)
            throw new ArgumentException($"{kernel}: bad shape n={n}, c={c}, h={h}, width={width}, kh={kh}, kw={kw}, oh={oh}, ow={ow}.", nameof(n));
        if (strideH < 1 || strideW < 1 || dilationH < 1 || dilationW < 1 || padTop < 0 || padLeft < 0)
            throw new ArgumentException($"{kernel}: strides and dilations must be >= 1, padding >= 0.", nameof(strideH));
        if (xLength != (long)n * c * h * width) throw new ArgumentException($"{kernel}: x has {xLength} elements, expected {(long)n * c * h * width}.", "x");
        if (yLength != (long)n * c * oh * ow) throw new ArgumentException($"{kernel}: y has {yLength} elements, expected {(long)n * c * oh * ow}.", "y");
    }

    internal static void WindowCore(QIsa isa, bool max, ReadOnlySpan<byte> x, int xZero, Span<byte> y, int n, int c, int h, int width, int kh, int kw,
        int oh, int ow, int strideH, int strideW, int padTop, int padLeft, int padBottom, int padRight, int dilationH, int dilationW,
        bool countIncludePad, int multiplier, int shift, int yZero, int qmin, int qmax)
    {
        isa = QPaths.NoDot(isa);
        if (max && isa == QIsa.Avx2)
        {
            if (Pool2x2Fits(h, width, kh, kw, oh, ow, strideH, strideW, padTop, padLeft, dilationH, dilationW))
            {
                MaxPool2x2Avx2(x, y, n * c * oh, width);
                return;
            }
            int len = MaxRowLength(width, ow, kw, strideW, padLeft, dilationW);
            if (len <= MaxRowBytes)
            {
                MaxPoolAvx2(x, y, n * c, h, width, kh, kw, oh, ow, strideH, strideW, padTop, padLeft, dilationH, dilationW, len);
                return;
            }
        }
        bool vector = isa != QIsa.Scalar && dilationW == 1 && strideW <= 2;
        // Outputs per vector step and the bytes a step reads from its first tap.
        int vec = max && strideW == 1 ? (isa == QIsa.Avx2 ? 32 : 16) : 8;
        int need = kw - 1 + (strideW == 2 ? 16 : max ? vec : 8);
        int oxFirst = (padLeft + strideW - 1) / strideW;
        Span<int> sums = stackalloc int[8];
        for (int plane = 0; plane < n * c; plane++)
        {
            var xp = x.Slice(plane * h * width, h * width);
            var yp = y.Slice(plane * oh * ow, oh * ow);
            for (int oy = 0; oy < oh; oy++)
            {
                int iy0 = oy * strideH - padTop, ox = 0;
                if (vector)
                {
                    for (; ox < Math.Min(oxFirst, ow); ox++) yp[oy * ow + ox] = Window(max, xp, xZero, h, width, kh, kw, iy0, ox * strideW - padLeft, strideH, padTop, padLeft, padBottom, padRight, dilationH, dilationW, countIncludePad, multiplier, shift, yZero, qmin, qmax);
                    for (; ox + vec <= ow && ox * strideW - padLeft + need <= width; ox += vec)
                    {
                        int ix0 = ox * strideW - padLeft;
                        if (max) MaxStep(isa, xp, h, width, kh, kw, iy0, ix0, strideW, dilationH, yp.Slice(oy * ow + ox, vec));
                        else
                        {
                            int rows = SumStep(isa, xp, h, width, kh, kw, iy0, ix0, strideW, sums);
                            for (int j = 0; j < 8; j++)
                            {
                                int count = countIncludePad ? Count(iy0, kh, -padTop, h + padBottom) * kw : rows * kw;
                                yp[oy * ow + ox + j] = Finish(sums[j] - rows * kw * xZero, count, multiplier, shift, yZero, qmin, qmax);
                            }
                        }
                    }
                }
                for (; ox < ow; ox++) yp[oy * ow + ox] = Window(max, xp, xZero, h, width, kh, kw, iy0, ox * strideW - padLeft, strideH, padTop, padLeft, padBottom, padRight, dilationH, dilationW, countIncludePad, multiplier, shift, yZero, qmin, qmax);
            }
        }
    }

    // ---------------------------------------------------------------- AVX2 max pooling: rows, then columns
    //
    // Per output row, the maximum over the window's in-bounds input rows is taken for every column at once (32 bytes per
    // vpmaxub) into a row buffer that holds zeros left of the image (padLeft bytes) and right of it; the outputs are then the
    // maximum over kw taps of that buffer. Zero is max's identity on u8 and the reference's value for taps outside the input
    // (a window with no tap inside gives 0), so the result is the reference's bit for bit. Buffer index of tap kx of output
    // ox: ox * strideW + kx * dilationW. Stride 1 and 2 (dilationW 1) run 32 / 16 outputs per step, a ragged end recomputes
    // an overlapping last step (max is idempotent); other strides and dilations read the buffer per output.

    /// <summary>Largest row buffer of the AVX2 max pooling (bytes on the stack); wider rows run the general path.</summary>
    internal const int MaxRowBytes = 4096;

    /// <summary>Row buffer bytes: the padded row or the farthest tap, whichever is longer, plus 64 bytes of slack for the vector loads.</summary>
    private static int MaxRowLength(int width, int ow, int kw, int strideW, int padLeft, int dilationW)
    {
        long reach = Math.Max((long)padLeft + width, (long)(ow - 1) * strideW + (long)(kw - 1) * dilationW + 1);
        return reach + 64 > MaxRowBytes ? int.MaxValue : (int)reach + 64;
    }

    [SkipLocalsInit]
    private static void MaxPoolAvx2(ReadOnlySpan<byte> x, Span<byte> y, int planes, int h, int width, int kh, int kw, int oh, int ow,
        int strideH, int strideW, int padTop, int padLeft, int dilationH, int dilationW, int len)
    {
        Span<byte> buf = stackalloc byte[len];   // len <= MaxRowBytes
        buf.Clear();
        ref byte row = ref MemoryMarshal.GetReference(buf);
        ref byte body = ref Unsafe.Add(ref row, padLeft);
        ref byte x0 = ref MemoryMarshal.GetReference(x);
        ref byte y0 = ref MemoryMarshal.GetReference(y);
        var even = Vector256.Create((byte)0, 2, 4, 6, 8, 10, 12, 14, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
                                    0, 2, 4, 6, 8, 10, 12, 14, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80);
        for (int plane = 0; plane < planes; plane++)
        {
            ref byte xp = ref Unsafe.Add(ref x0, (nint)plane * h * width);
            for (int oy = 0; oy < oh; oy++)
            {
                ref byte yr = ref Unsafe.Add(ref y0, ((nint)plane * oh + oy) * ow);
                // Rows: body[ix] = max over the in-bounds taps ky of x[iy, ix] (0 when there is none).
                bool first = true;
                for (int ky = 0; ky < kh; ky++)
                {
                    int iy = oy * strideH - padTop + ky * dilationH;
                    if ((uint)iy >= (uint)h) continue;
                    ref byte src = ref Unsafe.Add(ref xp, (nint)iy * width);
                    if (first) { Unsafe.CopyBlockUnaligned(ref body, ref src, (uint)width); first = false; continue; }
                    int i = 0;
                    for (; i + 32 <= width; i += 32)
                        Avx2.Max(Vector256.LoadUnsafe(ref body, (nuint)i), Vector256.LoadUnsafe(ref src, (nuint)i)).StoreUnsafe(ref body, (nuint)i);
                    if (i < width && width >= 32)
                        Avx2.Max(Vector256.LoadUnsafe(ref body, (nuint)(width - 32)), Vector256.LoadUnsafe(ref src, (nuint)(width - 32))).StoreUnsafe(ref body, (nuint)(width - 32));
                    else
                        for (; i < width; i++) Unsafe.Add(ref body, i) = Math.Max(Unsafe.Add(ref body, i), Unsafe.Add(ref src, i));
                }
                if (first) Unsafe.InitBlockUnaligned(ref body, 0, (uint)width);
                // Columns.
                if (dilationW == 1 && strideW == 1 && ow >= 32)
                {
                    for (int ox = 0; ; ox += 32)
                    {
                        if (ox + 32 > ow) ox = ow - 32;
                        var m = Vector256.LoadUnsafe(ref row, (nuint)ox);
                        for (int kx = 1; kx < kw; kx++) m = Avx2.Max(m, Vector256.LoadUnsafe(ref row, (nuint)(ox + kx)));
                        m.StoreUnsafe(ref yr, (nuint)ox);
                        if (ox + 32 >= ow) break;
                    }
                }
                else if (dilationW == 1 && strideW == 2 && ow >= 16)
                {
                    for (int ox = 0; ; ox += 16)
                    {
                        if (ox + 16 > ow) ox = ow - 16;
                        var m = Vector256.LoadUnsafe(ref row, (nuint)(2 * ox));
                        for (int kx = 1; kx < kw; kx++) m = Avx2.Max(m, Vector256.LoadUnsafe(ref row, (nuint)(2 * ox + kx)));
                        // Byte 2i of m is output ox + i: keep the even bytes of each 128-bit lane, then the two low quadwords.
                        Avx2.Permute4x64(Avx2.Shuffle(m, even).AsUInt64(), 0b_00_00_10_00).GetLower().AsByte().StoreUnsafe(ref yr, (nuint)ox);
                        if (ox + 16 >= ow) break;
                    }
                }
                else
                {
                    for (int ox = 0; ox < ow; ox++)
                    {
                        ref byte t = ref Unsafe.Add(ref row, ox * strideW);
                        byte b = t;
                        for (int kx = 1; kx < kw; kx++) b = Math.Max(b, Unsafe.Add(ref t, kx * dilationW));
                        Unsafe.Add(ref yr, ox) = b;
                    }
                }
            }
        }
    }

    // ---------------------------------------------------------------- AVX2 max pooling 2x2, stride 2, no padding, even planes
    //
    // With h = 2 oh and width = 2 ow, the planes are one stack of n c oh row pairs, and column pairs (2j, 2j + 1) never cross
    // a row: so the horizontal maxima are taken over the flat tensor, 64 input bytes per step whatever the row width (8-wide
    // rows of the digits CNN are otherwise 4 outputs per row), into a stack buffer, then each output row is the maximum of
    // two consecutive ow-byte rows of that buffer.

    /// <summary>Output rows per chunk of <see cref="MaxPool2x2Avx2"/>'s buffer (a chunk's input rows are 2 * width bytes each).</summary>
    private const int Pool2x2Buffer = 4096;

    /// <summary>True when <see cref="WindowCore"/>'s AVX2 max pooling takes <see cref="MaxPool2x2Avx2"/> (2x2 window, stride 2,
    /// dilation 1, no padding, planes of exactly 2 oh x 2 ow, a row pair within the buffer).</summary>
    internal static bool Pool2x2Fits(int h, int width, int kh, int kw, int oh, int ow, int strideH, int strideW, int padTop, int padLeft,
        int dilationH, int dilationW)
        => kh == 2 && kw == 2 && strideH == 2 && strideW == 2 && dilationH == 1 && dilationW == 1 && padTop == 0 && padLeft == 0
           && oh >= 1 && ow >= 1 && h == 2 * oh && width == 2 * ow && width <= Pool2x2Buffer;

    /// <summary>
    /// 2x2 stride-2 max pooling of <paramref name="rows"/> output rows (all planes): chunks of output rows whose input
    /// (2 * width bytes each) fits the buffer; per chunk the column-pair maxima of its input bytes (the last 64-byte step
    /// overlapping), then the row-pair maxima (16 outputs per step; narrower rows one 16-byte step whose bytes past the row
    /// are rewritten by the next row, or per byte where the 16 bytes would pass the end of y). Stack: Pool2x2Buffer + 16 bytes.
    /// </summary>
    [SkipLocalsInit]
    private static void MaxPool2x2Avx2(ReadOnlySpan<byte> x, Span<byte> y, int rows, int width)
    {
        Span<byte> buf = stackalloc byte[Pool2x2Buffer + 16];
        int ow = width / 2, chunk = Math.Max(1, Pool2x2Buffer / width);
        ref byte x0 = ref MemoryMarshal.GetReference(x);
        ref byte y0 = ref MemoryMarshal.GetReference(y);
        ref byte hb = ref MemoryMarshal.GetReference(buf);
        var lowBytes = Vector256.Create((ushort)0xFF);
        for (int r0 = 0; r0 < rows; r0 += chunk)
        {
            int nr = Math.Min(chunk, rows - r0), inLen = 2 * nr * width;   // input bytes of the chunk; buffer: inLen / 2 <= Pool2x2Buffer
            ref byte src = ref Unsafe.Add(ref x0, (nint)r0 * 2 * width);
            if (inLen >= 64)
                for (int i = 0; ; i += 64)
                {
                    if (i + 64 > inLen) i = inLen - 64;   // even: pairs stay aligned
                    var a = Vector256.LoadUnsafe(ref src, (nuint)i).AsUInt16();
                    var b = Vector256.LoadUnsafe(ref src, (nuint)(i + 32)).AsUInt16();
                    var ma = Avx2.Max(Avx2.And(a, lowBytes), Avx2.ShiftRightLogical(a, 8));
                    var mb = Avx2.Max(Avx2.And(b, lowBytes), Avx2.ShiftRightLogical(b, 8));
                    // packus interleaves 128-bit lanes (a.lo b.lo a.hi b.hi): restore the order of the quadwords.
                    Avx2.Permute4x64(Avx2.PackUnsignedSaturate(ma.AsInt16(), mb.AsInt16()).AsUInt64(), 0b_11_01_10_00).AsByte().StoreUnsafe(ref hb, (nuint)(i / 2));
                    if (i + 64 >= inLen) break;
                }
            else
                for (int i = 0; i < inLen; i += 2) Unsafe.Add(ref hb, i / 2) = Math.Max(Unsafe.Add(ref src, i), Unsafe.Add(ref src, i + 1));
            ref byte dst = ref Unsafe.Add(ref y0, (nint)r0 * ow);
            int yLeft = y.Length - r0 * ow;
            for (int r = 0; r < nr; r++)
            {
                ref byte top = ref Unsafe.Add(ref hb, 2 * r * ow);
                ref byte d = ref Unsafe.Add(ref dst, r * ow);
                if (ow >= 16)
                {
                    for (int j = 0; ; j += 16)
                    {
                        if (j + 16 > ow) j = ow - 16;
                        Vector128.Max(Vector128.LoadUnsafe(ref top, (nuint)j), Vector128.LoadUnsafe(ref top, (nuint)(j + ow))).StoreUnsafe(ref d, (nuint)j);
                        if (j + 16 >= ow) break;
                    }
                }
                else if (r * ow + 16 <= yLeft)
                    // Reads up to 16 bytes past the row pair: inside the buffer's 16 bytes of slack at the end.
                    Vector128.Max(Vector128.LoadUnsafe(ref top), Vector128.LoadUnsafe(ref top, (nuint)ow)).StoreUnsafe(ref d);
                else
                    for (int j = 0; j < ow; j++) Unsafe.Add(ref d, j) = Math.Max(Unsafe.Add(ref top, j), Unsafe.Add(ref top, j + ow));
            }
        }
    }

    /// <summary>Window positions [start, start + k) inside [lo, hi).</summary>
    private static int Count(int start, int k, int lo, int hi) => Math.Max(0, Math.Min(start + k, hi) - Math.Max(start, lo));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static byte Finish(int acc, int count, int multiplier, int shift, int yZero, int qmin, int qmax)
        => (byte)Requantization.Requantize(count == 0 ? 0 : Requantization.DivideRoundEven(acc, count), multiplier, shift, yZero, qmin, qmax);

    /// <summary>The specification of one output.</summary>
    private static byte Window(bool max, ReadOnlySpan<byte> xp, int xZero, int h, int width, int kh, int kw, int iy0, int ix0, int strideH,
        int padTop, int padLeft, int padBottom, int padRight, int dilationH, int dilationW, bool countIncludePad, int multiplier, int shift, int yZero, int qmin, int qmax)
    {
        int best = 0, acc = 0, taps = 0;
        for (int ky = 0; ky < kh; ky++)
        {
            int iy = iy0 + ky * dilationH;
            if ((uint)iy >= (uint)h) continue;
            for (int kx = 0; kx < kw; kx++)
            {
                int ix = ix0 + kx * dilationW;
                if ((uint)ix >= (uint)width) continue;
                int v = xp[iy * width + ix];
                best = Math.Max(best, v); acc += v - xZero; taps++;
            }
        }
        if (max) return (byte)best;
        int count = countIncludePad ? Count(iy0, kh, -padTop, h + padBottom) * Count(ix0, kw, -padLeft, width + padRight) : taps;
        return Finish(acc, count, multiplier, shift, yZero, qmin, qmax);
    }

    private static void MaxStep(QIsa isa, ReadOnlySpan<byte> xp, int h, int width, int kh, int kw, int iy0, int ix0, int strideW, int dilationH, Span<byte> dst)
    {
        ref byte x0 = ref MemoryMarshal.GetReference(xp);
        ref byte d = ref MemoryMarshal.GetReference(dst);
        var even = Vector128.Create((byte)0, 2, 4, 6, 8, 10, 12, 14, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80);
        Vector256<byte> m256 = default; Vector128<byte> m128 = default; Vector64<byte> m64 = default;
        for (int ky = 0; ky < kh; ky++)
        {
            int iy = iy0 + ky * dilationH;
            if ((uint)iy >= (uint)h) continue;
            ref byte row = ref Unsafe.Add(ref x0, iy * width + ix0);
            for (int kx = 0; kx < kw; kx++)
            {
                if (isa == QIsa.Avx2)
                {
                    if (strideW == 1) m256 = Avx2.Max(m256, Vector256.LoadUnsafe(ref row, (nuint)kx));
                    else m128 = Sse2.Max(m128, Ssse3.Shuffle(Vector128.LoadUnsafe(ref row, (nuint)kx), even));
                }
                else
                {
                    if (strideW == 1) m128 = AdvSimd.Max(m128, Vector128.LoadUnsafe(ref row, (nuint)kx));
                    else { var v = Vector128.LoadUnsafe(ref row, (nuint)kx); m64 = AdvSimd.Max(m64, AdvSimd.Arm64.UnzipEven(v, v).GetLower()); }
                }
            }
        }
        if (isa == QIsa.Avx2) { if (strideW == 1) m256.StoreUnsafe(ref d); else Unsafe.WriteUnaligned(ref d, m128.AsUInt64().ToScalar()); }
        else { if (strideW == 1) m128.StoreUnsafe(ref d); else m64.StoreUnsafe(ref d); }
    }

    /// <summary>Raw byte sums of 8 adjacent windows' in-bounds rows (all columns in bounds); returns the rows counted.</summary>
    private static int SumStep(QIsa isa, ReadOnlySpan<byte> xp, int h, int width, int kh, int kw, int iy0, int ix0, int strideW, Span<int> sums)
    {
        ref byte x0 = ref MemoryMarshal.GetReference(xp);
        var even = Vector128.Create((byte)0, 2, 4, 6, 8, 10, 12, 14, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80);
        Vector256<int> s256 = default; Vector128<uint> lo = default, hi = default;
        int rows = 0;
        for (int ky = 0; ky < kh; ky++)
        {
            int iy = iy0 + ky;
            if ((uint)iy >= (uint)h) continue;
            rows++;
            ref byte row = ref Unsafe.Add(ref x0, iy * width + ix0);
            for (int kx = 0; kx < kw; kx++)
            {
                if (isa == QIsa.Avx2)
                {
                    var b = strideW == 1 ? Vector128.CreateScalar(Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref row, kx))).AsByte()
                                         : Ssse3.Shuffle(Vector128.LoadUnsafe(ref row, (nuint)kx), even);
                    s256 = Avx2.Add(s256, Avx2.ConvertToVector256Int32(b));
                }
                else
                {
                    Vector64<byte> b;
                    if (strideW == 1) b = Vector64.LoadUnsafe(ref row, (nuint)kx);
                    else { var v = Vector128.LoadUnsafe(ref row, (nuint)kx); b = AdvSimd.Arm64.UnzipEven(v, v).GetLower(); }
                    var w = AdvSimd.ZeroExtendWideningLower(b);
                    lo = AdvSimd.AddWideningLower(lo, w.GetLower());
                    hi = AdvSimd.AddWideningUpper(hi, w);
                }
            }
        }
        ref int s = ref MemoryMarshal.GetReference(sums);
        if (isa == QIsa.Avx2) s256.StoreUnsafe(ref s);
        else { lo.AsInt32().StoreUnsafe(ref s); hi.AsInt32().StoreUnsafe(ref s, 4); }
        return rows;
    }

    internal static void GlobalCore(QIsa isa, ReadOnlySpan<byte> x, int xZero, Span<byte> y, int channels, int spatial,
        int multiplier, int shift, int yZero, int qmin, int qmax)
    {
        isa = QPaths.NoDot(isa);
        for (int ch = 0; ch < channels; ch++)
        {
            var row = x.Slice(ch * spatial, spatial);
            ref byte r0 = ref MemoryMarshal.GetReference(row);
            long sum = 0;
            int i = 0;
            if (isa == QIsa.Avx2)
            {
                var acc = Vector256<ulong>.Zero;
                for (; i + 32 <= spatial; i += 32) acc = Avx2.Add(acc, Avx2.SumAbsoluteDifferences(Vector256.LoadUnsafe(ref r0, (nuint)i), Vector256<byte>.Zero).AsUInt64());
                sum = (long)(acc.GetElement(0) + acc.GetElement(1) + acc.GetElement(2) + acc.GetElement(3));
            }
            else if (isa == QIsa.AdvSimd)
            {
                uint acc = 0;
                for (; i + 16 <= spatial; i += 16) acc += AdvSimd.Arm64.AddAcrossWidening(Vector128.LoadUnsafe(ref r0, (nuint)i)).ToScalar();
                sum = acc;
            }
            for (; i < spatial; i++) sum += row[i];
            int total = (int)(sum - (long)spatial * xZero);
            y[ch] = Finish(total, spatial, multiplier, shift, yZero, qmin, qmax);
        }
    }
}
