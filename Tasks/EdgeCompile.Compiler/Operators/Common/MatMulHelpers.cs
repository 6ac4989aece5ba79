using System.Numerics;
using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.IR;

namespace EdgeCompile.Compiler.Operators.Common;

/// <summary>
/// Logic shared by the matrix-product and quantization operators (MatMul, Gemm, MatMulInteger,
/// QLinearMatMul, QuantizeLinear, DequantizeLinear). Three parts:
/// <list type="number">
/// <item><b>Matrix products</b>: numpy <c>matmul</c> shape rules (1-D promotion, batch broadcasting) for
/// concrete and symbolic shapes, and one batched product over <see cref="INumber{T}"/> (double for floats,
/// long for integers, which wraps like two's complement hardware).</item>
/// <item><b>Quantization arithmetic</b>: the integer range of each quantized type, round-half-to-even with
/// saturation, and rounding an intermediate to the precision of a float type (the spec fixes the precision of
/// the quantize division and the dequantize multiplication).</item>
/// <item><b>Quantization parameter layout</b>: which scale / zero-point element applies to each element of
/// the quantized tensor, for the three granularities of QuantizeLinear/DequantizeLinear (per-tensor,
/// per-axis, blocked) and for the per-row / per-column parameters of MatMulInteger and QLinearMatMul.</item>
/// </list>
/// Everything here is written for exactness and clarity; the int8 lowering builds on the same definitions.
/// </summary>
public static class MatMulHelpers
{
    // ------------------------------------------------------------------------------------------------
    // Element access
    // ------------------------------------------------------------------------------------------------

    /// <summary>
    /// Element values as long, chosen by the tensor's DataType (exact for every integer type and bool;
    /// uint64 keeps its bits). Unlike <see cref="Tensor.ToInt64s"/>, this does not pattern-match the CLR
    /// array: the runtime lets a byte[] pass as sbyte[] (and ushort[]/short[], uint[]/int[], ulong[]/long[]),
    /// which makes a type switch on the array read unsigned data as signed. Floats truncate toward zero.
    /// </summary>
    public static long[] Int64Values(Tensor t)
    {
        var r = new long[t.Length];
        switch (t.DataType)
        {
            case DataType.UInt8: { var a = t.As<byte>(); for (int i = 0; i < a.Length; i++) r[i] = a[i]; break; }
            case DataType.Int8: { var a = t.As<sbyte>(); for (int i = 0; i < a.Length; i++) r[i] = a[i]; break; }
            case DataType.UInt16: { var a = t.As<ushort>(); for (int i = 0; i < a.Length; i++) r[i] = a[i]; break; }
            case DataType.Int16: { var a = t.As<short>(); for (int i = 0; i < a.Length; i++) r[i] = a[i]; break; }
            case DataType.UInt32: { var a = t.As<uint>(); for (int i = 0; i < a.Length; i++) r[i] = a[i]; break; }
            case DataType.Int32: { var a = t.As<int>(); for (int i = 0; i < a.Length; i++) r[i] = a[i]; break; }
            case DataType.UInt64: { var a = t.As<ulong>(); for (int i = 0; i < a.Length; i++) r[i] = unchecked((long)a[i]); break; }
            case DataType.Int64: Array.Copy(t.As<long>(), r, r.Length); break;
            case DataType.Bool: { var a = t.As<bool>(); for (int i = 0; i < a.Length; i++) r[i] = a[i] ? 1 : 0; break; }
            default: { var d = DoubleValues(t); for (int i = 0; i < d.Length; i++) r[i] = Tensor.DoubleToInt64(d[i]); break; }
        }
        return r;
    }

