using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace EdgeCompile.Kernels;

/// <summary>Unary element-wise operators. p0/p1 carry the ONNX attributes named on each member.</summary>
public enum UnaryOp
{
    /// <summary>y = x (Identity).</summary>
    Copy,
    /// <summary>max(0, x).</summary>
    Relu,
    /// <summary>x &lt; 0 ? p0 * x : x (p0 = alpha).</summary>
    LeakyRelu,
    /// <summary>min(max(x, p0), p1).</summary>
    Clip,
    /// <summary>1 / (1 + e^-x).</summary>
    Sigmoid,
    /// <summary>tanh x.</summary>
    Tanh,
    /// <summary>max(0, min(1, p0 * x + p1)) (p0 = alpha, p1 = beta).</summary>
    HardSigmoid,
    /// <summary>x * max(0, min(1, x / 6 + 0.5)).</summary>
    HardSwish,
    /// <summary>e^x.</summary>
    Exp,
    /// <summary>ln x.</summary>
    Log,
    /// <summary>√x.</summary>
    Sqrt,
    /// <summary>1 / x.</summary>
    Reciprocal,
    /// <summary>-x.</summary>
    Neg,
    /// <summary>|x|.</summary>
    Abs,
    /// <summary>⌊x⌋.</summary>
    Floor,
    /// <summary>⌈x⌉.</summary>
    Ceil,
    /// <summary>Round half to even.</summary>
    Round,
    /// <summary>The Gauss error function.</summary>
    Erf,
    /// <summary>x/2 · (1 + erf(x/√2)).</summary>
    Gelu,
    /// <summary>x/2 · (1 + tanh(√(2/π) · (x + 0.044715 x³))).</summary>
    GeluTanh,
    /// <summary>ln(1 + e^x).</summary>
    Softplus,
    /// <summary>x / (1 + |x|).</summary>
    Softsign,
    /// <summary>x &lt; 0 ? p0 * (e^x - 1) : x (p0 = alpha).</summary>
    Elu,
    /// <summary>x &gt; 0 ? p1 * x : p1 * (p0 * e^x - p0) (p0 = alpha, p1 = gamma).</summary>
    Selu,
    /// <summary>x · tanh(softplus(x)).</summary>
    Mish,
    /// <summary>sin x.</summary>
    Sin,
    /// <summary>cos x.</summary>
    Cos,
}

/// <summary>Binary element-wise operators (with broadcasting through strides).</summary>
public enum BinaryOp
{
    /// <summary>a + b.</summary>
    Add,
    /// <summary>a - b.</summary>
    Sub,
    /// <summary>a * b.</summary>
    Mul,
    /// <summary>a / b.</summary>
    Div,
    /// <summary>MathF.Pow(a, b).</summary>
    Pow,
    /// <summary>MathF.Max(a, b).</summary>
    Max,
    /// <summary>MathF.Min(a, b).</summary>
    Min,
    /// <summary>a &lt; 0 ? b * a : a (a = x, b = slope).</summary>
    PRelu,
    /// <summary>ONNX Mod with fmod=0: the remainder takes the divisor's sign (Python's %); integer division by zero throws.</summary>
    Mod,
    /// <summary>ONNX Mod with fmod=1: C fmod, the remainder takes the dividend's sign.</summary>
    FMod,
}

/// <summary>Element-wise kernels.</summary>
public static partial class Elementwise
{
    /// <summary>The largest rank <see cref="Binary(BinaryOp, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, ReadOnlySpan{int}, ReadOnlySpan{int}, ReadOnlySpan{int})"/> accepts.</summary>
    internal const int MaxRank = 8;

    /// <summary>y[i] = op(x[i]); p0/p1 are the operator's alpha/beta or min/max. x and y may be the same memory.</summary>
    /// <exception cref="ArgumentException">x and y differ in length.</exception>
    public static void Unary(UnaryOp op, ReadOnlySpan<float> x, Span<float> y, float p0, float p1)
    {
        if (x.Length != y.Length) throw new ArgumentException($"Unary: x has {x.Length} elements but y has {y.Length}.", nameof(y));
        UnaryCore(op, x, y, p0, p1, KernelPaths.Best);
    }

