using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace EdgeCompile.Kernels;

// ---------------------------------------------------------------- small planes (at most 64 output pixels)
//
// On planes of 16 or 64 output pixels (the digits CNN's 4x4 and 8x8 maps) im2col + Gemm.MultiplyNN spends most of its time
// in fixed costs: panel gathering with per-row bounds, GEMM packing and edge tiles for n = 16 / 64 columns. This path builds
// no im2col panel: per input channel and horizontal tap kx it copies the input once into a zero-padded "shifted plane" of
// (oh + kh - 1) rows x ow columns, row r column ox holding x[r - padTop][ox + kx - padLeft] (0 outside the input). Output
// pixel p = oy * ow + ox of tap (ci, ky, kx) is then element ky * ow + p of shifted plane (ci, kx): every 16 consecutive
// output pixels of a tap are one contiguous load, whatever ow is. The multiply runs straight from the ONNX weight layout
// (w[k][taps], broadcast per channel and tap: no packing) in register tiles of 8 channels x 16 pixels (one zmm per channel,
// Vector512) or 4 channels x 16 pixels (two ymm per channel, Vector256). Per output: bias, then the taps in the
// reference's (channel, ky, kx) order; only FMA rounding separates it from Conv2DScalar (padding taps add w * 0, identical
// for finite weights, as in Conv2DIm2Col).
public static partial class Conv
{
    /// <summary>Largest output plane (pixels) the small-plane path takes.</summary>
    internal const int SmallPlaneMaxPixels = 64;

    /// <summary>Pixels per register tile: one zmm, two ymm.</summary>
    private const int SmallPlaneTile = 16;

    /// <summary>Floats of shifted planes on the stack (48 KiB): c x kw x (oh + kh - 1) x ow.</summary>
    internal const int SmallPlaneBufferFloats = 12288;

    /// <summary>Largest reduction c * kh * kw of the small-plane path (its tap offsets: 8 KiB of stack).</summary>
    internal const int SmallPlaneMaxTaps = 2048;

    /// <summary>Floats of the shifted planes <see cref="Conv2DSmallPlane"/> builds for the shape.</summary>
    internal static long SmallPlaneFloats(int c, int kh, int kw, int oh, int ow) => (long)c * kw * (oh + kh - 1) * ow;

    /// <summary>
    /// Whether <see cref="Conv2DSmallPlane"/> runs the shape: a 256- or 512-bit path, one group, stride 1 and dilation 1,
    /// a kernel larger than 1x1, an output plane of 16 to <see cref="SmallPlaneMaxPixels"/> pixels in whole 16-pixel tiles,
    /// and the shifted planes and tap offsets within their stack bounds.
    /// </summary>
    internal static bool SmallPlaneApplies(Isa isa, int c, int k, int kh, int kw, int oh, int ow,
        int strideH, int strideW, int dilationH, int dilationW, int group)
    {
        int ohw = oh * ow;
        return isa >= Isa.Vector256 && group == 1 && c > 0 && k > 0 && strideH == 1 && strideW == 1 && dilationH == 1 && dilationW == 1
               && kh * kw > 1 && ohw > 0 && ohw <= SmallPlaneMaxPixels && ohw % SmallPlaneTile == 0
               && (long)c * kh * kw <= SmallPlaneMaxTaps && SmallPlaneFloats(c, kh, kw, oh, ow) <= SmallPlaneBufferFloats;
    }

    /// <summary>The register tiles <see cref="Conv2DSmallPlane"/> uses: 8x16 zmm on <see cref="Isa.Vector512"/> with output channels
    /// in multiples of 8, else 4x16 ymm (and 1x16 for the last k mod 4 channels).</summary>
    internal static bool SmallPlaneUses512(Isa isa, int k) => isa == Isa.Vector512 && k % 8 == 0;

