using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.IR;

namespace EdgeCompile.Compiler.Operators.Common;

/// <summary>
/// Shared pieces of the unary operator group: type-constraint checks, accurate special functions
/// (erf, erfc, expm1, log1p, softplus, sigmoid; .NET lacks accurate versions of these) and exactly
/// rounded type conversion for Cast/CastLike.
/// </summary>
public static class UnaryHelpers
{
    // ---- type constraints (the spec's "T" lists, restricted to the types we support) ----

    public static bool IsFloat(DataType t) => t.IsFloat();
    public static bool IsNumeric(DataType t) => t.IsFloat() || t.IsInteger();
    public static bool IsSignedNumeric(DataType t) => t.IsFloat() || t.IsSignedInteger();
    public static bool IsBool(DataType t) => t == DataType.Bool;

    /// <summary>Coded error unless <paramref name="type"/> satisfies the operator's type constraint.</summary>
    public static void CheckType(NodeContext ctx, DataType type, Func<DataType, bool> allowed, string allowedText, string what = "input")
    {
        if (!allowed(type))
            throw ctx.Error(EdgeCodes.ShapeMismatch, $"{ctx.Node.OpType} does not accept {type.OnnxName()} for its {what}; it needs {allowedText}.");
    }

    /// <summary>Shape inference of a unary elementwise op: output 0 has input 0's type and shape, after a type check.</summary>
    public static void InferSame(InferenceContext ctx, Func<DataType, bool> allowed, string allowedText)
    {
        var t = ctx.InputType(0);
        if (t is null) return;
        CheckType(ctx, t.ElemType, allowed, allowedText);
        ctx.SetOutput(0, t.ElemType, t.Shape);
    }

    /// <summary>Float-only elementwise op, computed in double and rounded once to the input's type.</summary>
    public static void FloatOp(ExecutionContext ctx, Func<double, double> f) => Elementwise.UnaryFloat(ctx, f);

    /// <summary>Elementwise op over floats and integers (not bool), after the op's type check.</summary>
    public static void NumericOp(ExecutionContext ctx, Func<DataType, bool> allowed, string allowedText,
        Func<double, double> f, Func<long, long> fi, Func<ulong, ulong>? fu = null)
    {
        CheckType(ctx, ctx.RequireInput(0).DataType, allowed, allowedText);
        Elementwise.Unary(ctx, f, fi, fu);
    }

    /// <summary>Checks that a scalar input (Clip's min/max, Dropout's ratio...) holds exactly one element.</summary>
    public static Tensor RequireScalar(NodeContext ctx, Tensor t, string what)
    {
        if (t.Length != 1)
            throw ctx.Error(EdgeCodes.ShapeMismatch, $"{what} must be a scalar, got shape {Shapes.Format(t.Shape)}.");
        return t;
    }

    /// <summary>Shape check for scalar inputs at inference time: a known rank above 0 with a known element count other than 1 is wrong.</summary>
    public static void CheckScalarShape(InferenceContext ctx, int input, string what)
    {
        var s = ctx.InputShape(input);
        if (s is null || s.Length == 0) return;
        var n = ShapeRules.KnownProduct(s);
        if (n is not null && n != 1)
            throw ctx.Error(EdgeCodes.ShapeMismatch, $"{what} must be a scalar, got shape [{string.Join(",", s.Select(d => d.ToString()))}].");
    }

    // ---- special functions (double precision) ----

    private const double TwoOverSqrtPi = 1.1283791670955126; // 2/sqrt(pi)
    private const double OneOverSqrtPi = 0.56418958354775628; // 1/sqrt(pi)

