using System.Numerics;
using System.Runtime.CompilerServices;

namespace EdgeCompile.Kernels;

/// <summary>Comparisons producing bool (ONNX Equal, Less, LessOrEqual, Greater, GreaterOrEqual).</summary>
public enum CompareOp
{
    /// <summary>a == b (NaN is never equal).</summary>
    Equal,
    /// <summary>a &lt; b.</summary>
    Less,
    /// <summary>a &lt;= b.</summary>
    LessOrEqual,
    /// <summary>a &gt; b.</summary>
    Greater,
    /// <summary>a &gt;= b.</summary>
    GreaterOrEqual,
}

/// <summary>Boolean binary operators (ONNX And, Or, Xor).</summary>
public enum LogicOp
{
    /// <summary>a ∧ b.</summary>
    And,
    /// <summary>a ∨ b.</summary>
    Or,
    /// <summary>a ⊕ b.</summary>
    Xor,
}

/// <summary>
/// Element-wise kernels over types other than float32: Cast, comparisons, logic, Where, and integer/double arithmetic.
/// Broadcasting works as in <see cref="Binary(BinaryOp, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, ReadOnlySpan{int}, ReadOnlySpan{int}, ReadOnlySpan{int})"/>:
/// per-output-dimension element strides, 0 where an operand is broadcast. Overloads per input element type let C#
/// infer the types from the arguments (a <c>Span&lt;T&gt;</c> argument does not infer a <c>ReadOnlySpan&lt;T&gt;</c> parameter's T).
/// </summary>
public static partial class Elementwise
{
    // ================================================================ Cast

    /// <summary>ONNX Cast: float→integer truncates toward zero (NaN → 0, out of range saturates to the 64-bit range, then wraps to the width), integer→integer wraps, anything→bool is "not zero".</summary>
    public static void Cast<TOut>(ReadOnlySpan<float> x, Span<TOut> y) where TOut : unmanaged => CastCore(x, y);
    /// <inheritdoc cref="Cast{TOut}(ReadOnlySpan{float}, Span{TOut})"/>
    public static void Cast<TOut>(ReadOnlySpan<double> x, Span<TOut> y) where TOut : unmanaged => CastCore(x, y);
    /// <inheritdoc cref="Cast{TOut}(ReadOnlySpan{float}, Span{TOut})"/>
    public static void Cast<TOut>(ReadOnlySpan<long> x, Span<TOut> y) where TOut : unmanaged => CastCore(x, y);
    /// <inheritdoc cref="Cast{TOut}(ReadOnlySpan{float}, Span{TOut})"/>
    public static void Cast<TOut>(ReadOnlySpan<int> x, Span<TOut> y) where TOut : unmanaged => CastCore(x, y);
    /// <inheritdoc cref="Cast{TOut}(ReadOnlySpan{float}, Span{TOut})"/>
    public static void Cast<TOut>(ReadOnlySpan<short> x, Span<TOut> y) where TOut : unmanaged => CastCore(x, y);
    /// <inheritdoc cref="Cast{TOut}(ReadOnlySpan{float}, Span{TOut})"/>
    public static void Cast<TOut>(ReadOnlySpan<sbyte> x, Span<TOut> y) where TOut : unmanaged => CastCore(x, y);
    /// <inheritdoc cref="Cast{TOut}(ReadOnlySpan{float}, Span{TOut})"/>
    public static void Cast<TOut>(ReadOnlySpan<byte> x, Span<TOut> y) where TOut : unmanaged => CastCore(x, y);
    /// <inheritdoc cref="Cast{TOut}(ReadOnlySpan{float}, Span{TOut})"/>
    public static void Cast<TOut>(ReadOnlySpan<ushort> x, Span<TOut> y) where TOut : unmanaged => CastCore(x, y);
    /// <inheritdoc cref="Cast{TOut}(ReadOnlySpan{float}, Span{TOut})"/>
    public static void Cast<TOut>(ReadOnlySpan<bool> x, Span<TOut> y) where TOut : unmanaged => CastCore(x, y);
    /// <inheritdoc cref="Cast{TOut}(ReadOnlySpan{float}, Span{TOut})"/>
    public static void Cast<TOut>(ReadOnlySpan<Half> x, Span<TOut> y) where TOut : unmanaged => CastCore(x, y);
    /// <inheritdoc cref="Cast{TOut}(ReadOnlySpan{float}, Span{TOut})"/>
    public static void Cast<TOut>(ReadOnlySpan<BFloat16> x, Span<TOut> y) where TOut : unmanaged => CastCore(x, y);
    /// <inheritdoc cref="Cast{TOut}(ReadOnlySpan{float}, Span{TOut})"/>
    public static void Cast<TOut>(ReadOnlySpan<uint> x, Span<TOut> y) where TOut : unmanaged => CastCore(x, y);
    /// <inheritdoc cref="Cast{TOut}(ReadOnlySpan{float}, Span{TOut})"/>
    public static void Cast<TOut>(ReadOnlySpan<ulong> x, Span<TOut> y) where TOut : unmanaged => CastCore(x, y);

