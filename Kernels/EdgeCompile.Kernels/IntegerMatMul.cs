using System.Numerics;
using System.Runtime.CompilerServices;

namespace EdgeCompile.Kernels;

/// <summary>
/// ONNX MatMulInteger and QLinearMatMul on float models' int8/uint8 tensors with arbitrary zero points: scalar
/// reference kernels (the fast int8 path is Int8/QGemm, for the compiler's own quantization scheme). Batched as
/// <see cref="Gemm.MatMul"/>: y[batch, m, n] from a[batch, m, k] and b[batch, k, n], with element strides between
/// batches (0 = the one matrix is shared). Zero points and scales of a have 1 entry (per tensor) or m (per row),
/// those of b 1 or n (per column); y's are per tensor. Products are summed exactly (64-bit).
/// Type arguments are explicit in the plan (C# infers none from arena spans): TA, TB ∈ {byte, sbyte}.
/// </summary>
public static class IntegerMatMul
{
    /// <summary>MatMulInteger: y = Σ_k (a - aZero) (b - bZero), wrapped to int32. Empty zero points are 0.</summary>
    public static void Run<TA, TB>(ReadOnlySpan<TA> a, ReadOnlySpan<TA> aZero, ReadOnlySpan<TB> b, ReadOnlySpan<TB> bZero, Span<int> y,
        int batch, int m, int k, int n, int aBatchStride, int bBatchStride)
        where TA : unmanaged, IBinaryInteger<TA> where TB : unmanaged, IBinaryInteger<TB>
    {
        Check("IntegerMatMul.Run", a.Length, aZero.Length, b.Length, bZero.Length, y.Length, batch, m, k, n, aBatchStride, bBatchStride);
        for (int t = 0; t < batch; t++)
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                    y[(t * m + i) * n + j] = unchecked((int)Dot(a, aZero, b, bZero, t * aBatchStride, t * bBatchStride, i, j, k, n));
    }

