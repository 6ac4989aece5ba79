using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.IR;
using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>
/// OneHot (opset 9, 11): output[..., d, ...] (d on the new axis 'axis') = values[1] (on) where
/// indices[...] == d, else values[0] (off). Output rank = rank(indices) + 1, type = values' type.
/// Non-integer indices and depth are cast to int64 (truncation). Since opset 11 negative indices count
/// from the end (index + depth); indices still outside [0, depth) give an all-off row.
/// </summary>
public sealed class OneHot : Operator
{
    public override string OpType => "OneHot";
    public override IReadOnlyCollection<string> Attributes => ["axis"];
    public override int MinInputs => 3;
    public override int MaxInputs => 3;

    public override void InferTypes(InferenceContext ctx)
    {
        var valuesType = ctx.InputElemType(2);
        var indicesShape = ctx.InputShape(0);
        if (indicesShape is null) { ctx.SetOutput(0, valuesType, (Dim[]?)null); return; }
        int axis = OutputAxis(ctx, indicesShape.Length);
        Dim depth = ctx.ConstantInput(1) is { } d ? Dim.Known(Depth(ctx, d)) : Dim.Unknown;
        var shape = indicesShape.ToList();
        shape.Insert(axis, depth);
        ctx.SetOutput(0, valuesType, shape.ToArray());
    }

    public override void Execute(ExecutionContext ctx)
    {
        var indices = ctx.RequireInput(0);
        long depth = Depth(ctx, ctx.RequireInput(1));
        var values = ctx.RequireInput(2);
        if (values.Length != 2)
            throw ctx.Error(EdgeCodes.ShapeMismatch, $"OneHot 'values' must hold exactly two elements [off_value, on_value], got shape {Shapes.Format(values.Shape)}.");
        if (depth > int.MaxValue) throw ctx.Error(EdgeCodes.InvalidValue, $"OneHot depth {depth} is too large.");
        if (!BinaryHelpers.IsNumeric(indices.DataType))
            throw ctx.Error(EdgeCodes.ShapeMismatch, $"OneHot indices must be numeric, got {indices.DataType.OnnxName()}.");

        int axis = OutputAxis(ctx, indices.Rank);
        var shape = indices.Shape.ToList();
        shape.Insert(axis, (int)depth);
        var outShape = shape.ToArray();
        // Output index = (outer, d, inner) where indices' flat index = outer * innerSize + inner.
        int outer = checked((int)Shapes.Product(indices.Shape.AsSpan(0, axis)));
        int inner = checked((int)Shapes.Product(indices.Shape.AsSpan(axis)));
        var idx = indices.ToInt64s();
        var take = new int[checked((int)Shapes.Product(outShape))];
        int p = 0;
        for (int o = 0; o < outer; o++)
            for (int d = 0; d < depth; d++)
                for (int i = 0; i < inner; i++)
                {
                    long v = idx[o * inner + i];
                    if (v < 0 && ctx.Opset >= 11) v += depth;
                    take[p++] = v == d ? 1 : 0; // values = [off, on]
                }
        ctx.SetOutput(0, values.Reshape([2]).Take(outShape, take));
    }

    private static int OutputAxis(NodeContext ctx, int indicesRank)
    {
        // The axis ranges over the output's rank, rank(indices) + 1.
        long axis = ctx.GetInt("axis", -1);
        return ShapeRules.Axis(ctx, axis, indicesRank + 1);
    }

    private static long Depth(NodeContext ctx, Tensor depth)
    {
        long d = BinaryHelpers.ScalarInt(ctx, depth, "depth");
        if (d < 0) throw ctx.Error(EdgeCodes.InvalidValue, $"OneHot depth must not be negative, got {d}.");
        return d;
    }
}
