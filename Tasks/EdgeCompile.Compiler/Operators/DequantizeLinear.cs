using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>
/// DequantizeLinear (opset 10+): y = (x - x_zero_point) * x_scale. Granularity follows the scale's shape
/// (per-tensor; per-axis along 'axis' since 13; blocked with 'block_size' since 21), see
/// <see cref="MatMulHelpers.ClassifyScale"/>. The output type is 'output_dtype' (23+) or else the scale's
/// type, and the product is rounded once to it. x is uint8/int8/uint16/int16/int32 (int32 normally has no
/// zero point); float8/4-bit inputs are unsupported data types here.
/// </summary>
public sealed class DequantizeLinear : Operator
{
    public override string OpType => "DequantizeLinear";
    public override IReadOnlyCollection<string> Attributes => ["axis", "block_size", "output_dtype"];
    public override int MinInputs => 2;
    public override int MaxInputs => 3;

    private static DataType OutputType(NodeContext ctx, DataType scaleType)
    {
        long attr = ctx.GetInt("output_dtype", 0);
        if (attr == 0) return scaleType;
        var t = (DataType)attr;
        if (!t.IsFloat()) throw ctx.Error(EdgeCodes.InvalidAttribute, $"DequantizeLinear output_dtype {attr} is not a float type.");
        return t;
    }

    public override void InferTypes(InferenceContext ctx)
    {
        var x = ctx.InputType(0);
        var yType = OutputType(ctx, ctx.InputElemType(1));
        if (x is not null && ctx.InputType(1) is { HasStaticShape: true } s && x.HasStaticShape)
            MatMulHelpers.ClassifyScale(ctx, x.StaticShape!, s.StaticShape!, ctx.GetInt("axis", 1), ctx.GetInt("block_size", 0));
        ctx.SetOutput(0, yType, x?.Shape);
    }

    public override void Execute(ExecutionContext ctx)
    {
        var x = ctx.RequireInput(0);
        var scale = ctx.RequireInput(1);
        var zero = ctx.Input(2);
        if (!MatMulHelpers.IsQuantizedInteger(x.DataType))
            throw ctx.Error(EdgeCodes.UnsupportedDataType, $"DequantizeLinear of {x.DataType.OnnxName()} is not supported (supported: uint8, int8, uint16, int16, int32).");
        if (!scale.DataType.IsFloat())
            throw ctx.Error(EdgeCodes.ShapeMismatch, $"DequantizeLinear x_scale must be a float type, got {scale.DataType.OnnxName()}.");
        if (zero is not null && zero.DataType != x.DataType)
            throw ctx.Error(EdgeCodes.ShapeMismatch, $"DequantizeLinear x_zero_point must have x's type {x.DataType.OnnxName()}, got {zero.DataType.OnnxName()}.");
        if (zero is not null && !zero.Shape.SequenceEqual(scale.Shape))
            throw ctx.Error(EdgeCodes.ShapeMismatch, $"DequantizeLinear x_zero_point {Shapes.Format(zero.Shape)} must have x_scale's shape {Shapes.Format(scale.Shape)}.");
        var yType = OutputType(ctx, scale.DataType);
        var idx = MatMulHelpers.QuantParamIndex(ctx, x.Shape, scale.Shape, ctx.GetInt("axis", 1), ctx.GetInt("block_size", 0));
        var xv = MatMulHelpers.Int64Values(x);
        var sv = MatMulHelpers.DoubleValues(scale);
        var zv = zero is null ? null : MatMulHelpers.Int64Values(zero);
        var y = new double[xv.Length];
        for (int i = 0; i < y.Length; i++) y[i] = (xv[i] - (zv is null ? 0 : zv[idx[i]])) * sv[idx[i]];
        ctx.SetOutput(0, Tensor.FromDoubles(yType, x.Shape, y));
    }
}