    /// <summary>
    /// Error function. |x| &lt; 2.5: the all-positive series erf(x) = 2/√π·e^(−x²)·Σ 2ⁿx^(2n+1)/(1·3···(2n+1))
    /// (no cancellation, relative error a few ulp); beyond, 1 − erfc(|x|) with erfc from its continued fraction.
    /// </summary>
    public static double Erf(double x)
    {
        if (double.IsNaN(x)) return x;
        double ax = Math.Abs(x);
        if (ax < 2.5)
        {
            double x2 = x * x;
            double term = x, sum = x;
            for (int n = 1; n < 200; n++)
            {
                term *= 2 * x2 / (2 * n + 1);
                double next = sum + term;
                if (next == sum) break;
                sum = next;
            }
            return TwoOverSqrtPi * Math.Exp(-x2) * sum;
        }
        double r = 1 - ErfcLarge(ax);
        return x < 0 ? -r : r;
    }

    /// <summary>Complementary error function 1 − erf(x), accurate (relative) also where it is tiny.</summary>
    public static double Erfc(double x)
    {
        if (double.IsNaN(x)) return x;
        if (x < 2.5) return 1 - Erf(x); // erfc(x) ≥ 4e-4 here, so at most ~4 digits of 16 are lost
        return ErfcLarge(x);
    }

    /// <summary>
    /// erfc(x) for x ≥ 2.5 from the continued fraction erfc(x) = e^(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))),
    /// evaluated bottom-up with enough terms to converge to double precision for x ≥ 2.5.
    /// </summary>
    private static double ErfcLarge(double x)
    {
        if (x > 27.3) return 0; // e^(−x²) underflows
        double f = x;
        for (int n = 300; n >= 1; n--) f = x + n / 2.0 / f;
        return OneOverSqrtPi * Math.Exp(-x * x) / f;
    }

    /// <summary>e^x − 1 without cancellation near 0 (Kahan's trick).</summary>
    public static double Expm1(double x)
    {
        double u = Math.Exp(x);
        if (u == 1) return x;
        if (double.IsPositiveInfinity(u)) return u;
        double um1 = u - 1;
        if (um1 == -1) return -1;
        return um1 * (x / Math.Log(u));
    }

    /// <summary>ln(1 + x) without cancellation near 0 (Goldberg's trick).</summary>
    public static double Log1p(double x)
    {
        double u = 1 + x;
        if (u == 1) return x;
        if (double.IsPositiveInfinity(u)) return u;
        return Math.Log(u) * (x / (u - 1));
    }

    /// <summary>ln(1 + e^x), stable for large |x|.</summary>
    public static double Softplus(double x) => x > 0 ? x + Log1p(Math.Exp(-x)) : Log1p(Math.Exp(x));

    /// <summary>1 / (1 + e^−x), stable for large |x|.</summary>
    public static double Sigmoid(double x)
    {
        if (x >= 0) return 1 / (1 + Math.Exp(-x));
        double e = Math.Exp(x);
        return e / (1 + e);
    }

    // ---- Cast ----

    /// <summary>
    /// The 'to' attribute (or CastLike's target type) as a supported data type: an unknown code is an invalid
    /// attribute; a real ONNX type we do not support (string, float8, int4, complex...) is EDGE1102.
    /// </summary>
    public static DataType CastTarget(NodeContext ctx, long to)
    {
        if (!Enum.IsDefined(typeof(DataType), (int)to) || to == (long)DataType.Undefined || to != (int)to)
            throw ctx.Error(EdgeCodes.InvalidAttribute, $"Attribute 'to' = {to} is not an ONNX data type code.");
        var t = (DataType)(int)to;
        if (!t.IsSupported())
            throw ctx.Error(EdgeCodes.UnsupportedDataType, $"Casting to {t} is not supported (supported: float, double, float16, bfloat16, 8-64-bit integers, bool).");
        return t;
    }

    /// <summary>
    /// Validates Cast/CastLike's 'saturate' (opset 19+; only affects float8 targets, which we do not support, so it
    /// has no effect here) and 'round_mode' (opset 25; only affects float8e8m0 targets, likewise).
    /// </summary>
    public static void CheckCastAttributes(NodeContext ctx)
    {
        long saturate = ctx.GetInt("saturate", 1);
        if (saturate is not (0 or 1))
            throw ctx.Error(EdgeCodes.InvalidAttribute, $"Attribute 'saturate' must be 0 or 1, got {saturate}.");
        string mode = ctx.GetString("round_mode", "up");
        if (mode is not ("up" or "down" or "nearest"))
            throw ctx.Error(EdgeCodes.InvalidAttribute, $"Attribute 'round_mode' must be \"up\", \"down\" or \"nearest\", got \"{mode}\".");
    }

