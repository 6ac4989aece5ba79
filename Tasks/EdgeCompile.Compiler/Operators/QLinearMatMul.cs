using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>
/// QLinearMatMul (opset 10+; float16/bfloat16 scales since 21): quantized matrix product.
/// Inputs: a, a_scale, a_zero_point, b, b_scale, b_zero_point, y_scale, y_zero_point.
/// y = saturate(round_half_even(((a - a_zp) x (b - b_zp)) * (a_scale * b_scale / y_scale)) + y_zp):
/// the integer product is exact, the multiplier is evaluated in the scales' type (as the ONNX reference
/// does), and the output has y_zero_point's type. a's parameters may be per row and b's per column
/// (see <see cref="MatMulHelpers.MatrixParamIndex"/>); y's are per tensor.
/// </summary>
public sealed class QLinearMatMul : Operator
{
    public override string OpType => "QLinearMatMul";
    public override int MinInputs => 8;
    public override int MaxInputs => 8;

    public override void InferTypes(InferenceContext ctx)
    {
        var yType = ctx.InputElemType(7);
        if (!(yType is DataType.Int8 or DataType.UInt8))
            throw ctx.Error(EdgeCodes.ShapeMismatch, $"QLinearMatMul y_zero_point must be int8 or uint8, got {yType.OnnxName()}.");
        ctx.SetOutput(0, yType, MatMulHelpers.InferMatMulShape(ctx, ctx.InputShape(0), ctx.InputShape(3)));
    }

    public override void Execute(ExecutionContext ctx)
    {
        var a = ctx.RequireInput(0);
        var aScale = ctx.RequireInput(1);
        var b = ctx.RequireInput(3);
        var bScale = ctx.RequireInput(4);
        var yScale = ctx.RequireInput(6);
        var yZero = ctx.RequireInput(7);
        var scaleType = aScale.DataType;
        if (!scaleType.IsFloat() || bScale.DataType != scaleType || yScale.DataType != scaleType)
            throw ctx.Error(EdgeCodes.ShapeMismatch, "QLinearMatMul scales must all have the same float type.");
        if (yScale.Length != 1 || yZero.Length != 1)
            throw ctx.Error(EdgeCodes.ShapeMismatch, $"QLinearMatMul y_scale and y_zero_point must be per tensor (one element), got {Shapes.Format(yScale.Shape)} and {Shapes.Format(yZero.Shape)}.");
        var yType = yZero.DataType;
        if (!(yType is DataType.Int8 or DataType.UInt8))
            throw ctx.Error(EdgeCodes.ShapeMismatch, $"QLinearMatMul y_zero_point must be int8 or uint8, got {yType.OnnxName()}.");

        var layout = MatMulHelpers.Layout(ctx, a.Shape, b.Shape);
        var acc = MatMulHelpers.BatchedMatMul(layout,
            MatMulInteger.Centered(ctx, a, ctx.RequireInput(2), isA: true),
            MatMulInteger.Centered(ctx, b, ctx.RequireInput(5), isA: false));

        // Scale of each element of a (per row) and b (per column); sampled at k = 0 since they do not vary along K.
        var aScaleIdx = MatMulHelpers.MatrixParamIndex(ctx, a.Shape, aScale.Shape, isA: true, "a_scale");
        var bScaleIdx = MatMulHelpers.MatrixParamIndex(ctx, b.Shape, bScale.Shape, isA: false, "b_scale");
        var sa = MatMulHelpers.DoubleValues(aScale);
        var sb = MatMulHelpers.DoubleValues(bScale);
        double sy = MatMulHelpers.DoubleValues(yScale)[0];
        long zy = MatMulHelpers.Int64Values(yZero)[0];
        int m = layout.M, n = layout.N, k = layout.K;
        var aMat = Shapes.BroadcastIndex(layout.ABatch, layout.OutBatch);
        var bMat = Shapes.BroadcastIndex(layout.BBatch, layout.OutBatch);
        var y = new long[acc.Length];
        for (int batch = 0; batch < aMat.Length; batch++)
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                {
                    int o = (batch * m + i) * n + j;
                    if (k == 0) { y[o] = MatMulHelpers.RoundHalfEvenSaturate(zy, yType); continue; }
                    double scaleA = sa[aScaleIdx[(aMat[batch] * m + i) * k]];
                    double scaleB = sb[bScaleIdx[bMat[batch] * k * n + j]];
                    double multiplier = MatMulHelpers.RoundToType(MatMulHelpers.RoundToType(scaleA * scaleB, scaleType) / sy, scaleType);
                    y[o] = MatMulHelpers.RoundHalfEvenSaturate(acc[o] * multiplier + zy, yType);
                }
        ctx.SetOutput(0, Tensor.FromInt64s(yType, layout.OutShape, y));
    }
}