    /// <summary>
    /// y[i over outShape] = op(a[Σ idx_d * aStrides[d]], b[Σ idx_d * bStrides[d]]): strides are element strides per
    /// output dimension, 0 where the operand is broadcast. y is outShape, row-major. Rank &lt;= 8.
    /// </summary>
    /// <exception cref="ArgumentException">Ranks differ or exceed 8, a stride is negative, y's length is not the product of outShape, or a/b are too short for their strides.</exception>
    public static void Binary(BinaryOp op, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y,
        ReadOnlySpan<int> outShape, ReadOnlySpan<int> aStrides, ReadOnlySpan<int> bStrides)
    {
        ValidateBinary(a, b, y, outShape, aStrides, bStrides);
        BinaryCore(op, a, b, y, outShape, aStrides, bStrides, KernelPaths.Best);
    }

    // ================================================================ unary

    /// <summary>The specification of each unary operator.</summary>
    internal static float UnaryScalar(UnaryOp op, float x, float p0, float p1) => op switch
    {
        UnaryOp.Copy => x,
        UnaryOp.Relu => MathF.Max(x, 0f),
        UnaryOp.LeakyRelu => x < 0f ? p0 * x : x,
        UnaryOp.Clip => MathF.Min(MathF.Max(x, p0), p1),
        UnaryOp.Sigmoid => ActivationKernel.Sigmoid(x),
        UnaryOp.Tanh => MathF.Tanh(x),
        UnaryOp.HardSigmoid => MathF.Max(0f, MathF.Min(1f, p0 * x + p1)),
        UnaryOp.HardSwish => x * MathF.Max(0f, MathF.Min(1f, x / 6f + 0.5f)),
        UnaryOp.Exp => MathF.Exp(x),
        UnaryOp.Log => MathF.Log(x),
        UnaryOp.Sqrt => MathF.Sqrt(x),
        UnaryOp.Reciprocal => 1f / x,
        UnaryOp.Neg => -x,
        UnaryOp.Abs => MathF.Abs(x),
        UnaryOp.Floor => MathF.Floor(x),
        UnaryOp.Ceil => MathF.Ceiling(x),
        UnaryOp.Round => MathF.Round(x, MidpointRounding.ToEven),
        UnaryOp.Erf => SpecialFunctions.Erf(x),
        UnaryOp.Gelu => SpecialFunctions.Gelu(x),
        UnaryOp.GeluTanh => SpecialFunctions.GeluTanh(x),
        UnaryOp.Softplus => SpecialFunctions.Softplus(x),
        UnaryOp.Softsign => x / (1f + MathF.Abs(x)),
        UnaryOp.Elu => x < 0f ? p0 * (MathF.Exp(x) - 1f) : x,
        UnaryOp.Selu => x > 0f ? p1 * x : p1 * (p0 * MathF.Exp(x) - p0),
        UnaryOp.Mish => SpecialFunctions.Mish(x),
        UnaryOp.Sin => MathF.Sin(x),
        UnaryOp.Cos => MathF.Cos(x),
        _ => throw new ArgumentOutOfRangeException(nameof(op)),
    };

    internal static void UnaryReference(UnaryOp op, ReadOnlySpan<float> x, Span<float> y, float p0, float p1)
    {
        for (int i = 0; i < x.Length; i++) y[i] = UnaryScalar(op, x[i], p0, p1);
    }