    /// <summary>
    /// The small-plane convolution (see the file comment). Stack: <see cref="SmallPlaneBufferFloats"/> floats of shifted
    /// planes and <see cref="SmallPlaneMaxTaps"/> tap offsets (56 KiB). Callers have checked <see cref="SmallPlaneApplies"/>.
    /// </summary>
    [SkipLocalsInit]
    internal static void Conv2DSmallPlane(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y,
        int n, int c, int h, int width, int k, int kh, int kw, int oh, int ow, int padTop, int padLeft,
        Activation act, float p0, float p1, Isa isa)
    {
        int hp = oh + kh - 1, block = hp * ow, taps = c * kh * kw, ohw = oh * ow;
        Span<float> planes = stackalloc float[SmallPlaneBufferFloats];
        Span<int> offsets = stackalloc int[SmallPlaneMaxTaps];
        // Tap t = (ci, ky, kx) reads shifted plane (ci, kx) from row ky.
        for (int t = 0, ci = 0, ky = 0, kx = 0; t < taps; t++)
        {
            offsets[t] = (ci * kw + kx) * block + ky * ow;
            if (++kx == kw) { kx = 0; if (++ky == kh) { ky = 0; ci++; } }
        }
        ref float rx = ref MemoryMarshal.GetReference(x);
        ref float rp = ref MemoryMarshal.GetReference(planes);
        ref int ro = ref MemoryMarshal.GetReference(offsets);
        Isa copyIsa = isa.General();
        bool use512 = SmallPlaneUses512(isa, k);
        for (int b = 0; b < n; b++)
        {
            for (int kx = 0; kx < kw; kx++)
            {
                // Output column ox reads input column ox + s: inside the input for ox in [lo, hi).
                int s = kx - padLeft, lo = Math.Clamp(-s, 0, ow), hi = Math.Clamp(width - s, lo, ow);
                // Rows of exactly one vector (ow = width = 8 or 4, the digits CNN's planes): one load at the shifted position,
                // the columns outside the input masked to 0 (the loaded neighbours are the adjacent rows' or channels'
                // values), wherever the load stays inside x.
                var lanes = Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7);
                var keep = (Vector256.GreaterThanOrEqual(lanes, Vector256.Create(lo)) & Vector256.LessThan(lanes, Vector256.Create(hi))).AsSingle();
                bool oneVector = width == ow && (ow == 8 || ow == 4);
                for (int ci = 0; ci < c; ci++)
                {
                    ref float dst0 = ref Unsafe.Add(ref rp, (ci * kw + kx) * block);
                    for (int r = 0; r < hp; r++)
                    {
                        ref float dst = ref Unsafe.Add(ref dst0, r * ow);
                        int iy = r - padTop;
                        if ((uint)iy >= (uint)h || lo == hi)
                        {
                            MemoryMarshal.CreateSpan(ref dst, ow).Clear();
                            continue;
                        }
                        int src = ((b * c + ci) * h + iy) * width + s;
                        if (oneVector && src >= 0 && src + ow <= x.Length)
                        {
                            if (ow == 8) (Vector256.LoadUnsafe(ref rx, (nuint)src) & keep).StoreUnsafe(ref dst);
                            else (Vector128.LoadUnsafe(ref rx, (nuint)src) & keep.GetLower()).StoreUnsafe(ref dst);
                            continue;
                        }
                        for (int i = 0; i < lo; i++) Unsafe.Add(ref dst, i) = 0f;
                        CopyRow(ref Unsafe.Add(ref rx, ((b * c + ci) * h + iy) * width + lo + s), ref Unsafe.Add(ref dst, lo), hi - lo, copyIsa);
                        for (int i = hi; i < ow; i++) Unsafe.Add(ref dst, i) = 0f;
                    }
                }
            }
            Span<float> yb = y.Slice(b * k * ohw, k * ohw);
            for (int q = 0; q < ohw; q += SmallPlaneTile)
            {
                ref float pq = ref Unsafe.Add(ref rp, q);
                ref float yq = ref Unsafe.Add(ref MemoryMarshal.GetReference(yb), q);
                int ch = 0;
                if (use512)
                    for (; ch < k; ch += 8) SmallTile8x16(ref pq, ref ro, w, bias, ch, taps, ref yq, ohw);
                else
                {
                    for (; ch + 4 <= k; ch += 4) SmallTile4x16(ref pq, ref ro, w, bias, ch, taps, ref yq, ohw);
                    for (; ch < k; ch++) SmallTile1x16(ref pq, ref ro, w, bias, ch, taps, ref yq, ohw);
                }
            }
            if (act != Activation.None) ActivationKernel.ApplyInPlace(act, yb, p0, p1, copyIsa);
        }
    }

    /// <summary>Channels ch..ch+7 x one 16-pixel tile in zmm registers: bias, then w[ch + i][t] * panel[t] for t in order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void SmallTile8x16(ref float pq, ref int off, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, int ch, int taps, ref float yt, int ohw)
    {
        ref float w0 = ref Unsafe.Add(ref MemoryMarshal.GetReference(w), ch * taps);
        ref float w1 = ref Unsafe.Add(ref w0, taps); ref float w2 = ref Unsafe.Add(ref w1, taps); ref float w3 = ref Unsafe.Add(ref w2, taps);
        ref float w4 = ref Unsafe.Add(ref w3, taps); ref float w5 = ref Unsafe.Add(ref w4, taps); ref float w6 = ref Unsafe.Add(ref w5, taps);
        ref float w7 = ref Unsafe.Add(ref w6, taps);
        Vector512<float> a0, a1, a2, a3, a4, a5, a6, a7;
        if (bias.IsEmpty) a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = Vector512<float>.Zero;
        else
        {
            a0 = Vector512.Create(bias[ch]); a1 = Vector512.Create(bias[ch + 1]); a2 = Vector512.Create(bias[ch + 2]); a3 = Vector512.Create(bias[ch + 3]);
            a4 = Vector512.Create(bias[ch + 4]); a5 = Vector512.Create(bias[ch + 5]); a6 = Vector512.Create(bias[ch + 6]); a7 = Vector512.Create(bias[ch + 7]);
        }
        for (int t = 0; t < taps; t++)
        {
            var v = Vector512.LoadUnsafe(ref pq, (nuint)Unsafe.Add(ref off, t));
            a0 = Simd.MulAdd(Vector512.Create(Unsafe.Add(ref w0, t)), v, a0);
            a1 = Simd.MulAdd(Vector512.Create(Unsafe.Add(ref w1, t)), v, a1);
            a2 = Simd.MulAdd(Vector512.Create(Unsafe.Add(ref w2, t)), v, a2);
            a3 = Simd.MulAdd(Vector512.Create(Unsafe.Add(ref w3, t)), v, a3);
            a4 = Simd.MulAdd(Vector512.Create(Unsafe.Add(ref w4, t)), v, a4);
            a5 = Simd.MulAdd(Vector512.Create(Unsafe.Add(ref w5, t)), v, a5);
            a6 = Simd.MulAdd(Vector512.Create(Unsafe.Add(ref w6, t)), v, a6);
            a7 = Simd.MulAdd(Vector512.Create(Unsafe.Add(ref w7, t)), v, a7);
        }
        nuint s = (nuint)ohw, o = (nuint)ch * s;
        a0.StoreUnsafe(ref yt, o); a1.StoreUnsafe(ref yt, o + s); a2.StoreUnsafe(ref yt, o + 2 * s); a3.StoreUnsafe(ref yt, o + 3 * s);
        a4.StoreUnsafe(ref yt, o + 4 * s); a5.StoreUnsafe(ref yt, o + 5 * s); a6.StoreUnsafe(ref yt, o + 6 * s); a7.StoreUnsafe(ref yt, o + 7 * s);
    }

    /// <summary>Channels ch..ch+3 x one 16-pixel tile in ymm registers (two per channel), same order as <see cref="SmallTile8x16"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void SmallTile4x16(ref float pq, ref int off, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, int ch, int taps, ref float yt, int ohw)
    {
        ref float w0 = ref Unsafe.Add(ref MemoryMarshal.GetReference(w), ch * taps);
        ref float w1 = ref Unsafe.Add(ref w0, taps); ref float w2 = ref Unsafe.Add(ref w1, taps); ref float w3 = ref Unsafe.Add(ref w2, taps);
        Vector256<float> a0, b0, a1, b1, a2, b2, a3, b3;
        if (bias.IsEmpty) a0 = b0 = a1 = b1 = a2 = b2 = a3 = b3 = Vector256<float>.Zero;
        else
        {
            a0 = b0 = Vector256.Create(bias[ch]); a1 = b1 = Vector256.Create(bias[ch + 1]);
            a2 = b2 = Vector256.Create(bias[ch + 2]); a3 = b3 = Vector256.Create(bias[ch + 3]);
        }
        for (int t = 0; t < taps; t++)
        {
            nuint at = (nuint)Unsafe.Add(ref off, t);
            var u = Vector256.LoadUnsafe(ref pq, at);
            var v = Vector256.LoadUnsafe(ref pq, at + 8);
            var c0 = Vector256.Create(Unsafe.Add(ref w0, t)); a0 = Simd.MulAdd(c0, u, a0); b0 = Simd.MulAdd(c0, v, b0);
            var c1 = Vector256.Create(Unsafe.Add(ref w1, t)); a1 = Simd.MulAdd(c1, u, a1); b1 = Simd.MulAdd(c1, v, b1);
            var c2 = Vector256.Create(Unsafe.Add(ref w2, t)); a2 = Simd.MulAdd(c2, u, a2); b2 = Simd.MulAdd(c2, v, b2);
            var c3 = Vector256.Create(Unsafe.Add(ref w3, t)); a3 = Simd.MulAdd(c3, u, a3); b3 = Simd.MulAdd(c3, v, b3);
        }
        nuint s = (nuint)ohw, o = (nuint)ch * s;
        a0.StoreUnsafe(ref yt, o); b0.StoreUnsafe(ref yt, o + 8);
        a1.StoreUnsafe(ref yt, o + s); b1.StoreUnsafe(ref yt, o + s + 8);
        a2.StoreUnsafe(ref yt, o + 2 * s); b2.StoreUnsafe(ref yt, o + 2 * s + 8);
        a3.StoreUnsafe(ref yt, o + 3 * s); b3.StoreUnsafe(ref yt, o + 3 * s + 8);
    }

    /// <summary>One channel x one 16-pixel tile (the last k mod 4 channels on the Vector256 tiles).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void SmallTile1x16(ref float pq, ref int off, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, int ch, int taps, ref float yt, int ohw)
    {
        ref float w0 = ref Unsafe.Add(ref MemoryMarshal.GetReference(w), ch * taps);
        var a = bias.IsEmpty ? Vector256<float>.Zero : Vector256.Create(bias[ch]);
        var b = a;
        for (int t = 0; t < taps; t++)
        {
            var c0 = Vector256.Create(Unsafe.Add(ref w0, t));
            nuint o = (nuint)Unsafe.Add(ref off, t);
            a = Simd.MulAdd(c0, Vector256.LoadUnsafe(ref pq, o), a);
            b = Simd.MulAdd(c0, Vector256.LoadUnsafe(ref pq, o + 8), b);
        }
        nuint d = (nuint)(ch * ohw);
        a.StoreUnsafe(ref yt, d); b.StoreUnsafe(ref yt, d + 8);
    }
}