    internal static void CastCore<TIn, TOut>(ReadOnlySpan<TIn> x, Span<TOut> y) where TIn : unmanaged where TOut : unmanaged
    {
        if (x.Length != y.Length) throw new ArgumentException($"Cast: x has {x.Length} elements but y has {y.Length}.", nameof(y));
        CheckType<TIn>("Cast");
        CheckType<TOut>("Cast");
        // The JIT specialises per (TIn, TOut): the type tests below fold to one conversion.
        if (IsFloating<TIn>())
            for (int i = 0; i < x.Length; i++) y[i] = FromDouble<TOut>(ToDouble(x[i]));
        else if (typeof(TIn) == typeof(ulong) && IsFloating<TOut>())
            for (int i = 0; i < x.Length; i++)
            {
                TIn v = x[i];
                y[i] = FromDouble<TOut>(RoundInteger(Unsafe.As<TIn, ulong>(ref v), false, MantissaBits<TOut>()));
            }
        else if (typeof(TOut) == typeof(BFloat16))
            for (int i = 0; i < x.Length; i++)
            {
                long v = ToInt64(x[i]);
                y[i] = FromDouble<TOut>(RoundInteger(v < 0 ? unchecked((ulong)-v) : (ulong)v, v < 0, 8));
            }
        else
            for (int i = 0; i < x.Length; i++) y[i] = FromInt64<TOut>(ToInt64(x[i]));
    }

    private static int MantissaBits<T>() =>
        typeof(T) == typeof(double) ? 53 : typeof(T) == typeof(float) ? 24 : typeof(T) == typeof(Half) ? 11 : 8;

    /// <summary>
    /// ±magnitude rounded to <paramref name="bits"/> significant bits, ties to even, as a double (exact: bits ≤ 53).
    /// Integer → float casts round once this way; the final conversion to the target type is then exact (or
    /// overflows to infinity exactly when the correctly rounded value does).
    /// </summary>
    internal static double RoundInteger(ulong magnitude, bool negative, int bits)
    {
        if (magnitude == 0) return 0;
        int width = 64 - BitOperations.LeadingZeroCount(magnitude);
        int drop = width - bits;
        double v;
        if (drop <= 0) v = magnitude;
        else
        {
            ulong kept = magnitude >> drop;
            ulong rest = magnitude & ((1UL << drop) - 1);
            ulong half = 1UL << (drop - 1);
            if (rest > half || (rest == half && (kept & 1) == 1)) kept++;
            v = Math.ScaleB(kept, drop);
        }
        return negative ? -v : v;
    }

    private static void CheckType<T>(string kernel)
    {
        if (typeof(T) != typeof(float) && typeof(T) != typeof(double) && typeof(T) != typeof(long) && typeof(T) != typeof(int)
            && typeof(T) != typeof(short) && typeof(T) != typeof(sbyte) && typeof(T) != typeof(byte) && typeof(T) != typeof(ushort) && typeof(T) != typeof(bool)
            && typeof(T) != typeof(Half) && typeof(T) != typeof(BFloat16) && typeof(T) != typeof(uint) && typeof(T) != typeof(ulong))
            throw new NotSupportedException($"{kernel}: element type {typeof(T).Name} is not supported.");
    }