    /// <summary>
    /// Piecewise-linear and exact operators run as vectors (bit-exact with the reference: no fused operations);
    /// Exp, Sigmoid, Tanh, Erf and Gelu run the polynomial approximations of <see cref="VectorMath"/> (within the
    /// tolerances stated there; the tail elements use the reference); the other transcendental ones run the
    /// reference's scalar function.
    /// </summary>
    /// <remarks><paramref name="wide"/>: on the Vector256 path, Exp and Gelu run 512-bit vectors where the CPU
    /// accelerates them (AVX-512; the tests pass false to reach the 256-bit code as well).</remarks>
    internal static void UnaryCore(UnaryOp op, ReadOnlySpan<float> x, Span<float> y, float p0, float p1, Isa isa, bool wide = true)
    {
        if (isa == Isa.Scalar) { UnaryReference(op, x, y, p0, p1); return; }
        switch (op)
        {
            case UnaryOp.Copy: x.CopyTo(y); return;
            case UnaryOp.Relu: x.CopyTo(y); ActivationKernel.ApplyInPlace(Activation.Relu, y, p0, p1, isa); return;
            case UnaryOp.LeakyRelu: x.CopyTo(y); ActivationKernel.ApplyInPlace(Activation.LeakyRelu, y, p0, p1, isa); return;
            case UnaryOp.Clip: x.CopyTo(y); ActivationKernel.ApplyInPlace(Activation.Clip, y, p0, p1, isa); return;
            case UnaryOp.HardSigmoid: x.CopyTo(y); ActivationKernel.ApplyInPlace(Activation.HardSigmoid, y, p0, p1, isa); return;
            case UnaryOp.HardSwish: x.CopyTo(y); ActivationKernel.ApplyInPlace(Activation.HardSwish, y, p0, p1, isa); return;
            case UnaryOp.Neg: Map<NegOp>(x, y, isa, wide); return;
            case UnaryOp.Abs: Map<AbsOp>(x, y, isa, wide); return;
            case UnaryOp.Sqrt: Map<SqrtOp>(x, y, isa, wide); return;
            case UnaryOp.Reciprocal: Map<ReciprocalOp>(x, y, isa, wide); return;
            case UnaryOp.Floor: Map<FloorOp>(x, y, isa, wide); return;
            case UnaryOp.Ceil: Map<CeilOp>(x, y, isa, wide); return;
            case UnaryOp.Sigmoid: Map<SigmoidOp>(x, y, isa, wide); return;
            case UnaryOp.Tanh: Map<TanhOp>(x, y, isa, wide); return;
            case UnaryOp.Exp: Map<ExpOp>(x, y, isa, wide); return;
            case UnaryOp.Log: for (int i = 0; i < x.Length; i++) y[i] = MathF.Log(x[i]); return;
            case UnaryOp.Gelu: Map<GeluOp>(x, y, isa, wide); return;
            case UnaryOp.Erf: Map<ErfOp>(x, y, isa, wide); return;
            default: UnaryReference(op, x, y, p0, p1); return;
        }
    }

    private static void Map<TOp>(ReadOnlySpan<float> x, Span<float> y, Isa isa, bool wide) where TOp : struct, IUnaryVector
    {
        ref float rx = ref MemoryMarshal.GetReference(x);
        ref float ry = ref MemoryMarshal.GetReference(y);
        int i = 0, len = x.Length;
        if (TOp.Has512 && wide && isa == Isa.Vector256 && Vector512.IsHardwareAccelerated)
        {
            // Two independent vectors per step: the approximations are long dependency chains (four per step
            // measured 1.5x slower than two on Gelu: the inlined body outgrows what the JIT keeps in registers/inlines).
            for (; i <= len - 32; i += 32)
            {
                var a = TOp.Apply(Vector512.LoadUnsafe(ref rx, (nuint)i));
                var b = TOp.Apply(Vector512.LoadUnsafe(ref rx, (nuint)(i + 16)));
                a.StoreUnsafe(ref ry, (nuint)i);
                b.StoreUnsafe(ref ry, (nuint)(i + 16));
            }
            for (; i <= len - 16; i += 16) TOp.Apply(Vector512.LoadUnsafe(ref rx, (nuint)i)).StoreUnsafe(ref ry, (nuint)i);
        }
        if (isa == Isa.Vector256)
            for (; i <= len - 8; i += 8) TOp.Apply(Vector256.LoadUnsafe(ref rx, (nuint)i)).StoreUnsafe(ref ry, (nuint)i);
        for (; i <= len - 4; i += 4) TOp.Apply(Vector128.LoadUnsafe(ref rx, (nuint)i)).StoreUnsafe(ref ry, (nuint)i);
        for (; i < len; i++) Unsafe.Add(ref ry, i) = TOp.Apply(Unsafe.Add(ref rx, i));
    }

