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
/// multiplier/shift. The general kernel gathers each output pixel's patch (padding = xZero) into caller scratch and runs
/// the <see cref="QGemm"/> row core over the group's packed weights (1x1 convolutions included). Depthwise 3x3 with
/// stride 1 or 2 has its own direct kernel reading weights in ONNX layout.
/// </summary>
public static class QConv
{
    /// <summary>Packed weight length for <see cref="Conv2D"/>: per group, <see cref="QGemm.PackedLength"/>(k / group, cPerGroup * kh * kw).</summary>
    public static int PackedLength(int k, int cPerGroup, int kh, int kw, int group) => group * QGemm.PackedLength(k / group, cPerGroup * kh * kw);

    /// <summary>Scratch bytes <see cref="Conv2D"/> needs: one patch, cPerGroup * kh * kw.</summary>
    public static int ScratchLength(int cPerGroup, int kh, int kw) => cPerGroup * kh * kw;

    /// <summary>Packs ONNX weights w[k, cPerGroup, kh, kw] (s8 in [-127, 127]) as <paramref name="group"/> consecutive
    /// <see cref="QGemm.PackWeights"/> matrices [k / group, cPerGroup * kh * kw].</summary>
    public static void PackWeights(ReadOnlySpan<sbyte> w, Span<sbyte> packed, int k, int cPerGroup, int kh, int kw, int group)
    {
        if (group < 1 || k < 1 || k % group != 0 || cPerGroup < 1 || kh < 1 || kw < 1)
            throw new ArgumentException($"QConv.PackWeights: bad k={k}, cPerGroup={cPerGroup}, kh={kh}, kw={kw}, group={group}.", nameof(k));
        int kg = k / group, kd = cPerGroup * kh * kw, pl = QGemm.PackedLength(kg, kd);
        if (w.Length != (long)k * kd) throw new ArgumentException($"QConv.PackWeights: w has {w.Length} elements, expected {(long)k * kd}.", nameof(w));
        if (packed.Length != (long)group * pl) throw new ArgumentException($"QConv.PackWeights: packed has {packed.Length} bytes, expected {(long)group * pl}.", nameof(packed));
        for (int g = 0; g < group; g++) QGemm.PackWeights(w.Slice(g * kg * kd, kg * kd), packed.Slice(g * pl, pl), kg, kd);
    }

    /// <summary>General int8 convolution (any kernel, stride, dilation, group); bottom/right padding implied by oh/ow.</summary>
    public static void Conv2D(ReadOnlySpan<byte> x, int xZero, ReadOnlySpan<sbyte> packedW, ReadOnlySpan<int> bias, Span<byte> y, Span<byte> scratch,
        int n, int c, int h, int width, int k, int kh, int kw, int oh, int ow, int strideH, int strideW, int padTop, int padLeft,
        int dilationH, int dilationW, int group, ReadOnlySpan<int> multiplier, ReadOnlySpan<int> shift, int yZero, int qmin, int qmax)
    {
        const string kernel = "QConv.Conv2D";
        if (n < 0 || c < 1 || h < 0 || width < 0 || k < 1 || kh < 1 || kw < 1 || oh < 0 || ow < 0 || group < 1 || c % group != 0 || k % group != 0)
            throw new ArgumentException($"{kernel}: bad shape n={n}, c={c}, h={h}, width={width}, k={k}, kh={kh}, kw={kw}, oh={oh}, ow={ow}, group={group}.", nameof(n));
        if (strideH < 1 || strideW < 1 || dilationH < 1 || dilationW < 1 || padTop < 0 || padLeft < 0)
            throw new ArgumentException($"{kernel}: strides and dilations must be >= 1, padding >= 0.", nameof(strideH));
        int kd = c / group * kh * kw;
        if (kd > QGemm.MaxK) throw new ArgumentException($"{kernel}: reduction size {kd} exceeds {QGemm.MaxK}.", nameof(c));
        if (x.Length != (long)n * c * h * width) throw new ArgumentException($"{kernel}: x has {x.Length} elements, expected {(long)n * c * h * width}.", nameof(x));
        if (y.Length != (long)n * k * oh * ow) throw new ArgumentException($"{kernel}: y has {y.Length} elements, expected {(long)n * k * oh * ow}.", nameof(y));
        if (packedW.Length != PackedLength(k, c / group, kh, kw, group)) throw new ArgumentException($"{kernel}: packedW has {packedW.Length} bytes, expected {PackedLength(k, c / group, kh, kw, group)}.", nameof(packedW));
        if (scratch.Length < kd) throw new ArgumentException($"{kernel}: scratch has {scratch.Length} bytes, needs ScratchLength = {kd}.", nameof(scratch));
        if (bias.Length != 0 && bias.Length != k) throw new ArgumentException($"{kernel}: bias has {bias.Length} elements, expected 0 or {k}.", nameof(bias));
        QGemm.ValidateZero(xZero, kernel);
        Requantization.ValidateParams(multiplier, shift, k, yZero, qmin, qmax, kernel);
        Conv2DCore(QPaths.Best, x, xZero, packedW, bias, y, scratch, n, c, h, width, k, kh, kw, oh, ow, strideH, strideW, padTop, padLeft,
            dilationH, dilationW, group, multiplier, shift, yZero, qmin, qmax);
    }