    /// <summary>
    /// QLinearMatMul: y = saturate(round_half_even(acc · multiplier) + yZero), acc as in <see cref="Run"/>, and
    /// multiplier = round_S(round_S(aScale · bScale) / yScale) evaluated in the scales' type S (float or Half), as
    /// the ONNX reference does. yScale and yZero have one element.
    /// </summary>
    public static void QLinear<TA, TB, TY, TS>(ReadOnlySpan<TA> a, ReadOnlySpan<TS> aScale, ReadOnlySpan<TA> aZero,
        ReadOnlySpan<TB> b, ReadOnlySpan<TS> bScale, ReadOnlySpan<TB> bZero, ReadOnlySpan<TS> yScale, ReadOnlySpan<TY> yZero, Span<TY> y,
        int batch, int m, int k, int n, int aBatchStride, int bBatchStride)
        where TA : unmanaged, IBinaryInteger<TA> where TB : unmanaged, IBinaryInteger<TB>
        where TY : unmanaged, IBinaryInteger<TY>, IMinMaxValue<TY> where TS : unmanaged
    {
        Check("IntegerMatMul.QLinear", a.Length, aZero.Length, b.Length, bZero.Length, y.Length, batch, m, k, n, aBatchStride, bBatchStride);
        if (aScale.Length != 1 && aScale.Length != m) throw new ArgumentException($"IntegerMatMul.QLinear: aScale has {aScale.Length} elements, expected 1 or {m}.", nameof(aScale));
        if (bScale.Length != 1 && bScale.Length != n) throw new ArgumentException($"IntegerMatMul.QLinear: bScale has {bScale.Length} elements, expected 1 or {n}.", nameof(bScale));
        if (yScale.Length != 1) throw new ArgumentException("IntegerMatMul.QLinear: yScale must have one element.", nameof(yScale));
        if (yZero.Length != 1) throw new ArgumentException("IntegerMatMul.QLinear: yZero must have one element.", nameof(yZero));
        double sy = Scales.ToDouble(yScale[0]);
        double zy = long.CreateTruncating(yZero[0]);
        for (int t = 0; t < batch; t++)
            for (int i = 0; i < m; i++)
            {
                double sa = Scales.ToDouble(aScale[aScale.Length == 1 ? 0 : i]);
                for (int j = 0; j < n; j++)
                {
                    double sb = Scales.ToDouble(bScale[bScale.Length == 1 ? 0 : j]);
                    double multiplier = Scales.Round<TS>(Scales.Round<TS>(sa * sb) / sy);
                    long acc = k == 0 ? 0 : Dot(a, aZero, b, bZero, t * aBatchStride, t * bBatchStride, i, j, k, n);
                    y[(t * m + i) * n + j] = Scales.Saturate<TY>(Math.Round(acc * multiplier, MidpointRounding.ToEven) + zy);
                }
            }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static long Dot<TA, TB>(ReadOnlySpan<TA> a, ReadOnlySpan<TA> aZero, ReadOnlySpan<TB> b, ReadOnlySpan<TB> bZero,
        int aOffset, int bOffset, int i, int j, int k, int n)
        where TA : unmanaged, IBinaryInteger<TA> where TB : unmanaged, IBinaryInteger<TB>
    {
        long za = aZero.IsEmpty ? 0 : long.CreateTruncating(aZero[aZero.Length == 1 ? 0 : i]);
        long zb = bZero.IsEmpty ? 0 : long.CreateTruncating(bZero[bZero.Length == 1 ? 0 : j]);
        long acc = 0;
        int ar = aOffset + i * k;
        for (int p = 0; p < k; p++)
            acc += (long.CreateTruncating(a[ar + p]) - za) * (long.CreateTruncating(b[bOffset + p * n + j]) - zb);
        return acc;
    }

    private static void Check(string kernel, int aLength, int aZeroLength, int bLength, int bZeroLength, int yLength,
        int batch, int m, int k, int n, int aBatchStride, int bBatchStride)
    {
        if (batch < 0 || m < 0 || k < 0 || n < 0 || aBatchStride < 0 || bBatchStride < 0)
            throw new ArgumentException($"{kernel}: negative size or stride.");
        if (yLength != (long)batch * m * n) throw new ArgumentException($"{kernel}: y has {yLength} elements, expected {(long)batch * m * n}.", "y");
        if (batch > 0 && (long)(batch - 1) * aBatchStride + (long)m * k > aLength) throw new ArgumentException($"{kernel}: a has {aLength} elements, too few for {batch} x [{m}, {k}] with batch stride {aBatchStride}.", "a");
        if (batch > 0 && (long)(batch - 1) * bBatchStride + (long)k * n > bLength) throw new ArgumentException($"{kernel}: b has {bLength} elements, too few for {batch} x [{k}, {n}] with batch stride {bBatchStride}.", "b");
        if (aZeroLength is not (0 or 1) && aZeroLength != m) throw new ArgumentException($"{kernel}: aZero has {aZeroLength} elements, expected 0, 1 or {m}.", "aZero");
        if (bZeroLength is not (0 or 1) && bZeroLength != n) throw new ArgumentException($"{kernel}: bZero has {bZeroLength} elements, expected 0, 1 or {n}.", "bZero");
    }
}

/// <summary>Scale arithmetic of the quantized reference kernels (IntegerMatMul, IntegerConv).</summary>
internal static class Scales
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double ToDouble<TS>(TS v) where TS : unmanaged
    {
        if (typeof(TS) == typeof(float)) return Unsafe.As<TS, float>(ref v);
        if (typeof(TS) == typeof(Half)) return (double)Unsafe.As<TS, Half>(ref v);
        if (typeof(TS) == typeof(double)) return Unsafe.As<TS, double>(ref v);
        throw new NotSupportedException($"Scale type {typeof(TS).Name} is not supported (float, Half, double).");
    }

    /// <summary>v rounded to the scale type (to nearest, ties to even).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Round<TS>(double v) where TS : unmanaged
    {
        if (typeof(TS) == typeof(float)) return (float)v;
        if (typeof(TS) == typeof(Half)) return (double)(Half)v;
        return v;
    }

    /// <summary>An integer-valued double clamped to TY's range.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TY Saturate<TY>(double v) where TY : unmanaged, IBinaryInteger<TY>, IMinMaxValue<TY>
    {
        double lo = double.CreateTruncating(TY.MinValue), hi = double.CreateTruncating(TY.MaxValue);
        return TY.CreateTruncating((long)Math.Clamp(v, lo, hi));
    }
}