    private readonly struct ExpOp : IUnaryVector
    {
        public static bool Has512 => true;
        public static Vector512<float> Apply(Vector512<float> x) => VectorMath.Exp(x);
        public static float Apply(float x) => MathF.Exp(x);
        public static Vector256<float> Apply(Vector256<float> x) => VectorMath.Exp(x);
        public static Vector128<float> Apply(Vector128<float> x) => VectorMath.Exp(x);
    }

    private readonly struct SigmoidOp : IUnaryVector
    {
        public static float Apply(float x) => ActivationKernel.Sigmoid(x);
        public static Vector256<float> Apply(Vector256<float> x) => VectorMath.Sigmoid(x);
        public static Vector128<float> Apply(Vector128<float> x) => VectorMath.Sigmoid(x);
    }

    private readonly struct TanhOp : IUnaryVector
    {
        public static float Apply(float x) => MathF.Tanh(x);
        public static Vector256<float> Apply(Vector256<float> x) => VectorMath.Tanh(x);
        public static Vector128<float> Apply(Vector128<float> x) => VectorMath.Tanh(x);
    }

    private readonly struct ErfOp : IUnaryVector
    {
        public static float Apply(float x) => SpecialFunctions.Erf(x);
        public static Vector256<float> Apply(Vector256<float> x) => VectorMath.Erf(x);
        public static Vector128<float> Apply(Vector128<float> x) => VectorMath.Erf(x);
    }

    private readonly struct GeluOp : IUnaryVector
    {
        public static bool Has512 => true;
        public static Vector512<float> Apply(Vector512<float> x) => VectorMath.Gelu(x);
        public static float Apply(float x) => SpecialFunctions.Gelu(x);
        public static Vector256<float> Apply(Vector256<float> x) => VectorMath.Gelu(x);
        public static Vector128<float> Apply(Vector128<float> x) => VectorMath.Gelu(x);
    }

    internal interface IUnaryVector
    {
        /// <summary>Whether <see cref="Apply(Vector512{float})"/> exists (used on AVX-512 machines).</summary>
        static virtual bool Has512 => false;
        static virtual Vector512<float> Apply(Vector512<float> x) => throw new NotSupportedException();
        static abstract float Apply(float x);
        static abstract Vector256<float> Apply(Vector256<float> x);
        static abstract Vector128<float> Apply(Vector128<float> x);
    }

    private struct NegOp : IUnaryVector
    {
        public static float Apply(float x) => -x;
        public static Vector256<float> Apply(Vector256<float> x) => -x;
        public static Vector128<float> Apply(Vector128<float> x) => -x;
    }

    private struct AbsOp : IUnaryVector
    {
        public static float Apply(float x) => MathF.Abs(x);
        public static Vector256<float> Apply(Vector256<float> x) => Vector256.Abs(x);
        public static Vector128<float> Apply(Vector128<float> x) => Vector128.Abs(x);
    }

    private struct SqrtOp : IUnaryVector
    {
        public static float Apply(float x) => MathF.Sqrt(x);
        public static Vector256<float> Apply(Vector256<float> x) => Vector256.Sqrt(x);
        public static Vector128<float> Apply(Vector128<float> x) => Vector128.Sqrt(x);
    }

    private struct ReciprocalOp : IUnaryVector
    {
        public static float Apply(float x) => 1f / x;
        public static Vector256<float> Apply(Vector256<float> x) => Vector256<float>.One / x;
        public static Vector128<float> Apply(Vector128<float> x) => Vector128<float>.One / x;
    }

    private struct FloorOp : IUnaryVector
    {
        public static float Apply(float x) => MathF.Floor(x);
        public static Vector256<float> Apply(Vector256<float> x) => Vector256.Floor(x);
        public static Vector128<float> Apply(Vector128<float> x) => Vector128.Floor(x);
    }

    private struct CeilOp : IUnaryVector
    {
        public static float Apply(float x) => MathF.Ceiling(x);
        public static Vector256<float> Apply(Vector256<float> x) => Vector256.Ceiling(x);
        public static Vector128<float> Apply(Vector128<float> x) => Vector128.Ceiling(x);
    }

    // ================================================================ binary