    /// <summary>
    /// ONNX Cast, rounded once: float targets get the nearest value (ties to even) of the exact source value,
    /// float → integer truncates toward zero, integer → integer wraps, anything → bool is "not zero".
    /// Tensor.CastTo is exact except where it converts through an intermediate type (double → bfloat16 via
    /// float; 64-bit integers above 2^24 → bfloat16, uint64 above 2^53 → float/double): those are done here.
    /// </summary>
    public static Tensor Cast(Tensor x, DataType to)
    {
        if (to == x.DataType) return x;
        if (x.DataType.IsInteger() && to.IsFloat())
        {
            var shape = x.Shape;
            var r = new double[x.Length];
            if (x.DataType == DataType.UInt64)
            {
                var u = x.ToUInt64s();
                for (int i = 0; i < r.Length; i++) r[i] = RoundInteger(u[i], false, MantissaBits(to));
            }
            else
            {
                var l = x.ToInt64s();
                for (int i = 0; i < r.Length; i++)
                    r[i] = RoundInteger(l[i] < 0 ? unchecked((ulong)(-l[i])) : (ulong)l[i], l[i] < 0, MantissaBits(to));
            }
            // Every r[i] now has at most the target's significand width, so this final conversion is exact
            // (or overflows to infinity exactly when the correctly rounded value does).
            return Tensor.FromDoubles(to, shape, r);
        }
        if (x.DataType == DataType.Double && to == DataType.BFloat16)
        {
            var d = x.As<double>();
            var r = new BFloat16[d.Length];
            for (int i = 0; i < d.Length; i++) r[i] = DoubleToBFloat16(d[i]);
            return new Tensor(to, x.Shape, r);
        }
        return x.CastTo(to);
    }

    private static int MantissaBits(DataType t) => t switch
    {
        DataType.Double => 53,
        DataType.Float => 24,
        DataType.Float16 => 11,
        DataType.BFloat16 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(t)),
    };

    /// <summary>±magnitude rounded to <paramref name="bits"/> significant bits, ties to even (unbounded exponent).</summary>
    private static double RoundInteger(ulong magnitude, bool negative, int bits)
    {
        if (magnitude == 0) return 0;
        int width = 64 - System.Numerics.BitOperations.LeadingZeroCount(magnitude);
        int drop = width - bits;
        double v;
        if (drop <= 0) v = magnitude; // fits: exact in double (bits ≤ 53)
        else
        {
            ulong kept = magnitude >> drop;
            ulong rest = magnitude & ((1UL << drop) - 1);
            ulong half = 1UL << (drop - 1);
            if (rest > half || (rest == half && (kept & 1) == 1)) kept++;
            v = Math.ScaleB(kept, drop); // kept ≤ 2^bits: exact
        }
        return negative ? -v : v;
    }

    /// <summary>
    /// double → bfloat16 with one rounding (nearest, ties to even). Goes through float with "round to odd",
    /// which makes the second rounding (float → bfloat16, 16 fewer bits) give the correctly rounded result.
    /// </summary>
    public static BFloat16 DoubleToBFloat16(double d)
    {
        float f = (float)d;
        if (double.IsNaN(d) || float.IsInfinity(f) || f == d) return (BFloat16)f;
        int bits = BitConverter.SingleToInt32Bits(f);
        if (Math.Abs((double)f) > Math.Abs(d)) bits--; // the float neighbour toward zero (sign-magnitude bits)
        bits |= 1;                                      // inexact: force the last bit to 1 (round to odd)
        return (BFloat16)BitConverter.Int32BitsToSingle(bits);
    }
}
