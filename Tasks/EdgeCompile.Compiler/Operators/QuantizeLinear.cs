using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>
/// QuantizeLinear (opset 10+): y = saturate(round_half_even(x / y_scale) + y_zero_point).
/// Granularity follows the scale's shape (per-tensor; per-axis along 'axis' since 13; blocked with
/// 'block_size' since 21), see <see cref="MatMulHelpers.ClassifyScale"/>. The output type is
/// y_zero_point's type, else 'output_dtype' (21+), else uint8. The division is evaluated in the scale's
/// precision, or in 'precision' (25+) when given. Integer outputs only (uint8/int8/uint16/int16, and
/// int32); float8/4-bit outputs are unsupported data types here.
/// </summary>
public sealed class QuantizeLinear : Operator
{
    public override string OpType => "QuantizeLinear";
    // 'saturate' only affects float8 outputs, which the executor does not support; accepted and ignored.
    public override IReadOnlyCollection<string> Attributes => ["axis", "saturate", "block_size", "output_dtype", "precision"];
    public override int MinInputs => 2;
    public override int MaxInputs => 3;

    private static DataType OutputType(NodeContext ctx, DataType? zeroPointType)
    {
        long attr = ctx.GetInt("output_dtype", 0);
        DataType t;
        if (zeroPointType is { } z)
        {
            if (attr != 0 && attr != (long)z)
                throw ctx.Error(EdgeCodes.InvalidAttribute, $"QuantizeLinear output_dtype {attr} differs from the zero point's type {z.OnnxName()}; drop one or make them agree.");
            t = z;
        }
        else t = attr != 0 ? (DataType)attr : DataType.UInt8;
        if (!MatMulHelpers.IsQuantizedInteger(t))
            throw ctx.Error(EdgeCodes.UnsupportedDataType, $"QuantizeLinear to {t} is not supported (supported: uint8, int8, uint16, int16, int32).");
        return t;
    }

    /// <summary>The float type the division x / y_scale is evaluated in.</summary>
    private static DataType DivisionType(NodeContext ctx, DataType scaleType)
    {
        long p = ctx.GetInt("precision", 0);
        if (p == 0) return scaleType;
        var t = (DataType)p;
        if (!t.IsFloat()) throw ctx.Error(EdgeCodes.InvalidAttribute, $"QuantizeLinear precision {p} is not a supported float type.");
        return t;
    }

    public override void InferTypes(InferenceContext ctx)
    {
        var yType = OutputType(ctx, ctx.HasInput(2) ? ctx.InputElemType(2) : null);
        var x = ctx.InputType(0);
        if (x is not null && ctx.InputType(1) is { HasStaticShape: true } s && x.HasStaticShape)
            MatMulHelpers.ClassifyScale(ctx, x.StaticShape!, s.StaticShape!, ctx.GetInt("axis", 1), ctx.GetInt("block_size", 0));
        ctx.SetOutput(0, yType, x?.Shape);
    }

    public override void Execute(ExecutionContext ctx)
    {
        var x = ctx.RequireInput(0);
        var scale = ctx.RequireInput(1);
        var zero = ctx.Input(2);
        var yType = OutputType(ctx, zero?.DataType);
        if (!scale.DataType.IsFloat())
            throw ctx.Error(EdgeCodes.ShapeMismatch, $"QuantizeLinear y_scale must be a float type, got {scale.DataType.OnnxName()}.");
        long axis = ctx.GetInt("axis", 1), blockSize = ctx.GetInt("block_size", 0);
        var idx = MatMulHelpers.QuantParamIndex(ctx, x.Shape, scale.Shape, axis, blockSize);
        if (zero is not null && !zero.Shape.SequenceEqual(scale.Shape))
            throw ctx.Error(EdgeCodes.ShapeMismatch, $"QuantizeLinear y_zero_point {Shapes.Format(zero.Shape)} must have y_scale's shape {Shapes.Format(scale.Shape)}.");
        var divType = DivisionType(ctx, scale.DataType);
        var xv = MatMulHelpers.DoubleValues(x);
        var sv = MatMulHelpers.DoubleValues(scale);
        var zv = zero is null ? null : MatMulHelpers.Int64Values(zero);
        var y = new long[xv.Length];
        for (int i = 0; i < y.Length; i++)
        {
            double q = MatMulHelpers.RoundToType(MatMulHelpers.RoundToType(xv[i], divType) / MatMulHelpers.RoundToType(sv[idx[i]], divType), divType);
            // Rounding before adding the (integer) zero point is the same as after, and keeps huge values saturating.
            y[i] = MatMulHelpers.RoundHalfEvenSaturate(Math.Round(q, MidpointRounding.ToEven) + (zv is null ? 0 : zv[idx[i]]), yType);
        }
        ctx.SetOutput(0, Tensor.FromInt64s(yType, x.Shape, y));
    }
}