    internal static void ValidateBinary(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y,
        ReadOnlySpan<int> outShape, ReadOnlySpan<int> aStrides, ReadOnlySpan<int> bStrides)
    {
        int rank = outShape.Length;
        if (rank > MaxRank) throw new ArgumentException($"Binary: rank {rank} exceeds {MaxRank}.", nameof(outShape));
        if (aStrides.Length != rank) throw new ArgumentException($"Binary: aStrides has {aStrides.Length} entries, expected rank {rank}.", nameof(aStrides));
        if (bStrides.Length != rank) throw new ArgumentException($"Binary: bStrides has {bStrides.Length} entries, expected rank {rank}.", nameof(bStrides));
        long total = 1, maxA = 0, maxB = 0;
        for (int d = 0; d < rank; d++)
        {
            if (outShape[d] < 0) throw new ArgumentException($"Binary: negative dimension {outShape[d]}.", nameof(outShape));
            if (aStrides[d] < 0) throw new ArgumentException($"Binary: negative stride {aStrides[d]}.", nameof(aStrides));
            if (bStrides[d] < 0) throw new ArgumentException($"Binary: negative stride {bStrides[d]}.", nameof(bStrides));
            total *= outShape[d];
            if (outShape[d] > 0)
            {
                maxA += (long)(outShape[d] - 1) * aStrides[d];
                maxB += (long)(outShape[d] - 1) * bStrides[d];
            }
        }
        if (y.Length != total) throw new ArgumentException($"Binary: y has {y.Length} elements, expected {total} (the product of outShape).", nameof(y));
        if (total == 0) return;
        if (a.Length <= maxA) throw new ArgumentException($"Binary: a has {a.Length} elements, its strides reach index {maxA}.", nameof(a));
        if (b.Length <= maxB) throw new ArgumentException($"Binary: b has {b.Length} elements, its strides reach index {maxB}.", nameof(b));
    }

    /// <summary>The specification of each binary operator.</summary>
    internal static float BinaryScalar(BinaryOp op, float a, float b) => op switch
    {
        BinaryOp.Add => a + b,
        BinaryOp.Sub => a - b,
        BinaryOp.Mul => a * b,
        BinaryOp.Div => a / b,
        BinaryOp.Pow => MathF.Pow(a, b),
        BinaryOp.Max => MathF.Max(a, b),
        BinaryOp.Min => MathF.Min(a, b),
        BinaryOp.PRelu => a < 0f ? b * a : a,
        BinaryOp.FMod => a % b,
        BinaryOp.Mod => FloorMod(a, b),
        _ => throw new ArgumentOutOfRangeException(nameof(op)),
    };

    /// <summary>The specification of <see cref="Binary(BinaryOp, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, ReadOnlySpan{int}, ReadOnlySpan{int}, ReadOnlySpan{int})"/>: an odometer over outShape in row-major order.</summary>
    internal static void BinaryScalarReference(BinaryOp op, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y,
        ReadOnlySpan<int> outShape, ReadOnlySpan<int> aStrides, ReadOnlySpan<int> bStrides)
    {
        int rank = outShape.Length;
        if (y.Length == 0) return;
        Span<int> idx = stackalloc int[MaxRank];
        idx.Clear();
        int oa = 0, ob = 0;
        for (int i = 0; i < y.Length; i++)
        {
            y[i] = BinaryScalar(op, a[oa], b[ob]);
            for (int d = rank - 1; d >= 0; d--)
            {
                if (++idx[d] < outShape[d]) { oa += aStrides[d]; ob += bStrides[d]; break; }
                idx[d] = 0;
                oa -= (outShape[d] - 1) * aStrides[d];
                ob -= (outShape[d] - 1) * bStrides[d];
            }
        }
    }