    /// <summary>Element values as double, chosen by DataType (see <see cref="Int64Values"/> for why); exact for floats and integers up to 2^53.</summary>
    public static double[] DoubleValues(Tensor t)
    {
        var r = new double[t.Length];
        switch (t.DataType)
        {
            case DataType.Float: { var a = t.As<float>(); for (int i = 0; i < a.Length; i++) r[i] = a[i]; break; }
            case DataType.Double: Array.Copy(t.As<double>(), r, r.Length); break;
            case DataType.Float16: { var a = t.As<Half>(); for (int i = 0; i < a.Length; i++) r[i] = (double)a[i]; break; }
            case DataType.BFloat16: { var a = t.As<BFloat16>(); for (int i = 0; i < a.Length; i++) r[i] = (float)a[i]; break; }
            case DataType.UInt64: { var a = t.As<ulong>(); for (int i = 0; i < a.Length; i++) r[i] = a[i]; break; }
            default: { var l = Int64Values(t); for (int i = 0; i < l.Length; i++) r[i] = l[i]; break; }
        }
        return r;
    }

    // ------------------------------------------------------------------------------------------------
    // Matrix products
    // ------------------------------------------------------------------------------------------------

    /// <summary>
    /// Shapes of a numpy-style matrix product (ONNX MatMul): A [..., M, K] x B [..., K, N] → [..., M, N].
    /// A 1-D A is promoted to [1, K] and a 1-D B to [K, 1]; the promoted dims are removed from the result.
    /// Batch dims broadcast (multidirectionally). Both operands must have rank ≥ 1.
    /// </summary>
    public readonly record struct MatMulLayout(int[] ABatch, int[] BBatch, int[] OutBatch, int M, int K, int N, int[] OutShape);

    public static MatMulLayout Layout(NodeContext ctx, int[] aShape, int[] bShape)
    {
        if (aShape.Length == 0 || bShape.Length == 0)
            throw ctx.Error(EdgeCodes.ShapeMismatch, $"{ctx.Node.OpType} needs operands of rank ≥ 1, got {Shapes.Format(aShape)} and {Shapes.Format(bShape)}.");
        var a = aShape.Length == 1 ? [1, aShape[0]] : aShape;
        var b = bShape.Length == 1 ? [bShape[0], 1] : bShape;
        int m = a[^2], k = a[^1], kb = b[^2], n = b[^1];
        if (k != kb)
            throw ctx.Error(EdgeCodes.ShapeMismatch, $"{ctx.Node.OpType}: the inner dimensions differ ({Shapes.Format(aShape)} x {Shapes.Format(bShape)}: {k} vs {kb}).");
        var aBatch = a[..^2];
        var bBatch = b[..^2];
        int[] outBatch;
        try { outBatch = Shapes.Broadcast(aBatch, bBatch); }
        catch (EdgeException e) { throw ctx.Error(EdgeCodes.ShapeMismatch, $"{ctx.Node.OpType}: batch dimensions do not broadcast: {e.Message}"); }
        var outShape = new List<int>(outBatch);
        if (aShape.Length > 1) outShape.Add(m);
        if (bShape.Length > 1) outShape.Add(n);
        return new MatMulLayout(aBatch, bBatch, outBatch, m, k, n, outShape.ToArray());
    }

    /// <summary>
    /// Symbolic version of <see cref="Layout"/> for shape inference: the output shape, or null when a rank is
    /// unknown. Known inner dimensions that differ are a coded error.
    /// </summary>
    public static Dim[]? InferMatMulShape(InferenceContext ctx, Dim[]? aShape, Dim[]? bShape)
    {
        if (aShape is null || bShape is null) return null;
        if (aShape.Length == 0 || bShape.Length == 0)
            throw ctx.Error(EdgeCodes.ShapeMismatch, $"{ctx.Node.OpType} needs operands of rank ≥ 1.");
        var a = aShape.Length == 1 ? [Dim.Known(1), aShape[0]] : aShape;
        var b = bShape.Length == 1 ? [bShape[0], Dim.Known(1)] : bShape;
        if (a[^1].IsKnown && b[^2].IsKnown && a[^1].Value != b[^2].Value)
            throw ctx.Error(EdgeCodes.ShapeMismatch, $"{ctx.Node.OpType}: the inner dimensions differ ({a[^1].Value} vs {b[^2].Value}).");
        var batch = ShapeRules.Broadcast(ctx, a[..^2], b[..^2])!;
        var r = new List<Dim>(batch);
        if (aShape.Length > 1) r.Add(a[^2]);
        if (bShape.Length > 1) r.Add(b[^1]);
        return r.ToArray();
    }

