using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.IR;
using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>
/// Gemm (opset 7+): Y = alpha * A' * B' + beta * C, where A' = transA ? Aᵀ : A (M x K) and
/// B' = transB ? Bᵀ : B (K x N). C broadcasts unidirectionally to [M, N]; it is required before opset 11
/// and optional since. Floats compute in double and round once; integers accumulate in long (wrapping),
/// and alpha/beta other than 1 scale the exact sums in double then truncate like a cast.
/// </summary>
public sealed class Gemm : Operator
{
    public override string OpType => "Gemm";
    // 'broadcast' existed up to opset 6 (always-on broadcasting since 7); accepted and ignored.
    public override IReadOnlyCollection<string> Attributes => ["alpha", "beta", "transA", "transB", "broadcast"];
    public override int MinInputs => 2;
    public override int MaxInputs => 3;

    public override void InferTypes(InferenceContext ctx)
    {
        if (ctx.Opset < 11 && !ctx.HasInput(2))
            throw ctx.Error(EdgeCodes.InvalidArity, "Gemm needs input C before opset 11.");
        var t = ctx.InputElemType(0);
        var a = ctx.InputShape(0);
        var b = ctx.InputShape(1);
        bool transA = ctx.GetInt("transA", 0) != 0, transB = ctx.GetInt("transB", 0) != 0;
        if (a is not null && a.Length != 2) throw ctx.Error(EdgeCodes.ShapeMismatch, $"Gemm input A must be 2-D, got rank {a.Length}.");
        if (b is not null && b.Length != 2) throw ctx.Error(EdgeCodes.ShapeMismatch, $"Gemm input B must be 2-D, got rank {b.Length}.");
        Dim m = a is null ? Dim.Unknown : a[transA ? 1 : 0];
        Dim n = b is null ? Dim.Unknown : b[transB ? 0 : 1];
        if (a is not null && b is not null)
        {
            Dim ka = a[transA ? 0 : 1], kb = b[transB ? 1 : 0];
            if (ka.IsKnown && kb.IsKnown && ka.Value != kb.Value)
                throw ctx.Error(EdgeCodes.ShapeMismatch, $"Gemm inner dimensions differ: A' is [{m}, {ka}], B' is [{kb}, {n}].");
        }
        ctx.SetOutput(0, t, [m, n]);
    }

    public override void Execute(ExecutionContext ctx)
    {
        var a = ctx.RequireInput(0);
        var b = ctx.RequireInput(1);
        var c = ctx.Input(2);
        if (ctx.Opset < 11 && c is null) throw ctx.Error(EdgeCodes.InvalidArity, "Gemm needs input C before opset 11.");
        double alpha = ctx.GetFloat("alpha", 1f), beta = ctx.GetFloat("beta", 1f);
        bool transA = ctx.GetInt("transA", 0) != 0, transB = ctx.GetInt("transB", 0) != 0;
        if (a.Rank != 2 || b.Rank != 2)
            throw ctx.Error(EdgeCodes.ShapeMismatch, $"Gemm inputs A and B must be 2-D, got {Shapes.Format(a.Shape)} and {Shapes.Format(b.Shape)}.");
        if (a.DataType != b.DataType || (c is not null && c.DataType != a.DataType))
            throw ctx.Error(EdgeCodes.ShapeMismatch, "Gemm inputs A, B and C must have the same type.");
        int m = transA ? a.Shape[1] : a.Shape[0], k = transA ? a.Shape[0] : a.Shape[1];
        int kb = transB ? b.Shape[1] : b.Shape[0], n = transB ? b.Shape[0] : b.Shape[1];
        if (k != kb)
            throw ctx.Error(EdgeCodes.ShapeMismatch, $"Gemm inner dimensions differ: A' is [{m}, {k}], B' is [{kb}, {n}] (check transA/transB).");
        int[] outShape = [m, n];
        int[]? cIdx = null;
        if (c is not null)
        {
            // C must broadcast unidirectionally to [M, N].
            bool ok = c.Rank <= 2;
            for (int i = 0; ok && i < c.Rank; i++) ok = c.Shape[^(i + 1)] == 1 || c.Shape[^(i + 1)] == outShape[^(i + 1)];
            if (!ok) throw ctx.Error(EdgeCodes.ShapeMismatch, $"Gemm input C {Shapes.Format(c.Shape)} does not broadcast to [{m}, {n}].");
            cIdx = Shapes.BroadcastIndex(c.Shape, outShape);
        }
        // Transposition is an index map; then the product is a plain [M,K] x [K,N].
        var aT = transA ? Transpose2D(a) : a;
        var bT = transB ? Transpose2D(b) : b;
        var layout = MatMulHelpers.Layout(ctx, aT.Shape, bT.Shape);
        if (a.DataType.IsFloat())
        {
            var y = MatMulHelpers.BatchedMatMul(layout, MatMulHelpers.DoubleValues(aT), MatMulHelpers.DoubleValues(bT));
            var cv = c is null ? null : MatMulHelpers.DoubleValues(c);
            for (int i = 0; i < y.Length; i++) y[i] = alpha * y[i] + (cv is null ? 0 : beta * cv[cIdx![i]]);
            ctx.SetOutput(0, Tensor.FromDoubles(a.DataType, outShape, y));
        }
        else if (a.DataType.IsInteger())
        {
            var y = MatMulHelpers.BatchedMatMul(layout, MatMulHelpers.Int64Values(aT), MatMulHelpers.Int64Values(bT));
            var cv = c is null ? null : MatMulHelpers.Int64Values(c);
            for (int i = 0; i < y.Length; i++)
            {
                long ab = alpha == 1 ? y[i] : Tensor.DoubleToInt64(alpha * y[i]);
                long cc = cv is null ? 0 : beta == 1 ? cv[cIdx![i]] : Tensor.DoubleToInt64(beta * cv[cIdx![i]]);
                y[i] = unchecked(ab + cc);
            }
            ctx.SetOutput(0, Tensor.FromInt64s(a.DataType, outShape, y));
        }
        else throw ctx.Error(EdgeCodes.ShapeMismatch, $"Gemm does not accept {a.DataType.OnnxName()} inputs.");
    }

    private static Tensor Transpose2D(Tensor t)
    {
        int r = t.Shape[0], c = t.Shape[1];
        var idx = new int[r * c];
        for (int i = 0; i < c; i++)
            for (int j = 0; j < r; j++) idx[i * r + j] = j * c + i;
        return t.Take([c, r], idx);
    }
}