    /// <summary>
    /// Collapses the dimensions that are contiguous for both operands (and drops size-1 ones), then runs the
    /// innermost dimension as a row: a vector loop when both strides are 1 or one operand is broadcast (stride 0),
    /// which covers same-shape, scalar and per-channel operands.
    /// </summary>
    internal static void BinaryCore(BinaryOp op, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y,
        ReadOnlySpan<int> outShape, ReadOnlySpan<int> aStrides, ReadOnlySpan<int> bStrides, Isa isa)
    {
        if (isa == Isa.Scalar) { BinaryScalarReference(op, a, b, y, outShape, aStrides, bStrides); return; }
        switch (op)
        {
            case BinaryOp.Add: Broadcast<AddOp>(a, b, y, outShape, aStrides, bStrides, isa); break;
            case BinaryOp.Sub: Broadcast<SubOp>(a, b, y, outShape, aStrides, bStrides, isa); break;
            case BinaryOp.Mul: Broadcast<MulOp>(a, b, y, outShape, aStrides, bStrides, isa); break;
            case BinaryOp.Div: Broadcast<DivOp>(a, b, y, outShape, aStrides, bStrides, isa); break;
            case BinaryOp.Pow: Broadcast<PowOp>(a, b, y, outShape, aStrides, bStrides, isa); break;
            case BinaryOp.Max: Broadcast<MaxOp>(a, b, y, outShape, aStrides, bStrides, isa); break;
            case BinaryOp.Min: Broadcast<MinOp>(a, b, y, outShape, aStrides, bStrides, isa); break;
            case BinaryOp.PRelu: Broadcast<PReluOp>(a, b, y, outShape, aStrides, bStrides, isa); break;
            case BinaryOp.Mod or BinaryOp.FMod: BinaryScalarReference(op, a, b, y, outShape, aStrides, bStrides); break;
            default: throw new ArgumentOutOfRangeException(nameof(op));
        }
    }