    /// <summary>
    /// The batched matrix product of row-major <paramref name="a"/> and <paramref name="b"/> laid out as
    /// <paramref name="l"/> describes, accumulated in <typeparamref name="T"/> (use double for floats: the
    /// caller rounds once to the output type; long for integers: wraps modulo 2^64, so narrowing afterwards
    /// gives the same bits as a wrapping accumulator of the output width).
    /// </summary>
    public static T[] BatchedMatMul<T>(MatMulLayout l, T[] a, T[] b) where T : INumber<T>
    {
        int m = l.M, k = l.K, n = l.N;
        var aMat = Shapes.BroadcastIndex(l.ABatch, l.OutBatch); // which A matrix feeds each output batch
        var bMat = Shapes.BroadcastIndex(l.BBatch, l.OutBatch);
        var r = new T[checked(aMat.Length * m * n)];
        for (int batch = 0; batch < aMat.Length; batch++)
        {
            int aOff = aMat[batch] * m * k, bOff = bMat[batch] * k * n, rOff = batch * m * n;
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                {
                    T acc = T.Zero;
                    for (int p = 0; p < k; p++) acc += a[aOff + i * k + p] * b[bOff + p * n + j];
                    r[rOff + i * n + j] = acc;
                }
        }
        return r;
    }

    /// <summary>Matrix product of two tensors of the same numeric type (ONNX MatMul semantics).</summary>
    public static Tensor MatMul(NodeContext ctx, Tensor a, Tensor b)
    {
        if (a.DataType != b.DataType)
            throw ctx.Error(EdgeCodes.ShapeMismatch, $"{ctx.Node.OpType}: operand types differ ({a.DataType.OnnxName()} vs {b.DataType.OnnxName()}).");
        if (a.DataType == DataType.Bool)
            throw ctx.Error(EdgeCodes.ShapeMismatch, $"{ctx.Node.OpType} does not accept bool operands.");
        var l = Layout(ctx, a.Shape, b.Shape);
        if (a.DataType.IsFloat())
            return Tensor.FromDoubles(a.DataType, l.OutShape, BatchedMatMul(l, DoubleValues(a), DoubleValues(b)));
        return Tensor.FromInt64s(a.DataType, l.OutShape, BatchedMatMul(l, Int64Values(a), Int64Values(b)));
    }

    // ------------------------------------------------------------------------------------------------
    // Quantization arithmetic
    // ------------------------------------------------------------------------------------------------

    /// <summary>True for the integer types QuantizeLinear can produce and DequantizeLinear can consume here.</summary>
    public static bool IsQuantizedInteger(DataType t) =>
        t is DataType.UInt8 or DataType.Int8 or DataType.UInt16 or DataType.Int16 or DataType.Int32;

    /// <summary>The saturation range of a quantized integer type (QuantizeLinear spec: uint8 [0, 255], int8 [-128, 127], ...).</summary>
    public static (long Min, long Max) QuantRange(DataType t) => t switch
    {
        DataType.UInt8 => (byte.MinValue, byte.MaxValue),
        DataType.Int8 => (sbyte.MinValue, sbyte.MaxValue),
        DataType.UInt16 => (ushort.MinValue, ushort.MaxValue),
        DataType.Int16 => (short.MinValue, short.MaxValue),
        DataType.Int32 => (int.MinValue, int.MaxValue),
        DataType.UInt32 => (uint.MinValue, uint.MaxValue),
        DataType.Int64 => (long.MinValue, long.MaxValue),
        _ => throw new ArgumentOutOfRangeException(nameof(t), t, "not a quantized integer type"),
    };

    /// <summary>Clamps <paramref name="v"/> into the range of <paramref name="t"/>.</summary>
    public static long Saturate(long v, DataType t)
    {
        var (lo, hi) = QuantRange(t);
        return Math.Clamp(v, lo, hi);
    }

