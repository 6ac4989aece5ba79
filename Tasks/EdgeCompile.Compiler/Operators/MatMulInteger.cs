using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>
/// MatMulInteger (opset 10+): Y = (A - a_zero_point) x (B - b_zero_point) with numpy matmul shapes, A and B
/// int8/uint8, Y int32 (the exact sums, wrapping at 32 bits). Zero points are optional (default 0) and must
/// have their operand's type: a scalar (per tensor), per row of A ([M] or [..., M, 1]) or per column of B
/// ([N] or [..., 1, N]).
/// </summary>
public sealed class MatMulInteger : Operator
{
    public override string OpType => "MatMulInteger";
    public override int MinInputs => 2;
    public override int MaxInputs => 4;

    public override void InferTypes(InferenceContext ctx)
    {
        for (int i = 0; i < 2; i++)
        {
            var t = ctx.InputElemType(i);
            if (t is not (DataType.Int8 or DataType.UInt8))
                throw ctx.Error(EdgeCodes.ShapeMismatch, $"MatMulInteger input {i} must be int8 or uint8, got {t.OnnxName()}.");
            if (ctx.InputType(i + 2) is { } z && z.ElemType != t)
                throw ctx.Error(EdgeCodes.ShapeMismatch, $"MatMulInteger zero point {i + 2} must have its operand's type {t.OnnxName()}, got {z.ElemType.OnnxName()}.");
        }
        ctx.SetOutput(0, DataType.Int32, MatMulHelpers.InferMatMulShape(ctx, ctx.InputShape(0), ctx.InputShape(1)));
    }

    public override void Execute(ExecutionContext ctx)
    {
        var a = ctx.RequireInput(0);
        var b = ctx.RequireInput(1);
        var layout = MatMulHelpers.Layout(ctx, a.Shape, b.Shape);
        var av = Centered(ctx, a, ctx.Input(2), isA: true);
        var bv = Centered(ctx, b, ctx.Input(3), isA: false);
        var y = MatMulHelpers.BatchedMatMul(layout, av, bv);
        ctx.SetOutput(0, Tensor.FromInt64s(DataType.Int32, layout.OutShape, y));
    }

    /// <summary>The operand's values minus their zero points, as longs.</summary>
    internal static long[] Centered(NodeContext ctx, Tensor x, Tensor? zeroPoint, bool isA)
    {
        if (x.DataType is not (DataType.Int8 or DataType.UInt8))
            throw ctx.Error(EdgeCodes.ShapeMismatch, $"{ctx.Node.OpType} operands must be int8 or uint8, got {x.DataType.OnnxName()}.");
        var v = MatMulHelpers.Int64Values(x);
        if (zeroPoint is null) return v;
        string what = isA ? "a_zero_point" : "b_zero_point";
        if (zeroPoint.DataType != x.DataType)
            throw ctx.Error(EdgeCodes.ShapeMismatch, $"{what} must have its operand's type {x.DataType.OnnxName()}, got {zeroPoint.DataType.OnnxName()}.");
        var idx = MatMulHelpers.MatrixParamIndex(ctx, x.Shape, zeroPoint.Shape, isA, what);
        var z = MatMulHelpers.Int64Values(zeroPoint);
        for (int i = 0; i < v.Length; i++) v[i] -= z[idx[i]];
        return v;
    }
}