    private static void Broadcast<TOp>(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y,
        ReadOnlySpan<int> outShape, ReadOnlySpan<int> aStrides, ReadOnlySpan<int> bStrides, Isa isa) where TOp : struct, IBinaryVector
    {
        if (y.Length == 0) return;
        // Collapsed dimensions, innermost first.
        Span<int> shape = stackalloc int[MaxRank];
        Span<int> sa = stackalloc int[MaxRank];
        Span<int> sb = stackalloc int[MaxRank];
        int r = 0;
        for (int d = outShape.Length - 1; d >= 0; d--)
        {
            if (outShape[d] == 1) continue;
            if (r > 0 && aStrides[d] == sa[r - 1] * shape[r - 1] && bStrides[d] == sb[r - 1] * shape[r - 1])
            {
                shape[r - 1] *= outShape[d];
                continue;
            }
            shape[r] = outShape[d]; sa[r] = aStrides[d]; sb[r] = bStrides[d]; r++;
        }
        if (r == 0) { shape[0] = 1; sa[0] = 0; sb[0] = 0; r = 1; }

        ref float ra = ref MemoryMarshal.GetReference(a);
        ref float rb = ref MemoryMarshal.GetReference(b);
        ref float ry = ref MemoryMarshal.GetReference(y);
        int inner = shape[0], ia = sa[0], ib = sb[0];
        Span<int> idx = stackalloc int[MaxRank];
        idx.Clear();
        int oa = 0, ob = 0;
        for (int yo = 0; yo < y.Length; yo += inner)
        {
            Row<TOp>(ref Unsafe.Add(ref ra, oa), ia, ref Unsafe.Add(ref rb, ob), ib, ref Unsafe.Add(ref ry, yo), inner, isa);
            for (int d = 1; d < r; d++)
            {
                if (++idx[d] < shape[d]) { oa += sa[d]; ob += sb[d]; break; }
                idx[d] = 0;
                oa -= (shape[d] - 1) * sa[d];
                ob -= (shape[d] - 1) * sb[d];
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Row<TOp>(ref float a, int sa, ref float b, int sb, ref float y, int len, Isa isa) where TOp : struct, IBinaryVector
    {
        int i = 0;
        if (TOp.Vectorized && (sa | sb) <= 1)
        {
            if (sa == 1 && sb == 1)
            {
                if (isa == Isa.Vector256)
                    for (; i <= len - 8; i += 8) TOp.Apply(Vector256.LoadUnsafe(ref a, (nuint)i), Vector256.LoadUnsafe(ref b, (nuint)i)).StoreUnsafe(ref y, (nuint)i);
                for (; i <= len - 4; i += 4) TOp.Apply(Vector128.LoadUnsafe(ref a, (nuint)i), Vector128.LoadUnsafe(ref b, (nuint)i)).StoreUnsafe(ref y, (nuint)i);
            }
            else if (sa == 1)
            {
                if (isa == Isa.Vector256)
                {
                    var vb = Vector256.Create(b);
                    for (; i <= len - 8; i += 8) TOp.Apply(Vector256.LoadUnsafe(ref a, (nuint)i), vb).StoreUnsafe(ref y, (nuint)i);
                }
                var vb4 = Vector128.Create(b);
                for (; i <= len - 4; i += 4) TOp.Apply(Vector128.LoadUnsafe(ref a, (nuint)i), vb4).StoreUnsafe(ref y, (nuint)i);
            }
            else if (sb == 1)
            {
                if (isa == Isa.Vector256)
                {
                    var va = Vector256.Create(a);
                    for (; i <= len - 8; i += 8) TOp.Apply(va, Vector256.LoadUnsafe(ref b, (nuint)i)).StoreUnsafe(ref y, (nuint)i);
                }
                var va4 = Vector128.Create(a);
                for (; i <= len - 4; i += 4) TOp.Apply(va4, Vector128.LoadUnsafe(ref b, (nuint)i)).StoreUnsafe(ref y, (nuint)i);
            }
        }
        for (; i < len; i++) Unsafe.Add(ref y, i) = TOp.Apply(Unsafe.Add(ref a, i * sa), Unsafe.Add(ref b, i * sb));
    }

    internal interface IBinaryVector
    {
        static abstract bool Vectorized { get; }
        static abstract float Apply(float a, float b);
        static abstract Vector256<float> Apply(Vector256<float> a, Vector256<float> b);
        static abstract Vector128<float> Apply(Vector128<float> a, Vector128<float> b);
    }

    private struct AddOp : IBinaryVector
    {
        public static bool Vectorized => true;
        public static float Apply(float a, float b) => a + b;
        public static Vector256<float> Apply(Vector256<float> a, Vector256<float> b) => a + b;
        public static Vector128<float> Apply(Vector128<float> a, Vector128<float> b) => a + b;
    }

    private struct SubOp : IBinaryVector
    {
        public static bool Vectorized => true;
        public static float Apply(float a, float b) => a - b;
        public static Vector256<float> Apply(Vector256<float> a, Vector256<float> b) => a - b;
        public static Vector128<float> Apply(Vector128<float> a, Vector128<float> b) => a - b;
    }

    private struct MulOp : IBinaryVector
    {
        public static bool Vectorized => true;
        public static float Apply(float a, float b) => a * b;
        public static Vector256<float> Apply(Vector256<float> a, Vector256<float> b) => a * b;
        public static Vector128<float> Apply(Vector128<float> a, Vector128<float> b) => a * b;
    }

    private struct DivOp : IBinaryVector
    {
        public static bool Vectorized => true;
        public static float Apply(float a, float b) => a / b;
        public static Vector256<float> Apply(Vector256<float> a, Vector256<float> b) => a / b;
        public static Vector128<float> Apply(Vector128<float> a, Vector128<float> b) => a / b;
    }

    private struct PowOp : IBinaryVector
    {
        public static bool Vectorized => false;
        public static float Apply(float a, float b) => MathF.Pow(a, b);
        public static Vector256<float> Apply(Vector256<float> a, Vector256<float> b) => throw new NotSupportedException();
        public static Vector128<float> Apply(Vector128<float> a, Vector128<float> b) => throw new NotSupportedException();
    }

    private struct MaxOp : IBinaryVector
    {
        public static bool Vectorized => true;
        public static float Apply(float a, float b) => MathF.Max(a, b);
        public static Vector256<float> Apply(Vector256<float> a, Vector256<float> b) => Vector256.Max(a, b);
        public static Vector128<float> Apply(Vector128<float> a, Vector128<float> b) => Vector128.Max(a, b);
    }

    private struct MinOp : IBinaryVector
    {
        public static bool Vectorized => true;
        public static float Apply(float a, float b) => MathF.Min(a, b);
        public static Vector256<float> Apply(Vector256<float> a, Vector256<float> b) => Vector256.Min(a, b);
        public static Vector128<float> Apply(Vector128<float> a, Vector128<float> b) => Vector128.Min(a, b);
    }

    private struct PReluOp : IBinaryVector
    {
        public static bool Vectorized => true;
        public static float Apply(float a, float b) => a < 0f ? b * a : a;
        public static Vector256<float> Apply(Vector256<float> a, Vector256<float> b) => Vector256.ConditionalSelect(Vector256.LessThan(a, Vector256<float>.Zero), b * a, a);
        public static Vector128<float> Apply(Vector128<float> a, Vector128<float> b) => Vector128.ConditionalSelect(Vector128.LessThan(a, Vector128<float>.Zero), b * a, a);
    }
}

/// <summary>Float special functions (accurate to a few ulp; .NET has no erf).</summary>
internal static class SpecialFunctions
{
    private const double TwoOverSqrtPi = 1.1283791670955126;
    private const double InvSqrt2 = 0.70710678118654752;

    /// <summary>erf in float, evaluated in double: a Taylor series for |x| &lt; 0.5, else 1 - erfc(|x|).</summary>
    public static float Erf(float x)
    {
        double ax = Math.Abs((double)x);
        if (float.IsNaN(x)) return x;
        if (ax < 0.5) return (float)ErfSeries(x);
        double r = 1.0 - Erfc(ax);
        return (float)(x < 0 ? -r : r);
    }

    /// <summary>x/2 · erfc(-x/√2), which is x/2 · (1 + erf(x/√2)) without cancellation for large negative x.</summary>
    public static float Gelu(float x)
    {
        if (float.IsNaN(x)) return x;
        double z = -(double)x * InvSqrt2;
        double erfc = Math.Abs(z) < 0.5 ? 1.0 - ErfSeries(z) : (z > 0 ? Erfc(z) : 2.0 - Erfc(-z));
        return (float)(0.5 * x * erfc);
    }

    public static float GeluTanh(float x)
    {
        double d = x;
        const double k = 0.79788456080286536; // √(2/π)
        return (float)(0.5 * d * (1.0 + Math.Tanh(k * (d + 0.044715 * d * d * d))));
    }

    /// <summary>ln(1 + e^x), stable for large |x| and accurate (log1p) where e^x is tiny.</summary>
    public static float Softplus(float x)
    {
        double d = x;
        return (float)(d > 0 ? d + Log1p(Math.Exp(-d)) : Log1p(Math.Exp(d)));
    }

    public static float Mish(float x)
    {
        double d = x;
        double sp = d > 0 ? d + Log1p(Math.Exp(-d)) : Log1p(Math.Exp(d));
        return (float)(d * Math.Tanh(sp));
    }

    /// <summary>2/√π · Σ (-1)^n x^(2n+1) / (n! (2n+1)) for |x| &lt; 0.5 (converged to double precision).</summary>
    private static double ErfSeries(double x)
    {
        double x2 = x * x, term = x, sum = x;
        for (int n = 1; n < 30; n++)
        {
            term *= -x2 / n;
            double next = sum + term / (2 * n + 1);
            if (next == sum) break;
            sum = next;
        }
        return TwoOverSqrtPi * sum;
    }

    /// <summary>
    /// erfc(z) for z ≥ 0 from the Chebyshev-fitted form t·exp(-z² + P(t)), t = 1/(1 + z/2), whose relative error
    /// is below 1.2e-7 for every z (Numerical Recipes, erfcc) — about one float ulp, and relative also where
    /// erfc is tiny.
    /// </summary>
    private static double Erfc(double z)
    {
        double t = 1.0 / (1.0 + 0.5 * z);
        return t * Math.Exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 +
            t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 +
            t * (-0.82215223 + t * 0.17087277)))))))));
    }

    /// <summary>ln(1 + u) without cancellation near 0.</summary>
    private static double Log1p(double u)
    {
        double v = 1.0 + u;
        if (v == 1.0) return u;
        if (double.IsPositiveInfinity(v)) return v;
        return Math.Log(v) * (u / (v - 1.0));
    }
}
