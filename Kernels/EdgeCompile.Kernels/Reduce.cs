using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace EdgeCompile.Kernels;

/// <summary>The reductions of ONNX ReduceSum, ReduceMean, ReduceMax, ... over one (collapsed) axis.</summary>
public enum ReduceOp
{
    /// <summary>Σ x.</summary>
    Sum,
    /// <summary>Σ x / axis.</summary>
    Mean,
    /// <summary>max x (-infinity over an empty axis).</summary>
    Max,
    /// <summary>min x (+infinity over an empty axis).</summary>
    Min,
    /// <summary>Π x.</summary>
    Prod,
    /// <summary>Σ x².</summary>
    SumSquare,
    /// <summary>Σ |x|.</summary>
    L1,
    /// <summary>sqrt(Σ x²).</summary>
    L2,
    /// <summary>log Σ e^x, computed as m + log Σ e^(x - m) with m the max (stable).</summary>
    LogSumExp,
    /// <summary>log Σ x.</summary>
    LogSum,
}

/// <summary>Reductions of the middle axis of a tensor viewed as [outer, axis, inner].</summary>
public static partial class Reduce
{
    /// <summary>Reduces the middle axis of x viewed as [outer, axis, inner] into y[outer, inner].</summary>
    /// <exception cref="ArgumentException">x is not outer*axis*inner long or y is not outer*inner long.</exception>
    public static void Run(ReduceOp op, ReadOnlySpan<float> x, Span<float> y, int outer, int axis, int inner)
    {
        Validate(x, y, outer, axis, inner);
        RunCore(op, x, y, outer, axis, inner, KernelPaths.Best);
    }

    internal static void Validate(ReadOnlySpan<float> x, Span<float> y, int outer, int axis, int inner)
    {
        if (outer < 0 || axis < 0 || inner < 0) throw new ArgumentException($"Reduce: negative outer={outer}, axis={axis}, inner={inner}.", nameof(outer));
        if (x.Length != (long)outer * axis * inner) throw new ArgumentException($"Reduce: x has {x.Length} elements, expected outer*axis*inner = {(long)outer * axis * inner}.", nameof(x));
        if (y.Length != (long)outer * inner) throw new ArgumentException($"Reduce: y has {y.Length} elements, expected outer*inner = {(long)outer * inner}.", nameof(y));
    }

