using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>
/// Clip: min(max(x, min), max), so when min &gt; max every element becomes max (spec, opset 11+).
/// Opset 6: 'min'/'max' float attributes defaulting to the float32 lowest/largest values, float types.
/// Opset 11+: optional scalar inputs 1 (min) and 2 (max) of X's type; an absent bound does not clip.
/// Opset 12+: integer types too.
/// </summary>
public sealed class Clip : Operator
{
    public override string OpType => "Clip";
    public override IReadOnlyCollection<string> Attributes => ["min", "max"];
    public override int MaxInputs => 3;

    private static bool BoundsAreInputs(NodeContext ctx)
    {
        if (ctx.Opset >= 11)
        {
            if (ctx.HasAttribute("min") || ctx.HasAttribute("max"))
                throw ctx.Error(EdgeCodes.InvalidAttribute, $"Since opset 11 Clip takes min and max as inputs 1 and 2, not as attributes (model opset {ctx.Opset}).");
            return true;
        }
        if (ctx.HasInput(1) || ctx.HasInput(2))
            throw ctx.Error(EdgeCodes.InvalidArity, $"Before opset 11 Clip takes min and max as attributes, not inputs (model opset {ctx.Opset}).");
        return false;
    }

    public override void InferTypes(InferenceContext ctx)
    {
        bool inputs = BoundsAreInputs(ctx);
        var x = ctx.InputType(0);
        if (x is null) return;
        if (inputs)
        {
            UnaryHelpers.CheckType(ctx, x.ElemType, UnaryHelpers.IsNumeric, "a numeric type");
            for (int i = 1; i <= 2; i++)
            {
                if (!ctx.HasInput(i)) continue;
                string what = i == 1 ? "min" : "max";
                var t = ctx.InputType(i);
                if (t is not null && t.ElemType != x.ElemType)
                    throw ctx.Error(EdgeCodes.ShapeMismatch, $"{what} is {t.ElemType.OnnxName()} but the input is {x.ElemType.OnnxName()}; they must have the same type.");
                UnaryHelpers.CheckScalarShape(ctx, i, what);
            }
        }
        else UnaryHelpers.CheckType(ctx, x.ElemType, UnaryHelpers.IsFloat, "a float type (integer types need opset 12+)");
        ctx.SetOutput(0, x.ElemType, x.Shape);
    }

    public override void Execute(ExecutionContext ctx)
    {
        bool inputs = BoundsAreInputs(ctx);
        var x = ctx.RequireInput(0);
        Tensor? min = null, max = null;
        if (inputs)
        {
            UnaryHelpers.CheckType(ctx, x.DataType, UnaryHelpers.IsNumeric, "a numeric type");
            min = Bound(ctx, x, 1, "min");
            max = Bound(ctx, x, 2, "max");
        }
        else
        {
            UnaryHelpers.CheckType(ctx, x.DataType, UnaryHelpers.IsFloat, "a float type (integer types need opset 12+)");
            min = Tensor.Scalar((double)ctx.GetFloat("min", float.MinValue));
            max = Tensor.Scalar((double)ctx.GetFloat("max", float.MaxValue));
        }

        if (x.DataType.IsFloat())
        {
            double lo = min?.ToDoubles()[0] ?? double.NegativeInfinity, hi = max?.ToDoubles()[0] ?? double.PositiveInfinity;
            var v = x.ToDoubles();
            for (int i = 0; i < v.Length; i++) v[i] = Math.Min(Math.Max(v[i], lo), hi); // NaN stays NaN
            ctx.SetOutput(0, Tensor.FromDoubles(x.DataType, x.Shape, v));
        }
        else if (x.DataType.IsUnsignedInteger())
        {
            ulong lo = min?.ToUInt64s()[0] ?? ulong.MinValue, hi = max?.ToUInt64s()[0] ?? ulong.MaxValue;
            var v = x.ToUInt64s();
            for (int i = 0; i < v.Length; i++) v[i] = Math.Min(Math.Max(v[i], lo), hi);
            ctx.SetOutput(0, Tensor.FromUInt64s(x.DataType, x.Shape, v));
        }
        else
        {
            long lo = min?.ToInt64s()[0] ?? long.MinValue, hi = max?.ToInt64s()[0] ?? long.MaxValue;
            var v = x.ToInt64s();
            for (int i = 0; i < v.Length; i++) v[i] = Math.Min(Math.Max(v[i], lo), hi);
            ctx.SetOutput(0, Tensor.FromInt64s(x.DataType, x.Shape, v));
        }
    }

    private static Tensor? Bound(ExecutionContext ctx, Tensor x, int i, string what)
    {
        var t = ctx.Input(i);
        if (t is null) return null;
        if (t.DataType != x.DataType)
            throw ctx.Error(EdgeCodes.ShapeMismatch, $"{what} is {t.DataType.OnnxName()} but the input is {x.DataType.OnnxName()}; they must have the same type.");
        return UnaryHelpers.RequireScalar(ctx, t, what);
    }
}