    /// <summary>
    /// Rounds to the nearest integer, ties to even (the spec's rounding for QuantizeLinear and the
    /// requantization of QLinearMatMul/QLinearConv: 2.5 → 2, 3.5 → 4, -2.5 → -2), then saturates into the
    /// range of <paramref name="t"/>. NaN gives 0 (ONNX leaves it undefined).
    /// </summary>
    public static long RoundHalfEvenSaturate(double v, DataType t)
    {
        if (double.IsNaN(v)) return Saturate(0, t);
        var (lo, hi) = QuantRange(t);
        double r = Math.Round(v, MidpointRounding.ToEven);
        if (r <= lo) return lo;
        if (r >= hi) return hi;
        return (long)r;
    }

    /// <summary>
    /// Rounds a double to the precision of the float type <paramref name="t"/> (round to nearest even), e.g.
    /// to evaluate "x / y_scale" in the scale's precision as the QuantizeLinear spec requires.
    /// </summary>
    public static double RoundToType(double v, DataType t) => t switch
    {
        DataType.Float => (float)v,
        DataType.Double => v,
        DataType.Float16 => (double)(Half)v,
        DataType.BFloat16 => (float)(BFloat16)(float)v,
        _ => throw new ArgumentOutOfRangeException(nameof(t), t, "not a float type"),
    };

    // ------------------------------------------------------------------------------------------------
    // Quantization parameter layout
    // ------------------------------------------------------------------------------------------------

    /// <summary>How scales and zero points map onto a quantized tensor (QuantizeLinear / DequantizeLinear).</summary>
    public enum Granularity { PerTensor, PerAxis, Blocked }

    /// <summary>
    /// Classifies the scale shape for QuantizeLinear/DequantizeLinear and checks it against the input shape
    /// (spec, opset 21+): a scalar or single-element scale is per-tensor; with <paramref name="blockSize"/> = 0
    /// a 1-D scale of length x.shape[axis] is per-axis; with <paramref name="blockSize"/> &gt; 0 the scale has
    /// x's rank, equal dims except on <paramref name="axis"/> where it is ceil(x.shape[axis] / block_size).
    /// Returns the granularity and the normalized axis (0 for per-tensor).
    /// </summary>
    public static (Granularity Kind, int Axis) ClassifyScale(NodeContext ctx, int[] xShape, int[] scaleShape, long axis, long blockSize)
    {
        if (blockSize < 0)
            throw ctx.Error(EdgeCodes.InvalidAttribute, $"block_size must be ≥ 0, got {blockSize}.");
        long scaleCount = Shapes.Product(scaleShape);
        if (blockSize == 0 && scaleCount == 1 && scaleShape.Length <= 1) return (Granularity.PerTensor, 0);
        int ax = ShapeRules.Axis(ctx, axis, xShape.Length);
        if (blockSize == 0)
        {
            if (scaleShape.Length != 1 || scaleShape[0] != xShape[ax])
                throw ctx.Error(EdgeCodes.ShapeMismatch,
                    $"Per-axis quantization needs a 1-D scale of length {xShape[ax]} (input dim {ax} of {Shapes.Format(xShape)}), got {Shapes.Format(scaleShape)}; use a scalar scale for per-tensor quantization or set block_size for blocked quantization.");
            return (Granularity.PerAxis, ax);
        }
        if (scaleShape.Length != xShape.Length)
            throw ctx.Error(EdgeCodes.ShapeMismatch, $"Blocked quantization needs a scale of the input's rank {xShape.Length}, got {Shapes.Format(scaleShape)}.");
        for (int d = 0; d < xShape.Length; d++)
        {
            long want = d == ax ? (xShape[d] + blockSize - 1) / blockSize : xShape[d];
            if (scaleShape[d] != want)
                throw ctx.Error(EdgeCodes.ShapeMismatch,
                    $"Blocked quantization (axis {ax}, block_size {blockSize}) of an input {Shapes.Format(xShape)} needs scale dim {d} = {want}, got {Shapes.Format(scaleShape)}.");
        }
        return (Granularity.Blocked, ax);
    }