    internal static void Conv2DCore(QIsa isa, ReadOnlySpan<byte> x, int xZero, ReadOnlySpan<sbyte> packedW, ReadOnlySpan<int> bias, Span<byte> y, Span<byte> scratch,
        int n, int c, int h, int width, int k, int kh, int kw, int oh, int ow, int strideH, int strideW, int padTop, int padLeft,
        int dilationH, int dilationW, int group, ReadOnlySpan<int> multiplier, ReadOnlySpan<int> shift, int yZero, int qmin, int qmax)
    {
        int cg = c / group, kg = k / group, kd = cg * kh * kw, hw = h * width, ohw = oh * ow;
        int bb = QGemm.BlockBytes(kd), pl = QGemm.PackedLength(kg, kd);
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

    // ---------------------------------------------------------------- depthwise 3x3

    /// <summary>
    /// Depthwise 3x3 convolution (group = c = k), stride 1 or 2 in both directions, dilation 1; weights w[c, 1, 3, 3] in ONNX
    /// layout (s8 in [-127, 127], no packing); bottom/right padding implied by oh/ow.
    /// </summary>
    public static void DepthwiseConv3x3(ReadOnlySpan<byte> x, int xZero, ReadOnlySpan<sbyte> w, ReadOnlySpan<int> bias, Span<byte> y,
        int n, int c, int h, int width, int oh, int ow, int stride, int padTop, int padLeft,
        ReadOnlySpan<int> multiplier, ReadOnlySpan<int> shift, int yZero, int qmin, int qmax)
    {
        const string kernel = "QConv.DepthwiseConv3x3";
        if (n < 0 || c < 1 || h < 0 || width < 0 || oh < 0 || ow < 0) throw new ArgumentException($"{kernel}: bad shape.", nameof(n));
        if (stride is not (1 or 2)) throw new ArgumentException($"{kernel}: stride {stride} is not 1 or 2.", nameof(stride));
        if (padTop < 0 || padLeft < 0) throw new ArgumentException($"{kernel}: padding must be >= 0.", nameof(padTop));
        if (x.Length != (long)n * c * h * width) throw new ArgumentException($"{kernel}: x has {x.Length} elements, expected {(long)n * c * h * width}.", nameof(x));
        if (y.Length != (long)n * c * oh * ow) throw new ArgumentException($"{kernel}: y has {y.Length} elements, expected {(long)n * c * oh * ow}.", nameof(y));
        if (w.Length != c * 9) throw new ArgumentException($"{kernel}: w has {w.Length} elements, expected c*9 = {c * 9}.", nameof(w));
        foreach (sbyte v in w) if (v == sbyte.MinValue) throw new ArgumentException($"{kernel}: weights must be in [-127, 127].", nameof(w));
        if (bias.Length != 0 && bias.Length != c) throw new ArgumentException($"{kernel}: bias has {bias.Length} elements, expected 0 or {c}.", nameof(bias));
        QGemm.ValidateZero(xZero, kernel);
        Requantization.ValidateParams(multiplier, shift, c, yZero, qmin, qmax, kernel);
        DepthwiseCore(QPaths.Best, x, xZero, w, bias, y, n, c, h, width, oh, ow, stride, padTop, padLeft, multiplier, shift, yZero, qmin, qmax);
    }

    internal static void DepthwiseCore(QIsa isa, ReadOnlySpan<byte> x, int xZero, ReadOnlySpan<sbyte> w, ReadOnlySpan<int> bias, Span<byte> y,
        int n, int c, int h, int width, int oh, int ow, int stride, int padTop, int padLeft,
        ReadOnlySpan<int> multiplier, ReadOnlySpan<int> shift, int yZero, int qmin, int qmax)
    {
        isa = QPaths.NoDot(isa);
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
                        for (; ox < Math.Min(oxFirst, ow); ox++) yp[oy * ow + ox] = Pixel(xp, wc, xZero, bs, h, width, iy0, ox * stride - padLeft, mul, sh, yZero, qmin, qmax);
                        for (; ox + vec <= ow && ox * stride - padLeft + need <= width; ox += vec)
                        {
                            if (isa == QIsa.Avx2) DepthwiseStepAvx2(xp, wc, xZero, bs, width, iy0, ox * stride - padLeft, stride, mul, sh, yZero, qmin, qmax, yp.Slice(oy * ow + ox, vec));
                            else DepthwiseStepArm(xp, wc, xZero, bs, width, iy0, ox * stride - padLeft, stride, mul, sh, yZero, qmin, qmax, yp.Slice(oy * ow + ox, vec));
                        }
                    }
                    for (; ox < ow; ox++) yp[oy * ow + ox] = Pixel(xp, wc, xZero, bs, h, width, iy0, ox * stride - padLeft, mul, sh, yZero, qmin, qmax);
                }
            }
    }

    /// <summary>The specification of one depthwise output.</summary>
    private static byte Pixel(ReadOnlySpan<byte> xp, ReadOnlySpan<sbyte> wc, int xZero, int bias, int h, int width, int iy0, int ix0,
        int mul, int sh, int yZero, int qmin, int qmax)
    {
        int acc = bias;
        for (int ky = 0; ky < 3; ky++)
        {
            int iy = iy0 + ky;
            if ((uint)iy >= (uint)h) continue;
            for (int kx = 0; kx < 3; kx++)
            {
                int ix = ix0 + kx;
                if ((uint)ix < (uint)width) acc += (xp[iy * width + ix] - xZero) * wc[ky * 3 + kx];
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
        var m = Vector256.Create(mul); var s = Vector256.Create(sh);
        ref byte d = ref MemoryMarshal.GetReference(dst);
        Requantization.StoreBytesAvx2(Requantization.RequantizeAvx2(lo, m, s, yZero, qmin, qmax), ref d);
        if (stride == 1) Requantization.StoreBytesAvx2(Requantization.RequantizeAvx2(hi, m, s, yZero, qmin, qmax), ref Unsafe.Add(ref d, 8));
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
}