    /// <summary>The specification: per output, accumulate along the axis in order, then finish (mean, sqrt).</summary>
    internal static void RunScalar(ReduceOp op, ReadOnlySpan<float> x, Span<float> y, int outer, int axis, int inner)
    {
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                int b = o * axis * inner + i;
                float acc;
                switch (op)
                {
                    case ReduceOp.Sum:
                    case ReduceOp.Mean:
                        acc = 0f;
                        for (int a = 0; a < axis; a++) acc += x[b + a * inner];
                        if (op == ReduceOp.Mean) acc /= axis;
                        break;
                    case ReduceOp.Max:
                        acc = float.NegativeInfinity;
                        for (int a = 0; a < axis; a++) acc = MathF.Max(acc, x[b + a * inner]);
                        break;
                    case ReduceOp.Min:
                        acc = float.PositiveInfinity;
                        for (int a = 0; a < axis; a++) acc = MathF.Min(acc, x[b + a * inner]);
                        break;
                    case ReduceOp.Prod:
                        acc = 1f;
                        for (int a = 0; a < axis; a++) acc *= x[b + a * inner];
                        break;
                    case ReduceOp.SumSquare:
                    case ReduceOp.L2:
                        acc = 0f;
                        for (int a = 0; a < axis; a++) { float v = x[b + a * inner]; acc += v * v; }
                        if (op == ReduceOp.L2) acc = MathF.Sqrt(acc);
                        break;
                    case ReduceOp.L1:
                        acc = 0f;
                        for (int a = 0; a < axis; a++) acc += MathF.Abs(x[b + a * inner]);
                        break;
                    case ReduceOp.LogSumExp:
                        acc = LogSumExpStrided(x, b, axis, inner);
                        break;
                    case ReduceOp.LogSum:
                        acc = 0f;
                        for (int a = 0; a < axis; a++) acc += x[b + a * inner];
                        acc = MathF.Log(acc);
                        break;
                    default:
                        throw new ArgumentOutOfRangeException(nameof(op));
                }
                y[o * inner + i] = acc;
            }
    }

    private static float LogSumExpStrided(ReadOnlySpan<float> x, int b, int axis, int inner)
    {
        float m = float.NegativeInfinity;
        for (int a = 0; a < axis; a++) m = MathF.Max(m, x[b + a * inner]);
        if (float.IsInfinity(m) || float.IsNaN(m)) return m;
        float s = 0f;
        for (int a = 0; a < axis; a++) s += MathF.Exp(x[b + a * inner] - m);
        return m + MathF.Log(s);
    }

    /// <summary>
    /// Vector paths: with inner > 1 a vector runs across inner (each output still sums along the axis in
    /// order, so this matches the reference exactly); with inner == 1 each row is reduced with vector lanes
    /// (sums reordered). LogSumExp stays scalar (it is dominated by exp).
    /// </summary>
    internal static void RunCore(ReduceOp op, ReadOnlySpan<float> x, Span<float> y, int outer, int axis, int inner, Isa isa)
    {
        if (isa == Isa.Scalar || op is ReduceOp.LogSumExp or ReduceOp.LogSum)
        {
            RunScalar(op, x, y, outer, axis, inner);
            return;
        }
        switch (op)
        {
            case ReduceOp.Sum: Dispatch<SumOp>(x, y, outer, axis, inner, isa); break;
            case ReduceOp.Mean: Dispatch<SumOp>(x, y, outer, axis, inner, isa); Finish(y, mean: true, axis); break;
            case ReduceOp.Max: Dispatch<MaxOp>(x, y, outer, axis, inner, isa); break;
            case ReduceOp.Min: Dispatch<MinOp>(x, y, outer, axis, inner, isa); break;
            case ReduceOp.Prod: Dispatch<ProdOp>(x, y, outer, axis, inner, isa); break;
            case ReduceOp.SumSquare: Dispatch<SumSquareOp>(x, y, outer, axis, inner, isa); break;
            case ReduceOp.L2: Dispatch<SumSquareOp>(x, y, outer, axis, inner, isa); Finish(y, mean: false, axis); break;
            case ReduceOp.L1: Dispatch<L1Op>(x, y, outer, axis, inner, isa); break;
            default: throw new ArgumentOutOfRangeException(nameof(op));
        }
    }

    private static void Finish(Span<float> y, bool mean, int axis)
    {
        // Divide (not multiply by the reciprocal) so Mean rounds like the reference.
        if (mean) for (int i = 0; i < y.Length; i++) y[i] /= axis;
        else for (int i = 0; i < y.Length; i++) y[i] = MathF.Sqrt(y[i]);
    }

    private static void Dispatch<TOp>(ReadOnlySpan<float> x, Span<float> y, int outer, int axis, int inner, Isa isa)
        where TOp : struct, IAccumulate
    {
        if (inner == 1)
        {
            for (int o = 0; o < outer; o++) y[o] = ReduceRow<TOp>(x.Slice(o * axis, axis), isa);
            return;
        }
        ref float rx = ref MemoryMarshal.GetReference(x);
        ref float ry = ref MemoryMarshal.GetReference(y);
        for (int o = 0; o < outer; o++)
        {
            int xb = o * axis * inner, yb = o * inner;
            int i = 0;
            if (isa == Isa.Vector256)
                for (; i <= inner - 8; i += 8)
                {
                    var acc = Vector256.Create(TOp.Init);
                    for (int a = 0; a < axis; a++) acc = TOp.Step(acc, Vector256.LoadUnsafe(ref rx, (nuint)(xb + a * inner + i)));
                    acc.StoreUnsafe(ref ry, (nuint)(yb + i));
                }
            for (; i <= inner - 4; i += 4)
            {
                var acc = Vector128.Create(TOp.Init);
                for (int a = 0; a < axis; a++) acc = TOp.Step(acc, Vector128.LoadUnsafe(ref rx, (nuint)(xb + a * inner + i)));
                acc.StoreUnsafe(ref ry, (nuint)(yb + i));
            }
            for (; i < inner; i++)
            {
                float acc = TOp.Init;
                for (int a = 0; a < axis; a++) acc = TOp.Step(acc, Unsafe.Add(ref rx, xb + a * inner + i));
                Unsafe.Add(ref ry, yb + i) = acc;
            }
        }
    }

    /// <summary>Reduces one contiguous row with vector lanes, then combines the lanes and the scalar tail.</summary>
    internal static float ReduceRow<TOp>(ReadOnlySpan<float> row, Isa isa) where TOp : struct, IAccumulate
    {
        ref float r = ref MemoryMarshal.GetReference(row);
        int i = 0, len = row.Length;
        float acc = TOp.Init;
        if (isa == Isa.Vector256 && len >= 16)
        {
            var a0 = Vector256.Create(TOp.Init);
            var a1 = a0;
            for (; i <= len - 16; i += 16)
            {
                a0 = TOp.Step(a0, Vector256.LoadUnsafe(ref r, (nuint)i));
                a1 = TOp.Step(a1, Vector256.LoadUnsafe(ref r, (nuint)(i + 8)));
            }
            var lanes = TOp.Combine(a0, a1);
            for (int l = 0; l < 8; l++) acc = TOp.Combine(acc, lanes.GetElement(l));
        }
        else if (isa >= Isa.Vector128 && len >= 4)
        {
            var a0 = Vector128.Create(TOp.Init);
            for (; i <= len - 4; i += 4) a0 = TOp.Step(a0, Vector128.LoadUnsafe(ref r, (nuint)i));
            for (int l = 0; l < 4; l++) acc = TOp.Combine(acc, a0.GetElement(l));
        }
        for (; i < len; i++) acc = TOp.Step(acc, Unsafe.Add(ref r, i));
        return acc;
    }

    internal static float SumRow(ReadOnlySpan<float> row, Isa isa) => ReduceRow<SumOp>(row, isa);
    internal static float MaxRow(ReadOnlySpan<float> row, Isa isa) => ReduceRow<MaxOp>(row, isa);

    /// <summary>One reduction as an accumulator: a start value, a step, and how two partial results combine.</summary>
    internal interface IAccumulate
    {
        static abstract float Init { get; }
        static abstract float Step(float acc, float v);
        static abstract Vector256<float> Step(Vector256<float> acc, Vector256<float> v);
        static abstract Vector128<float> Step(Vector128<float> acc, Vector128<float> v);
        static abstract float Combine(float a, float b);
        static abstract Vector256<float> Combine(Vector256<float> a, Vector256<float> b);
    }

    internal struct SumOp : IAccumulate
    {
        public static float Init => 0f;
        public static float Step(float acc, float v) => acc + v;
        public static Vector256<float> Step(Vector256<float> acc, Vector256<float> v) => acc + v;
        public static Vector128<float> Step(Vector128<float> acc, Vector128<float> v) => acc + v;
        public static float Combine(float a, float b) => a + b;
        public static Vector256<float> Combine(Vector256<float> a, Vector256<float> b) => a + b;
    }

    internal struct SumSquareOp : IAccumulate
    {
        public static float Init => 0f;
        public static float Step(float acc, float v) => acc + v * v;
        public static Vector256<float> Step(Vector256<float> acc, Vector256<float> v) => acc + v * v;
        public static Vector128<float> Step(Vector128<float> acc, Vector128<float> v) => acc + v * v;
        public static float Combine(float a, float b) => a + b;
        public static Vector256<float> Combine(Vector256<float> a, Vector256<float> b) => a + b;
    }

    internal struct L1Op : IAccumulate
    {
        public static float Init => 0f;
        public static float Step(float acc, float v) => acc + MathF.Abs(v);
        public static Vector256<float> Step(Vector256<float> acc, Vector256<float> v) => acc + Vector256.Abs(v);
        public static Vector128<float> Step(Vector128<float> acc, Vector128<float> v) => acc + Vector128.Abs(v);
        public static float Combine(float a, float b) => a + b;
        public static Vector256<float> Combine(Vector256<float> a, Vector256<float> b) => a + b;
    }

    internal struct ProdOp : IAccumulate
    {
        public static float Init => 1f;
        public static float Step(float acc, float v) => acc * v;
        public static Vector256<float> Step(Vector256<float> acc, Vector256<float> v) => acc * v;
        public static Vector128<float> Step(Vector128<float> acc, Vector128<float> v) => acc * v;
        public static float Combine(float a, float b) => a * b;
        public static Vector256<float> Combine(Vector256<float> a, Vector256<float> b) => a * b;
    }

    internal struct MaxOp : IAccumulate
    {
        public static float Init => float.NegativeInfinity;
        public static float Step(float acc, float v) => MathF.Max(acc, v);
        public static Vector256<float> Step(Vector256<float> acc, Vector256<float> v) => Vector256.Max(acc, v);
        public static Vector128<float> Step(Vector128<float> acc, Vector128<float> v) => Vector128.Max(acc, v);
        public static float Combine(float a, float b) => MathF.Max(a, b);
        public static Vector256<float> Combine(Vector256<float> a, Vector256<float> b) => Vector256.Max(a, b);
    }

    internal struct MinOp : IAccumulate
    {
        public static float Init => float.PositiveInfinity;
        public static float Step(float acc, float v) => MathF.Min(acc, v);
        public static Vector256<float> Step(Vector256<float> acc, Vector256<float> v) => Vector256.Min(acc, v);
        public static Vector128<float> Step(Vector128<float> acc, Vector128<float> v) => Vector128.Min(acc, v);
        public static float Combine(float a, float b) => MathF.Min(a, b);
        public static Vector256<float> Combine(Vector256<float> a, Vector256<float> b) => Vector256.Min(a, b);
    }
}
