using System.Numerics;

namespace EdgeCompile.Kernels;

/// <summary>
/// Pow with an integer base or an exponent of another type than the base (opset 12+), broadcasting like
/// <see cref="Elementwise.Binary(BinaryOp, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, ReadOnlySpan{int}, ReadOnlySpan{int}, ReadOnlySpan{int})"/>.
/// Float base: computed in double, rounded once. Integer base, float exponent: the double result truncated toward
/// zero, saturated to int64, wrapped to the base's width. Integer base and exponent: exact, wrapping; a negative
/// exponent gives 1/(x^|y|) truncated (1, ±1 for x = -1, else 0); 0 to a negative power throws DivideByZeroException.
/// </summary>
public static class MixedPow
{
    /// <summary>y = a ^ b (float base, int exponent).</summary>
    public static void Pow(ReadOnlySpan<float> a, ReadOnlySpan<int> b, Span<float> y, ReadOnlySpan<int> outShape, ReadOnlySpan<int> aStrides, ReadOnlySpan<int> bStrides) => Core(a, b, y, outShape, aStrides, bStrides);
    /// <summary>y = a ^ b (float base, long exponent).</summary>
    public static void Pow(ReadOnlySpan<float> a, ReadOnlySpan<long> b, Span<float> y, ReadOnlySpan<int> outShape, ReadOnlySpan<int> aStrides, ReadOnlySpan<int> bStrides) => Core(a, b, y, outShape, aStrides, bStrides);
    /// <summary>y = a ^ b (float base, uint exponent).</summary>
    public static void Pow(ReadOnlySpan<float> a, ReadOnlySpan<uint> b, Span<float> y, ReadOnlySpan<int> outShape, ReadOnlySpan<int> aStrides, ReadOnlySpan<int> bStrides) => Core(a, b, y, outShape, aStrides, bStrides);
    /// <summary>y = a ^ b (float base, ulong exponent).</summary>
    public static void Pow(ReadOnlySpan<float> a, ReadOnlySpan<ulong> b, Span<float> y, ReadOnlySpan<int> outShape, ReadOnlySpan<int> aStrides, ReadOnlySpan<int> bStrides) => Core(a, b, y, outShape, aStrides, bStrides);
    /// <summary>y = a ^ b (double base, int exponent).</summary>
    public static void Pow(ReadOnlySpan<double> a, ReadOnlySpan<int> b, Span<double> y, ReadOnlySpan<int> outShape, ReadOnlySpan<int> aStrides, ReadOnlySpan<int> bStrides) => Core(a, b, y, outShape, aStrides, bStrides);
    /// <summary>y = a ^ b (double base, long exponent).</summary>
    public static void Pow(ReadOnlySpan<double> a, ReadOnlySpan<long> b, Span<double> y, ReadOnlySpan<int> outShape, ReadOnlySpan<int> aStrides, ReadOnlySpan<int> bStrides) => Core(a, b, y, outShape, aStrides, bStrides);
    /// <summary>y = a ^ b (int base, float exponent).</summary>
    public static void Pow(ReadOnlySpan<int> a, ReadOnlySpan<float> b, Span<int> y, ReadOnlySpan<int> outShape, ReadOnlySpan<int> aStrides, ReadOnlySpan<int> bStrides) => Core(a, b, y, outShape, aStrides, bStrides);
    /// <summary>y = a ^ b (long base, float exponent).</summary>
    public static void Pow(ReadOnlySpan<long> a, ReadOnlySpan<float> b, Span<long> y, ReadOnlySpan<int> outShape, ReadOnlySpan<int> aStrides, ReadOnlySpan<int> bStrides) => Core(a, b, y, outShape, aStrides, bStrides);
    /// <summary>y = a ^ b (int base, int exponent).</summary>
    public static void Pow(ReadOnlySpan<int> a, ReadOnlySpan<int> b, Span<int> y, ReadOnlySpan<int> outShape, ReadOnlySpan<int> aStrides, ReadOnlySpan<int> bStrides) => Core(a, b, y, outShape, aStrides, bStrides);
    /// <summary>y = a ^ b (long base, long exponent).</summary>
    public static void Pow(ReadOnlySpan<long> a, ReadOnlySpan<long> b, Span<long> y, ReadOnlySpan<int> outShape, ReadOnlySpan<int> aStrides, ReadOnlySpan<int> bStrides) => Core(a, b, y, outShape, aStrides, bStrides);
    /// <summary>y = a ^ b (int base, long exponent).</summary>
    public static void Pow(ReadOnlySpan<int> a, ReadOnlySpan<long> b, Span<int> y, ReadOnlySpan<int> outShape, ReadOnlySpan<int> aStrides, ReadOnlySpan<int> bStrides) => Core(a, b, y, outShape, aStrides, bStrides);
    /// <summary>y = a ^ b (long base, int exponent).</summary>
    public static void Pow(ReadOnlySpan<long> a, ReadOnlySpan<int> b, Span<long> y, ReadOnlySpan<int> outShape, ReadOnlySpan<int> aStrides, ReadOnlySpan<int> bStrides) => Core(a, b, y, outShape, aStrides, bStrides);

