using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.IR;
using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>
/// PRelu (opset 7, 9, 16): x &lt; 0 ? slope·x : x, where slope broadcasts unidirectionally to X (spec: "unidirectional
/// broadcasting", i.e. the output has X's shape). Float types, and from opset 9 int32/int64/uint32/uint64 too.
/// Opset 6 (still found in older exported models) had no broadcasting rule: a slope of one element is shared, and a
/// 1-D slope of X's channel count (dimension 1) applies per channel; other slopes follow the opset 7 rule.
/// </summary>
public sealed class PRelu : Operator
{
    public override string OpType => "PRelu";
    public override int MinInputs => 2;
    public override int MaxInputs => 2;

    public override void InferTypes(InferenceContext ctx)
    {
        var x = ctx.InputType(0);
        var slope = ctx.InputType(1);
        if (x is not null) UnaryHelpers.CheckType(ctx, x.ElemType, UnaryHelpers.IsNumeric, "a numeric type");
        if (x is not null && slope is not null && x.ElemType != slope.ElemType)
            throw ctx.Error(EdgeCodes.ShapeMismatch, $"slope is {slope.ElemType.OnnxName()} but X is {x.ElemType.OnnxName()}; they must have the same type.");
        if (x?.Shape is { } xs && slope?.Shape is { } ss)
        {
            if (ctx.Opset < 7 && ss.Length == 1 && xs.Length >= 2 && ss[0].IsKnown && ss[0].Value > 1 && (!xs[1].IsKnown || xs[1].Value == ss[0].Value))
                ss = [ss[0], .. Enumerable.Repeat(Dim.Known(1), xs.Length - 2)];
            if (ss.Length > xs.Length)
                throw ctx.Error(EdgeCodes.ShapeMismatch, $"slope has rank {ss.Length}, more than X's rank {xs.Length}; it must broadcast to X's shape.");
            for (int k = 0; k < ss.Length; k++)
            {
                Dim s = ss[k], d = xs[k + xs.Length - ss.Length];
                if (s.IsKnown && d.IsKnown && s.Value != 1 && s.Value != d.Value)
                    throw ctx.Error(EdgeCodes.ShapeMismatch, $"slope dimension {k} is {s.Value}, which does not broadcast to X's dimension {d.Value} (it must be 1 or equal).");
            }
        }
        if (x is not null) ctx.SetOutput(0, x.ElemType, x.Shape);
    }

    public override void Execute(ExecutionContext ctx)
    {
        var x = ctx.RequireInput(0);
        var slope = ctx.RequireInput(1);
        UnaryHelpers.CheckType(ctx, x.DataType, UnaryHelpers.IsNumeric, "a numeric type");
        if (slope.DataType != x.DataType)
            throw ctx.Error(EdgeCodes.ShapeMismatch, $"slope is {slope.DataType.OnnxName()} but X is {x.DataType.OnnxName()}; they must have the same type.");
        if (ctx.Opset < 7 && slope.Rank == 1 && x.Rank >= 2 && slope.Length > 1 && slope.Length == x.Shape[1])
            slope = slope.Reshape([slope.Length, .. Enumerable.Repeat(1, x.Rank - 2)]); // opset 6: per channel
        bool ok = slope.Rank <= x.Rank;
        for (int k = 0; ok && k < slope.Rank; k++)
        {
            int s = slope.Shape[k], d = x.Shape[k + x.Rank - slope.Rank];
            ok = s == 1 || s == d;
        }
        if (!ok)
            throw ctx.Error(EdgeCodes.ShapeMismatch, $"slope shape {Shapes.Format(slope.Shape)} does not broadcast unidirectionally to X's shape {Shapes.Format(x.Shape)}.");
        var idx = Shapes.BroadcastIndex(slope.Shape, x.Shape);

        if (x.DataType.IsUnsignedInteger()) { ctx.SetOutput(0, x); return; } // never negative
        if (x.DataType.IsFloat())
        {
            var v = x.ToDoubles(); var s = slope.ToDoubles();
            for (int i = 0; i < v.Length; i++) if (v[i] < 0) v[i] *= s[idx[i]];
            ctx.SetOutput(0, Tensor.FromDoubles(x.DataType, x.Shape, v));
        }
        else
        {
            var v = x.ToInt64s(); var s = slope.ToInt64s();
            for (int i = 0; i < v.Length; i++) if (v[i] < 0) v[i] = unchecked(v[i] * s[idx[i]]);
            ctx.SetOutput(0, Tensor.FromInt64s(x.DataType, x.Shape, v));
        }
    }
}