    /// <summary>
    /// For each element of a tensor of shape <paramref name="xShape"/> (row-major), the flat index of the
    /// scale / zero-point element that applies to it, per <see cref="ClassifyScale"/>: 0 (per-tensor),
    /// the coordinate along the axis (per-axis), or the same coordinates with the axis coordinate divided by
    /// the block size (blocked; the last block may be shorter).
    /// </summary>
    public static int[] QuantParamIndex(NodeContext ctx, int[] xShape, int[] scaleShape, long axis, long blockSize)
    {
        var (kind, ax) = ClassifyScale(ctx, xShape, scaleShape, axis, blockSize);
        int count = checked((int)Shapes.Product(xShape));
        var idx = new int[count];
        if (kind == Granularity.PerTensor) return idx;
        int inner = checked((int)Shapes.Product(xShape.AsSpan(ax + 1))); // elements per step along the axis
        int dim = xShape[ax];
        if (kind == Granularity.PerAxis)
        {
            for (int e = 0; e < count; e++) idx[e] = e / inner % dim;
            return idx;
        }
        int blocks = scaleShape[ax];
        for (int e = 0; e < count; e++)
        {
            int outer = e / (inner * dim), along = e / inner % dim, rest = e % inner;
            idx[e] = (outer * blocks + (int)(along / blockSize)) * inner + rest;
        }
        return idx;
    }

    /// <summary>
    /// For each element of a matrix operand of MatMulInteger / QLinearMatMul, the flat index of its
    /// zero-point (or scale) element. The spec allows: a scalar or single-element tensor (per tensor); for
    /// A [..., M, K] a 1-D tensor of length M (per row) or [..., M, 1]; for B [..., K, N] a 1-D tensor of
    /// length N (per column) or [..., 1, N]. N-D parameters broadcast unidirectionally onto the operand.
    /// </summary>
    public static int[] MatrixParamIndex(NodeContext ctx, int[] operandShape, int[] paramShape, bool isA, string what)
    {
        int count = checked((int)Shapes.Product(operandShape));
        if (Shapes.Product(paramShape) == 1) return new int[count];
        int rank = operandShape.Length;
        if (paramShape.Length == 1 && rank >= 2)
        {
            // Per row of A: index = m; per column of B: index = n.
            int rowDim = operandShape[rank - 2], colDim = operandShape[rank - 1];
            int want = isA ? rowDim : colDim;
            if (paramShape[0] != want)
                throw ctx.Error(EdgeCodes.ShapeMismatch,
                    $"{what} has {paramShape[0]} elements; per-{(isA ? "row" : "column")} quantization of an operand {Shapes.Format(operandShape)} needs {want}.");
            var idx = new int[count];
            for (int e = 0; e < count; e++) idx[e] = isA ? e / colDim % rowDim : e % colDim;
            return idx;
        }
        bool fits = paramShape.Length <= rank;
        for (int i = 0; fits && i < paramShape.Length; i++)
        {
            int p = paramShape[^(i + 1)], o = operandShape[^(i + 1)];
            fits = p == 1 || p == o;
        }
        // The reduced (K) axis must not carry distinct parameters, or the product would not factor.
        if (fits && paramShape.Length >= (isA ? 1 : 2) && paramShape[isA ? ^1 : ^2] != 1 && (isA ? operandShape[^1] : operandShape[^2]) != 1)
            fits = false;
        if (!fits)
            throw ctx.Error(EdgeCodes.ShapeMismatch,
                $"{what} of shape {Shapes.Format(paramShape)} does not fit operand {Shapes.Format(operandShape)}: use a scalar, a 1-D tensor per {(isA ? "row" : "column")}, or a shape like {(isA ? "[..., M, 1]" : "[..., 1, N]")}.");
        return Shapes.BroadcastIndex(paramShape, operandShape);
    }
}
