using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace EdgeCompile.Kernels;

/// <summary>Softmax / LogSoftmax, LayerNormalization and the per-channel affine of an unfused BatchNormalization.</summary>
public static partial class Normalization
{
    /// <summary>
    /// Softmax (or LogSoftmax when <paramref name="log"/>) along the middle axis of x viewed as [outer, axis, inner]:
    /// y = e^(x - max) / Σ e^(x - max), or (x - max) - ln Σ e^(x - max).
    /// </summary>
    /// <exception cref="ArgumentException">x or y is not outer*axis*inner long.</exception>
    public static void Softmax(ReadOnlySpan<float> x, Span<float> y, int outer, int axis, int inner, bool log)
    {
        ValidateSoftmax(x, y, outer, axis, inner);
        SoftmaxCore(x, y, outer, axis, inner, log, KernelPaths.Best);
    }

    /// <summary>
    /// LayerNormalization over the last <paramref name="inner"/> elements of each of <paramref name="outer"/> rows:
    /// y = (x - mean) / √(var + epsilon) · scale + bias, with the population variance; bias may be empty.
    /// </summary>
    /// <exception cref="ArgumentException">A span length does not match outer and inner.</exception>
    public static void LayerNorm(ReadOnlySpan<float> x, ReadOnlySpan<float> scale, ReadOnlySpan<float> bias, Span<float> y, int outer, int inner, float epsilon)
    {
        ValidateLayerNorm(x, scale, bias, y, outer, inner);
        LayerNormCore(x, scale, bias, y, outer, inner, epsilon, KernelPaths.Best);
    }

    /// <summary>y[n, c, s] = x[n, c, s] · scale[c] + shift[c] (an unfused BatchNormalization).</summary>
    /// <exception cref="ArgumentException">A span length does not match n, c and spatial.</exception>
    public static void ChannelAffine(ReadOnlySpan<float> x, ReadOnlySpan<float> scale, ReadOnlySpan<float> shift, Span<float> y, int n, int c, int spatial)
    {
        ValidateChannelAffine(x, scale, shift, y, n, c, spatial);
        ChannelAffineCore(x, scale, shift, y, n, c, spatial, KernelPaths.Best);
    }

    // ---------------------------------------------------------------- validation

    internal static void ValidateSoftmax(ReadOnlySpan<float> x, Span<float> y, int outer, int axis, int inner)
    {
        if (outer < 0 || axis < 0 || inner < 0) throw new ArgumentException($"Softmax: negative outer={outer}, axis={axis}, inner={inner}.", nameof(outer));
        long len = (long)outer * axis * inner;
        if (x.Length != len) throw new ArgumentException($"Softmax: x has {x.Length} elements, expected outer*axis*inner = {len}.", nameof(x));
        if (y.Length != len) throw new ArgumentException($"Softmax: y has {y.Length} elements, expected outer*axis*inner = {len}.", nameof(y));
    }

    internal static void ValidateLayerNorm(ReadOnlySpan<float> x, ReadOnlySpan<float> scale, ReadOnlySpan<float> bias, Span<float> y, int outer, int inner)
    {
        if (outer < 0 || inner < 0) throw new ArgumentException($"LayerNorm: negative outer={outer} or inner={inner}.", nameof(outer));
        long len = (long)outer * inner;
        if (x.Length != len) throw new ArgumentException($"LayerNorm: x has {x.Length} elements, expected outer*inner = {len}.", nameof(x));
        if (y.Length != len) throw new ArgumentException($"LayerNorm: y has {y.Length} elements, expected outer*inner = {len}.", nameof(y));
        if (scale.Length != inner) throw new ArgumentException($"LayerNorm: scale has {scale.Length} elements, expected inner = {inner}.", nameof(scale));
        if (!bias.IsEmpty && bias.Length != inner) throw new ArgumentException($"LayerNorm: bias has {bias.Length} elements, expected 0 or inner = {inner}.", nameof(bias));
    }