    private static void Core<TA, TB>(ReadOnlySpan<TA> a, ReadOnlySpan<TB> b, Span<TA> y, ReadOnlySpan<int> outShape, ReadOnlySpan<int> aStrides, ReadOnlySpan<int> bStrides)
        where TA : unmanaged, INumber<TA> where TB : unmanaged, INumber<TB>
    {
        int rank = outShape.Length;
        if (rank < 1 || rank > Data.MaxRank || aStrides.Length != rank || bStrides.Length != rank)
            throw new ArgumentException("Pow: outShape and strides must have the same rank, 1..8.", nameof(outShape));
        long total = 1, aMax = 0, bMax = 0;
        for (int d = 0; d < rank; d++)
        {
            if (outShape[d] < 0 || aStrides[d] < 0 || bStrides[d] < 0) throw new ArgumentException("Pow: negative shape or stride.", nameof(outShape));
            total *= outShape[d];
            if (outShape[d] > 0) { aMax += (long)(outShape[d] - 1) * aStrides[d]; bMax += (long)(outShape[d] - 1) * bStrides[d]; }
        }
        if (y.Length != total) throw new ArgumentException("Pow: y length does not match outShape.", nameof(y));
        if (total == 0) return;
        if (aMax >= a.Length || bMax >= b.Length) throw new ArgumentException("Pow: an operand is too short for its strides.", nameof(a));
        bool floatBase = TA.IsZero(TA.CreateTruncating(0.5)) == false; // 0.5 survives only in a floating-point type
        bool floatExp = TB.IsZero(TB.CreateTruncating(0.5)) == false;
        Span<int> idx = stackalloc int[Data.MaxRank];
        idx.Clear();
        int ai = 0, bi = 0;
        for (long i = 0; i < total; i++)
        {
            TA x = a[ai]; TB e = b[bi];
            if (floatBase) y[(int)i] = TA.CreateChecked(Math.Pow(double.CreateChecked(x), double.CreateChecked(e)));
            else if (floatExp)
            {
                double r = Math.Pow(double.CreateChecked(x), double.CreateChecked(e));
                long l = double.IsNaN(r) ? 0 : r >= 9.2233720368547758E18 ? long.MaxValue : r <= -9.2233720368547758E18 ? long.MinValue : (long)r;
                y[(int)i] = TA.CreateTruncating(l);
            }
            else y[(int)i] = TA.CreateTruncating(IntPow(long.CreateChecked(x), long.CreateChecked(e)));
            for (int d = rank - 1; d >= 0; d--)
            {
                if (++idx[d] < outShape[d]) { ai += aStrides[d]; bi += bStrides[d]; break; }
                idx[d] = 0;
                ai -= (outShape[d] - 1) * aStrides[d]; bi -= (outShape[d] - 1) * bStrides[d];
            }
        }
    }

    private static long IntPow(long b, long e)
    {
        if (e < 0)
        {
            if (b == 0) throw new DivideByZeroException("Pow: 0 to a negative integer power.");
            return b == 1 ? 1 : b == -1 ? ((e & 1) == 0 ? 1 : -1) : 0;
        }
        long result = 1;
        ulong ue = (ulong)e;
        while (ue != 0)
        {
            if ((ue & 1) != 0) result = unchecked(result * b);
            b = unchecked(b * b);
            ue >>= 1;
        }
        return result;
    }
}