    private static bool IsFloating<T>() => typeof(T) == typeof(float) || typeof(T) == typeof(double) || typeof(T) == typeof(Half) || typeof(T) == typeof(BFloat16);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static double ToDouble<T>(T v) where T : unmanaged =>
        typeof(T) == typeof(float) ? Unsafe.As<T, float>(ref v) : typeof(T) == typeof(double) ? Unsafe.As<T, double>(ref v)
        : typeof(T) == typeof(Half) ? (double)Unsafe.As<T, Half>(ref v) : typeof(T) == typeof(BFloat16) ? (double)Unsafe.As<T, BFloat16>(ref v)
        : ToInt64(v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static long ToInt64<T>(T v) where T : unmanaged
    {
        if (typeof(T) == typeof(long)) return Unsafe.As<T, long>(ref v);
        if (typeof(T) == typeof(int)) return Unsafe.As<T, int>(ref v);
        if (typeof(T) == typeof(short)) return Unsafe.As<T, short>(ref v);
        if (typeof(T) == typeof(sbyte)) return Unsafe.As<T, sbyte>(ref v);
        if (typeof(T) == typeof(byte)) return Unsafe.As<T, byte>(ref v);
        if (typeof(T) == typeof(ushort)) return Unsafe.As<T, ushort>(ref v);
        if (typeof(T) == typeof(uint)) return Unsafe.As<T, uint>(ref v);
        if (typeof(T) == typeof(ulong)) return unchecked((long)Unsafe.As<T, ulong>(ref v)); // keeps the bits: integer targets wrap
        if (typeof(T) == typeof(bool)) return Unsafe.As<T, bool>(ref v) ? 1 : 0;
        return DoubleToInt64(ToDouble(v));
    }

    /// <summary>Truncates toward zero; NaN gives 0 and out-of-range values saturate (as the reference executor does).</summary>
    internal static long DoubleToInt64(double v)
    {
        if (double.IsNaN(v)) return 0;
        if (v >= 9.2233720368547758E18) return long.MaxValue;
        if (v <= -9.2233720368547758E18) return long.MinValue;
        return (long)v;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static T FromDouble<T>(double v) where T : unmanaged
    {
        if (typeof(T) == typeof(float)) { float f = (float)v; return Unsafe.As<float, T>(ref f); }
        if (typeof(T) == typeof(double)) return Unsafe.As<double, T>(ref v);
        if (typeof(T) == typeof(bool)) { bool b = v != 0; return Unsafe.As<bool, T>(ref b); }
        if (typeof(T) == typeof(Half)) { Half h = (Half)v; return Unsafe.As<Half, T>(ref h); }
        if (typeof(T) == typeof(BFloat16)) { BFloat16 h = (BFloat16)v; return Unsafe.As<BFloat16, T>(ref h); }
        if (typeof(T) == typeof(ulong))
        {
            // As the reference executor: saturate at 2^64, truncate positive values, wrap the (truncated) negative ones.
            ulong u = v >= 18446744073709551615.0 ? ulong.MaxValue : v <= 0 || double.IsNaN(v) ? unchecked((ulong)DoubleToInt64(v)) : (ulong)v;
            return Unsafe.As<ulong, T>(ref u);
        }
        return FromInt64<T>(DoubleToInt64(v));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static T FromInt64<T>(long v) where T : unmanaged
    {
        if (typeof(T) == typeof(long)) return Unsafe.As<long, T>(ref v);
        if (typeof(T) == typeof(int)) { int r = unchecked((int)v); return Unsafe.As<int, T>(ref r); }
        if (typeof(T) == typeof(short)) { short r = unchecked((short)v); return Unsafe.As<short, T>(ref r); }
        if (typeof(T) == typeof(sbyte)) { sbyte r = unchecked((sbyte)v); return Unsafe.As<sbyte, T>(ref r); }
        if (typeof(T) == typeof(byte)) { byte r = unchecked((byte)v); return Unsafe.As<byte, T>(ref r); }
        if (typeof(T) == typeof(ushort)) { ushort r = unchecked((ushort)v); return Unsafe.As<ushort, T>(ref r); }
        if (typeof(T) == typeof(uint)) { uint r = unchecked((uint)v); return Unsafe.As<uint, T>(ref r); }
        if (typeof(T) == typeof(ulong)) { ulong r = unchecked((ulong)v); return Unsafe.As<ulong, T>(ref r); }
        if (typeof(T) == typeof(Half)) { Half r = (Half)(double)v; return Unsafe.As<Half, T>(ref r); } // |v| ≥ 2^53 overflows half either way
        if (typeof(T) == typeof(bool)) { bool r = v != 0; return Unsafe.As<bool, T>(ref r); }
        if (typeof(T) == typeof(float)) { float r = v; return Unsafe.As<float, T>(ref r); }
        if (typeof(T) == typeof(double)) { double r = v; return Unsafe.As<double, T>(ref r); }
        throw new NotSupportedException($"Cast: element type {typeof(T).Name} is not supported.");
    }

    // ================================================================ broadcasting helpers

    /// <summary>Checks outShape/strides against the operand lengths (rank &lt;= 8, non-negative strides).</summary>
    internal static void ValidateBroadcast(string kernel, int yLength, ReadOnlySpan<int> outShape, int aLength, ReadOnlySpan<int> aStrides, int bLength, ReadOnlySpan<int> bStrides,
        int cLength = -1, ReadOnlySpan<int> cStrides = default)
    {
        int rank = outShape.Length;
        if (rank > MaxRank) throw new ArgumentException($"{kernel}: rank {rank} exceeds {MaxRank}.", nameof(outShape));
        if (aStrides.Length != rank || bStrides.Length != rank || cLength >= 0 && cStrides.Length != rank)
            throw new ArgumentException($"{kernel}: every strides span needs rank {rank} entries.", nameof(aStrides));
        long total = 1, maxA = 0, maxB = 0, maxC = 0;
        for (int d = 0; d < rank; d++)
        {
            if (outShape[d] < 0) throw new ArgumentException($"{kernel}: negative dimension {outShape[d]}.", nameof(outShape));
            if (aStrides[d] < 0 || bStrides[d] < 0 || cLength >= 0 && cStrides[d] < 0) throw new ArgumentException($"{kernel}: negative stride.", nameof(aStrides));
            total *= outShape[d];
            if (outShape[d] > 0)
            {
                maxA += (long)(outShape[d] - 1) * aStrides[d];
                maxB += (long)(outShape[d] - 1) * bStrides[d];
                if (cLength >= 0) maxC += (long)(outShape[d] - 1) * cStrides[d];
            }
        }
        if (yLength != total) throw new ArgumentException($"{kernel}: y has {yLength} elements, expected {total} (the product of outShape).", "y");
        if (total == 0) return;
        if (aLength <= maxA) throw new ArgumentException($"{kernel}: the first operand has {aLength} elements, its strides reach index {maxA}.", "a");
        if (bLength <= maxB) throw new ArgumentException($"{kernel}: the second operand has {bLength} elements, its strides reach index {maxB}.", "b");
        if (cLength >= 0 && cLength <= maxC) throw new ArgumentException($"{kernel}: the third operand has {cLength} elements, its strides reach index {maxC}.", "c");
    }

    /// <summary>Element offset of the first element of output row <paramref name="row"/> (rows = all dims but the last).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int RowOffset(int row, ReadOnlySpan<int> shape, ReadOnlySpan<int> strides)
    {
        int off = 0;
        for (int d = shape.Length - 2; d >= 0; d--)
        {
            off += row % shape[d] * strides[d];
            row /= shape[d];
        }
        return off;
    }

    // ================================================================ Compare

    /// <summary>y[i] = a op b over outShape (bool output); floats compare as IEEE (NaN compares false).</summary>
    public static void Compare(CompareOp op, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<bool> y, ReadOnlySpan<int> outShape, ReadOnlySpan<int> aStrides, ReadOnlySpan<int> bStrides) => CompareCore(op, a, b, y, outShape, aStrides, bStrides);
    /// <inheritdoc cref="Compare(CompareOp, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{bool}, ReadOnlySpan{int}, ReadOnlySpan{int}, ReadOnlySpan{int})"/>
    public static void Compare(CompareOp op, ReadOnlySpan<double> a, ReadOnlySpan<double> b, Span<bool> y, ReadOnlySpan<int> outShape, ReadOnlySpan<int> aStrides, ReadOnlySpan<int> bStrides) => CompareCore(op, a, b, y, outShape, aStrides, bStrides);
    /// <inheritdoc cref="Compare(CompareOp, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{bool}, ReadOnlySpan{int}, ReadOnlySpan{int}, ReadOnlySpan{int})"/>
    public static void Compare(CompareOp op, ReadOnlySpan<long> a, ReadOnlySpan<long> b, Span<bool> y, ReadOnlySpan<int> outShape, ReadOnlySpan<int> aStrides, ReadOnlySpan<int> bStrides) => CompareCore(op, a, b, y, outShape, aStrides, bStrides);
    /// <inheritdoc cref="Compare(CompareOp, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{bool}, ReadOnlySpan{int}, ReadOnlySpan{int}, ReadOnlySpan{int})"/>
    public static void Compare(CompareOp op, ReadOnlySpan<int> a, ReadOnlySpan<int> b, Span<bool> y, ReadOnlySpan<int> outShape, ReadOnlySpan<int> aStrides, ReadOnlySpan<int> bStrides) => CompareCore(op, a, b, y, outShape, aStrides, bStrides);
    /// <inheritdoc cref="Compare(CompareOp, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{bool}, ReadOnlySpan{int}, ReadOnlySpan{int}, ReadOnlySpan{int})"/>
    public static void Compare(CompareOp op, ReadOnlySpan<short> a, ReadOnlySpan<short> b, Span<bool> y, ReadOnlySpan<int> outShape, ReadOnlySpan<int> aStrides, ReadOnlySpan<int> bStrides) => CompareCore(op, a, b, y, outShape, aStrides, bStrides);
    /// <inheritdoc cref="Compare(CompareOp, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{bool}, ReadOnlySpan{int}, ReadOnlySpan{int}, ReadOnlySpan{int})"/>
    public static void Compare(CompareOp op, ReadOnlySpan<sbyte> a, ReadOnlySpan<sbyte> b, Span<bool> y, ReadOnlySpan<int> outShape, ReadOnlySpan<int> aStrides, ReadOnlySpan<int> bStrides) => CompareCore(op, a, b, y, outShape, aStrides, bStrides);
    /// <inheritdoc cref="Compare(CompareOp, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{bool}, ReadOnlySpan{int}, ReadOnlySpan{int}, ReadOnlySpan{int})"/>
    public static void Compare(CompareOp op, ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, Span<bool> y, ReadOnlySpan<int> outShape, ReadOnlySpan<int> aStrides, ReadOnlySpan<int> bStrides) => CompareCore(op, a, b, y, outShape, aStrides, bStrides);
    /// <inheritdoc cref="Compare(CompareOp, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{bool}, ReadOnlySpan{int}, ReadOnlySpan{int}, ReadOnlySpan{int})"/>
    public static void Compare(CompareOp op, ReadOnlySpan<ushort> a, ReadOnlySpan<ushort> b, Span<bool> y, ReadOnlySpan<int> outShape, ReadOnlySpan<int> aStrides, ReadOnlySpan<int> bStrides) => CompareCore(op, a, b, y, outShape, aStrides, bStrides);

    /// <inheritdoc cref="Compare(CompareOp, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{bool}, ReadOnlySpan{int}, ReadOnlySpan{int}, ReadOnlySpan{int})"/>
    public static void Compare(CompareOp op, ReadOnlySpan<uint> a, ReadOnlySpan<uint> b, Span<bool> y, ReadOnlySpan<int> outShape, ReadOnlySpan<int> aStrides, ReadOnlySpan<int> bStrides) => CompareCore(op, a, b, y, outShape, aStrides, bStrides);
    /// <inheritdoc cref="Compare(CompareOp, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{bool}, ReadOnlySpan{int}, ReadOnlySpan{int}, ReadOnlySpan{int})"/>
    public static void Compare(CompareOp op, ReadOnlySpan<ulong> a, ReadOnlySpan<ulong> b, Span<bool> y, ReadOnlySpan<int> outShape, ReadOnlySpan<int> aStrides, ReadOnlySpan<int> bStrides) => CompareCore(op, a, b, y, outShape, aStrides, bStrides);

    /// <summary>Equal on bool data (y = a == b).</summary>
    public static void Compare(CompareOp op, ReadOnlySpan<bool> a, ReadOnlySpan<bool> b, Span<bool> y, ReadOnlySpan<int> outShape, ReadOnlySpan<int> aStrides, ReadOnlySpan<int> bStrides)
    {
        if (op != CompareOp.Equal) throw new ArgumentOutOfRangeException(nameof(op), op, "Compare: bool data supports Equal only.");
        Logic(LogicOp.Xor, a, b, y, outShape, aStrides, bStrides);
        for (int i = 0; i < y.Length; i++) y[i] = !y[i];
    }

    internal static void CompareCore<T>(CompareOp op, ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<bool> y, ReadOnlySpan<int> outShape, ReadOnlySpan<int> aStrides, ReadOnlySpan<int> bStrides)
        where T : unmanaged, INumber<T>
    {
        ValidateBroadcast("Compare", y.Length, outShape, a.Length, aStrides, b.Length, bStrides);
        if (y.Length == 0) return;
        if (outShape.Length == 0) { y[0] = CompareScalar(op, a[0], b[0]); return; }
        int inner = outShape[^1], sa = aStrides[^1], sb = bStrides[^1];
        for (int row = 0, yo = 0; yo < y.Length; row++, yo += inner)
        {
            int oa = RowOffset(row, outShape, aStrides), ob = RowOffset(row, outShape, bStrides);
            for (int j = 0; j < inner; j++, oa += sa, ob += sb) y[yo + j] = CompareScalar(op, a[oa], b[ob]);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool CompareScalar<T>(CompareOp op, T a, T b) where T : INumber<T> => op switch
    {
        CompareOp.Equal => a == b,
        CompareOp.Less => a < b,
        CompareOp.LessOrEqual => a <= b,
        CompareOp.Greater => a > b,
        CompareOp.GreaterOrEqual => a >= b,
        _ => throw new ArgumentOutOfRangeException(nameof(op)),
    };

    // ================================================================ logic, Not, Where

    /// <summary>y = a op b over outShape (bool).</summary>
    public static void Logic(LogicOp op, ReadOnlySpan<bool> a, ReadOnlySpan<bool> b, Span<bool> y, ReadOnlySpan<int> outShape, ReadOnlySpan<int> aStrides, ReadOnlySpan<int> bStrides)
    {
        ValidateBroadcast("Logic", y.Length, outShape, a.Length, aStrides, b.Length, bStrides);
        if (y.Length == 0) return;
        if (outShape.Length == 0) { y[0] = LogicScalar(op, a[0], b[0]); return; }
        int inner = outShape[^1], sa = aStrides[^1], sb = bStrides[^1];
        for (int row = 0, yo = 0; yo < y.Length; row++, yo += inner)
        {
            int oa = RowOffset(row, outShape, aStrides), ob = RowOffset(row, outShape, bStrides);
            for (int j = 0; j < inner; j++, oa += sa, ob += sb) y[yo + j] = LogicScalar(op, a[oa], b[ob]);
        }
    }

    private static bool LogicScalar(LogicOp op, bool a, bool b) => op switch
    {
        LogicOp.And => a & b,
        LogicOp.Or => a | b,
        LogicOp.Xor => a ^ b,
        _ => throw new ArgumentOutOfRangeException(nameof(op)),
    };

    /// <summary>y = !x.</summary>
    public static void Not(ReadOnlySpan<bool> x, Span<bool> y)
    {
        if (x.Length != y.Length) throw new ArgumentException($"Not: x has {x.Length} elements but y has {y.Length}.", nameof(y));
        for (int i = 0; i < x.Length; i++) y[i] = !x[i];
    }

    /// <summary>y = condition ? a : b over outShape, each operand with its own broadcast strides.</summary>
    public static void Where<T>(ReadOnlySpan<bool> condition, ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y,
        ReadOnlySpan<int> outShape, ReadOnlySpan<int> cStrides, ReadOnlySpan<int> aStrides, ReadOnlySpan<int> bStrides) where T : unmanaged
    {
        ValidateBroadcast("Where", y.Length, outShape, a.Length, aStrides, b.Length, bStrides, condition.Length, cStrides);
        if (y.Length == 0) return;
        if (outShape.Length == 0) { y[0] = condition[0] ? a[0] : b[0]; return; }
        int inner = outShape[^1], sa = aStrides[^1], sb = bStrides[^1], sc = cStrides[^1];
        for (int row = 0, yo = 0; yo < y.Length; row++, yo += inner)
        {
            int oa = RowOffset(row, outShape, aStrides), ob = RowOffset(row, outShape, bStrides), oc = RowOffset(row, outShape, cStrides);
            for (int j = 0; j < inner; j++, oa += sa, ob += sb, oc += sc) y[yo + j] = condition[oc] ? a[oa] : b[ob];
        }
    }

    // ================================================================ integer and double arithmetic

    /// <summary>
    /// Integer Add/Sub/Mul (wrapping), Div (truncating toward zero; MinValue / -1 wraps), Mod (divisor's sign),
    /// FMod (dividend's sign), Max, Min over outShape. Division or modulus by zero throws <see cref="DivideByZeroException"/>.
    /// </summary>
    public static void BinaryInteger<T>(BinaryOp op, ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y, ReadOnlySpan<int> outShape, ReadOnlySpan<int> aStrides, ReadOnlySpan<int> bStrides)
        where T : unmanaged, IBinaryInteger<T>
    {
        ValidateBroadcast("BinaryInteger", y.Length, outShape, a.Length, aStrides, b.Length, bStrides);
        if (op is BinaryOp.Pow or BinaryOp.PRelu) throw new ArgumentOutOfRangeException(nameof(op), op, "BinaryInteger: not an integer operator.");
        if (y.Length == 0) return;
        if (outShape.Length == 0) { y[0] = IntegerScalar(op, a[0], b[0]); return; }
        int inner = outShape[^1], sa = aStrides[^1], sb = bStrides[^1];
        for (int row = 0, yo = 0; yo < y.Length; row++, yo += inner)
        {
            int oa = RowOffset(row, outShape, aStrides), ob = RowOffset(row, outShape, bStrides);
            for (int j = 0; j < inner; j++, oa += sa, ob += sb) y[yo + j] = IntegerScalar(op, a[oa], b[ob]);
        }
    }

    internal static T IntegerScalar<T>(BinaryOp op, T a, T b) where T : IBinaryInteger<T>
    {
        switch (op)
        {
            case BinaryOp.Add: return unchecked(a + b);
            case BinaryOp.Sub: return unchecked(a - b);
            case BinaryOp.Mul: return unchecked(a * b);
            case BinaryOp.Max: return T.Max(a, b);
            case BinaryOp.Min: return T.Min(a, b);
            case BinaryOp.Div:
                if (T.IsZero(b)) throw new DivideByZeroException("BinaryInteger: integer division by zero.");
                return T.IsNegative(b) && b == -T.One ? unchecked(T.Zero - a) : a / b;
            case BinaryOp.Mod:
            case BinaryOp.FMod:
                {
                    if (T.IsZero(b)) throw new DivideByZeroException("BinaryInteger: integer modulus by zero.");
                    if (T.IsNegative(b) && b == -T.One) return T.Zero;
                    T r = a % b;
                    if (op == BinaryOp.Mod && !T.IsZero(r) && T.IsNegative(r) != T.IsNegative(b)) r += b;
                    return r;
                }
            default: throw new ArgumentOutOfRangeException(nameof(op));
        }
    }

    /// <summary>The float64 counterpart of <see cref="Binary(BinaryOp, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, ReadOnlySpan{int}, ReadOnlySpan{int}, ReadOnlySpan{int})"/>.</summary>
    public static void Binary(BinaryOp op, ReadOnlySpan<double> a, ReadOnlySpan<double> b, Span<double> y, ReadOnlySpan<int> outShape, ReadOnlySpan<int> aStrides, ReadOnlySpan<int> bStrides)
    {
        ValidateBroadcast("Binary", y.Length, outShape, a.Length, aStrides, b.Length, bStrides);
        if (y.Length == 0) return;
        if (outShape.Length == 0) { y[0] = DoubleScalar(op, a[0], b[0]); return; }
        int inner = outShape[^1], sa = aStrides[^1], sb = bStrides[^1];
        for (int row = 0, yo = 0; yo < y.Length; row++, yo += inner)
        {
            int oa = RowOffset(row, outShape, aStrides), ob = RowOffset(row, outShape, bStrides);
            for (int j = 0; j < inner; j++, oa += sa, ob += sb) y[yo + j] = DoubleScalar(op, a[oa], b[ob]);
        }
    }

    internal static double DoubleScalar(BinaryOp op, double a, double b) => op switch
    {
        BinaryOp.Add => a + b,
        BinaryOp.Sub => a - b,
        BinaryOp.Mul => a * b,
        BinaryOp.Div => a / b,
        BinaryOp.Pow => Math.Pow(a, b),
        BinaryOp.Max => Math.Max(a, b),
        BinaryOp.Min => Math.Min(a, b),
        BinaryOp.PRelu => a < 0 ? b * a : a,
        BinaryOp.FMod => a % b,
        BinaryOp.Mod => a % b is var r && r != 0 && (r < 0) != (b < 0) ? r + b : a % b,
        _ => throw new ArgumentOutOfRangeException(nameof(op)),
    };

    internal static float FloorMod(float a, float b)
    {
        float r = a % b;
        return r != 0 && (r < 0) != (b < 0) ? r + b : r;
    }
}