    internal static void ValidateChannelAffine(ReadOnlySpan<float> x, ReadOnlySpan<float> scale, ReadOnlySpan<float> shift, Span<float> y, int n, int c, int spatial)
    {
        if (n < 0 || c < 0 || spatial < 0) throw new ArgumentException($"ChannelAffine: negative n={n}, c={c} or spatial={spatial}.", nameof(n));
        long len = (long)n * c * spatial;
        if (x.Length != len) throw new ArgumentException($"ChannelAffine: x has {x.Length} elements, expected n*c*spatial = {len}.", nameof(x));
        if (y.Length != len) throw new ArgumentException($"ChannelAffine: y has {y.Length} elements, expected n*c*spatial = {len}.", nameof(y));
        if (scale.Length != c) throw new ArgumentException($"ChannelAffine: scale has {scale.Length} elements, expected c = {c}.", nameof(scale));
        if (shift.Length != c) throw new ArgumentException($"ChannelAffine: shift has {shift.Length} elements, expected c = {c}.", nameof(shift));
    }

    // ---------------------------------------------------------------- scalar references

    /// <summary>The specification of <see cref="Softmax(ReadOnlySpan{float}, Span{float}, int, int, int, bool)"/>.</summary>
    internal static void SoftmaxScalar(ReadOnlySpan<float> x, Span<float> y, int outer, int axis, int inner, bool log)
    {
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                int b = o * axis * inner + i;
                float m = float.NegativeInfinity;
                for (int a = 0; a < axis; a++) m = MathF.Max(m, x[b + a * inner]);
                float s = 0f;
                for (int a = 0; a < axis; a++) s += MathF.Exp(x[b + a * inner] - m);
                if (log)
                {
                    float ls = MathF.Log(s);
                    for (int a = 0; a < axis; a++) y[b + a * inner] = x[b + a * inner] - m - ls;
                }
                else
                {
                    for (int a = 0; a < axis; a++) y[b + a * inner] = MathF.Exp(x[b + a * inner] - m) / s;
                }
            }
    }

    /// <summary>The specification of <see cref="LayerNorm"/>.</summary>
    internal static void LayerNormScalar(ReadOnlySpan<float> x, ReadOnlySpan<float> scale, ReadOnlySpan<float> bias, Span<float> y, int outer, int inner, float epsilon)
    {
        for (int o = 0; o < outer; o++)
        {
            ReadOnlySpan<float> row = x.Slice(o * inner, inner);
            float sum = 0f;
            foreach (float v in row) sum += v;
            float mean = sum / inner;
            float sq = 0f;
            foreach (float v in row) { float d = v - mean; sq += d * d; }
            float inv = 1f / MathF.Sqrt(sq / inner + epsilon);
            for (int j = 0; j < inner; j++)
                y[o * inner + j] = (row[j] - mean) * inv * scale[j] + (bias.IsEmpty ? 0f : bias[j]);
        }
    }

    /// <summary>The specification of <see cref="ChannelAffine"/>.</summary>
    internal static void ChannelAffineScalar(ReadOnlySpan<float> x, ReadOnlySpan<float> scale, ReadOnlySpan<float> shift, Span<float> y, int n, int c, int spatial)
    {
        for (int b = 0; b < n; b++)
            for (int ch = 0; ch < c; ch++)
                for (int s = 0; s < spatial; s++)
                {
                    int i = (b * c + ch) * spatial + s;
                    y[i] = x[i] * scale[ch] + shift[ch];
                }
    }

    // ---------------------------------------------------------------- fast paths

    /// <summary>
    /// inner == 1 (softmax over the last axis): vector max, then one pass of vector exp
    /// (<see cref="VectorMath.Exp(Vector256{float})"/>, 2 ulp) that stores e and sums it (reordered), then a multiply by
    /// 1/Σ (one more rounding than the reference's divide: ≤ 1.5 ulp more). <paramref name="wide"/>: 512-bit vectors
    /// for the maximum, the exp pass (<see cref="VectorMath.ExpRow"/>: 4e-7 relative there) and the scaling on the Vector256
    /// path where the CPU accelerates them (the tests pass false too), two rows at a time. inner &gt; 1: 4 lanes across
    /// inner at a time, each lane following the reference's order, with the vector exp.
    /// </summary>
    internal static void SoftmaxCore(ReadOnlySpan<float> x, Span<float> y, int outer, int axis, int inner, bool log, Isa isa, bool wide = true)
    {
        if (isa == Isa.Scalar) { SoftmaxScalar(x, y, outer, axis, inner, log); return; }
        if (inner == 1)
        {
            bool w512 = wide && isa == Isa.Vector256 && Vector512.IsHardwareAccelerated && axis >= 16;
            int o = 0;
            if (w512 && !log)
            {
                // Two rows at a time: each row is one dependency chain (max, exp-and-sum, 1/Σ, scaling), two give the
                // core independent work to overlap.
                for (; o + 1 < outer; o += 2)
                {
                    ReadOnlySpan<float> xa = x.Slice(o * axis, axis), xb = x.Slice((o + 1) * axis, axis);
                    Span<float> ya = y.Slice(o * axis, axis), yb = y.Slice((o + 1) * axis, axis);
                    float ma = MaxRow512(xa), mb = MaxRow512(xb);
                    float sa = VectorMath.ExpRow(xa, ma, ya, isa, wide), sb = VectorMath.ExpRow(xb, mb, yb, isa, wide);
                    ScaleRow(ya, 1f / sa, isa, wide);
                    ScaleRow(yb, 1f / sb, isa, wide);
                }
            }
            for (; o < outer; o++)
            {
                ReadOnlySpan<float> xr = x.Slice(o * axis, axis);
                Span<float> yr = y.Slice(o * axis, axis);
                float m = w512 ? MaxRow512(xr) : Reduce.MaxRow(xr, isa);
                if (log)
                {
                    float s = VectorMath.ExpSumRow(xr, m, isa);
                    float ls = MathF.Log(s);
                    for (int a = 0; a < axis; a++) yr[a] = xr[a] - m - ls;
                }
                else
                {
                    float s = VectorMath.ExpRow(xr, m, yr, isa, wide);
                    ScaleRow(yr, 1f / s, isa, wide);
                }
            }
            return;
        }
        ref float rx = ref MemoryMarshal.GetReference(x);
        ref float ry = ref MemoryMarshal.GetReference(y);
        for (int o = 0; o < outer; o++)
        {
            int b = o * axis * inner;
            int i = 0;
            for (; i <= inner - 4; i += 4)
            {
                var m = Vector128.Create(float.NegativeInfinity);
                for (int a = 0; a < axis; a++) m = Vector128.Max(m, Vector128.LoadUnsafe(ref rx, (nuint)(b + a * inner + i)));
                var s = Vector128<float>.Zero;
                for (int a = 0; a < axis; a++)
                {
                    var d = Vector128.LoadUnsafe(ref rx, (nuint)(b + a * inner + i)) - m;
                    var e = VectorMath.Exp(d);
                    s += e;
                    if (!log) e.StoreUnsafe(ref ry, (nuint)(b + a * inner + i));
                }
                if (log)
                {
                    var ls = Vector128.Create(MathF.Log(s.GetElement(0)), MathF.Log(s.GetElement(1)), MathF.Log(s.GetElement(2)), MathF.Log(s.GetElement(3)));
                    for (int a = 0; a < axis; a++)
                    {
                        nuint at = (nuint)(b + a * inner + i);
                        (Vector128.LoadUnsafe(ref rx, at) - m - ls).StoreUnsafe(ref ry, at);
                    }
                }
                else
                {
                    for (int a = 0; a < axis; a++)
                    {
                        nuint at = (nuint)(b + a * inner + i);
                        (Vector128.LoadUnsafe(ref ry, at) / s).StoreUnsafe(ref ry, at);
                    }
                }
            }
            if (i < inner)
                SoftmaxColumns(x.Slice(b), y.Slice(b), axis, inner, log, i);
        }
    }

    /// <summary>The reference for the columns [from, inner) of one outer row.</summary>
    private static void SoftmaxColumns(ReadOnlySpan<float> x, Span<float> y, int axis, int inner, bool log, int from)
    {
        for (int i = from; i < inner; i++)
        {
            float m = float.NegativeInfinity;
            for (int a = 0; a < axis; a++) m = MathF.Max(m, x[a * inner + i]);
            float s = 0f;
            for (int a = 0; a < axis; a++) s += MathF.Exp(x[a * inner + i] - m);
            float ls = MathF.Log(s);
            for (int a = 0; a < axis; a++)
                y[a * inner + i] = log ? x[a * inner + i] - m - ls : MathF.Exp(x[a * inner + i] - m) / s;
        }
    }

    /// <summary>
    /// The row's maximum with 512-bit vectors (len ≥ 16; the last vector overlaps the previous ones, which a maximum
    /// allows). A NaN anywhere makes the softmax row NaN either way (as the reference's MathF.Max chain does): through
    /// the maximum, or through e^(NaN - m) in the sum.
    /// </summary>
    internal static float MaxRow512(ReadOnlySpan<float> row)
    {
        ref float r = ref MemoryMarshal.GetReference(row);
        int len = row.Length, i = 0;
        var m0 = Vector512.LoadUnsafe(ref r);
        var m1 = m0;
        for (; i <= len - 32; i += 32)
        {
            m0 = Vector512.Max(m0, Vector512.LoadUnsafe(ref r, (nuint)i));
            m1 = Vector512.Max(m1, Vector512.LoadUnsafe(ref r, (nuint)(i + 16)));
        }
        for (; i <= len - 16; i += 16) m0 = Vector512.Max(m0, Vector512.LoadUnsafe(ref r, (nuint)i));
        if (i < len) m1 = Vector512.Max(m1, Vector512.LoadUnsafe(ref r, (nuint)(len - 16)));
        m0 = Vector512.Max(m0, m1);
        var m256 = Vector256.Max(m0.GetLower(), m0.GetUpper());
        var m128 = Vector128.Max(m256.GetLower(), m256.GetUpper());
        float m = MathF.Max(MathF.Max(m128.GetElement(0), m128.GetElement(1)), MathF.Max(m128.GetElement(2), m128.GetElement(3)));
        return m;
    }

    /// <summary>y[i] *= f.</summary>
    internal static void ScaleRow(Span<float> y, float f, Isa isa, bool wide)
    {
        ref float r = ref MemoryMarshal.GetReference(y);
        int i = 0, len = y.Length;
        if (isa == Isa.Vector256 && wide && Vector512.IsHardwareAccelerated)
        {
            var vf = Vector512.Create(f);
            for (; i <= len - 16; i += 16) (Vector512.LoadUnsafe(ref r, (nuint)i) * vf).StoreUnsafe(ref r, (nuint)i);
        }
        if (isa == Isa.Vector256)
        {
            var vf = Vector256.Create(f);
            for (; i <= len - 8; i += 8) (Vector256.LoadUnsafe(ref r, (nuint)i) * vf).StoreUnsafe(ref r, (nuint)i);
        }
        var vf4 = Vector128.Create(f);
        for (; i <= len - 4; i += 4) (Vector128.LoadUnsafe(ref r, (nuint)i) * vf4).StoreUnsafe(ref r, (nuint)i);
        for (; i < len; i++) Unsafe.Add(ref r, i) *= f;
    }

    /// <summary>Vector sums for mean and variance (reordered), then a vector normalise-scale-shift per row.</summary>
    internal static void LayerNormCore(ReadOnlySpan<float> x, ReadOnlySpan<float> scale, ReadOnlySpan<float> bias, Span<float> y, int outer, int inner, float epsilon, Isa isa)
    {
        if (isa == Isa.Scalar) { LayerNormScalar(x, scale, bias, y, outer, inner, epsilon); return; }
        ref float rs = ref MemoryMarshal.GetReference(scale);
        ref float rb = ref MemoryMarshal.GetReference(bias);
        bool hasBias = !bias.IsEmpty;
        for (int o = 0; o < outer; o++)
        {
            ReadOnlySpan<float> row = x.Slice(o * inner, inner);
            Span<float> yr = y.Slice(o * inner, inner);
            float mean = Reduce.SumRow(row, isa) / inner;
            float sq = SquaredDeviation(row, mean, isa);
            float inv = 1f / MathF.Sqrt(sq / inner + epsilon);
            ref float rx = ref MemoryMarshal.GetReference(row);
            ref float ry = ref MemoryMarshal.GetReference(yr);
            int j = 0;
            if (isa == Isa.Vector256)
            {
                var vm = Vector256.Create(mean); var vi = Vector256.Create(inv);
                for (; j <= inner - 8; j += 8)
                {
                    var v = (Vector256.LoadUnsafe(ref rx, (nuint)j) - vm) * vi * Vector256.LoadUnsafe(ref rs, (nuint)j);
                    v += hasBias ? Vector256.LoadUnsafe(ref rb, (nuint)j) : Vector256<float>.Zero;
                    v.StoreUnsafe(ref ry, (nuint)j);
                }
            }
            {
                var vm = Vector128.Create(mean); var vi = Vector128.Create(inv);
                for (; j <= inner - 4; j += 4)
                {
                    var v = (Vector128.LoadUnsafe(ref rx, (nuint)j) - vm) * vi * Vector128.LoadUnsafe(ref rs, (nuint)j);
                    v += hasBias ? Vector128.LoadUnsafe(ref rb, (nuint)j) : Vector128<float>.Zero;
                    v.StoreUnsafe(ref ry, (nuint)j);
                }
            }
            for (; j < inner; j++) yr[j] = (row[j] - mean) * inv * scale[j] + (hasBias ? bias[j] : 0f);
        }
    }

    private static float SquaredDeviation(ReadOnlySpan<float> row, float mean, Isa isa)
    {
        ref float r = ref MemoryMarshal.GetReference(row);
        int i = 0, len = row.Length;
        float s = 0f;
        if (isa == Isa.Vector256 && len >= 8)
        {
            var vm = Vector256.Create(mean);
            var acc = Vector256<float>.Zero;
            for (; i <= len - 8; i += 8) { var d = Vector256.LoadUnsafe(ref r, (nuint)i) - vm; acc += d * d; }
            s = Vector256.Sum(acc);
        }
        else if (len >= 4)
        {
            var vm = Vector128.Create(mean);
            var acc = Vector128<float>.Zero;
            for (; i <= len - 4; i += 4) { var d = Vector128.LoadUnsafe(ref r, (nuint)i) - vm; acc += d * d; }
            s = Vector128.Sum(acc);
        }
        for (; i < len; i++) { float d = Unsafe.Add(ref r, i) - mean; s += d * d; }
        return s;
    }

    /// <summary>Per (image, channel) plane a vector x · scale + shift (not fused, so bit-exact with the reference).</summary>
    internal static void ChannelAffineCore(ReadOnlySpan<float> x, ReadOnlySpan<float> scale, ReadOnlySpan<float> shift, Span<float> y, int n, int c, int spatial, Isa isa)
    {
        if (isa == Isa.Scalar) { ChannelAffineScalar(x, scale, shift, y, n, c, spatial); return; }
        for (int b = 0; b < n; b++)
            for (int ch = 0; ch < c; ch++)
            {
                int o = (b * c + ch) * spatial;
                ref float rx = ref MemoryMarshal.GetReference(x.Slice(o, spatial));
                ref float ry = ref MemoryMarshal.GetReference(y.Slice(o, spatial));
                float sc = scale[ch], sh = shift[ch];
                int i = 0;
                if (isa == Isa.Vector256)
                {
                    var vs = Vector256.Create(sc); var vh = Vector256.Create(sh);
                    for (; i <= spatial - 8; i += 8) (Vector256.LoadUnsafe(ref rx, (nuint)i) * vs + vh).StoreUnsafe(ref ry, (nuint)i);
                }
                var vs4 = Vector128.Create(sc); var vh4 = Vector128.Create(sh);
                for (; i <= spatial - 4; i += 4) (Vector128.LoadUnsafe(ref rx, (nuint)i) * vs4 + vh4).StoreUnsafe(ref ry, (nuint)i);
                for (; i < spatial; i++) Unsafe.Add(ref ry, i) = Unsafe.Add(ref rx, i) * sc + sh;
            }
    }
}
