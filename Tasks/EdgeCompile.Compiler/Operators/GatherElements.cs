using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.IR;
using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>
/// GatherElements (opset 11+): output[c] = data[c with c[axis] replaced by indices[c]]. Indices have the
/// data's rank; the output has the indices' shape. Negative indices count from the back.
/// </summary>
public sealed class GatherElements : Operator
{
    public override string OpType => "GatherElements";
    public override IReadOnlyCollection<string> Attributes => ["axis"];
    public override int MinInputs => 2;
    public override int MaxInputs => 2;

    public override void InferTypes(InferenceContext ctx)
    {
        var type = ctx.InputElemType(0);
        var data = ctx.InputShape(0);
        var indices = ctx.InputShape(1);
        if (data is not null && indices is not null && data.Length != indices.Length)
            throw ctx.Error(EdgeCodes.ShapeMismatch, $"Indices have rank {indices.Length} but the data has rank {data.Length}; they must match.");
        if (data is not null) ShapeHelpers.Axis(ctx, ctx.GetInt("axis", 0), data.Length);
        ctx.SetOutput(0, type, indices);
    }

    public override void Execute(ExecutionContext ctx)
    {
        var x = ctx.RequireInput(0);
        var indicesT = ctx.RequireInput(1);
        int axis = ShapeHelpers.Axis(ctx, ctx.GetInt("axis", 0), x.Rank);
        var src = ElementIndices(ctx, x.Shape, indicesT, axis);
        ctx.SetOutput(0, x.Take(indicesT.Shape, src));
    }

    /// <summary>
    /// For each element of the indices tensor (row-major), the flat data index it addresses: its own
    /// coordinates with the one along <paramref name="axis"/> replaced by the index value. Shared with ScatterElements.
    /// </summary>
    internal static int[] ElementIndices(NodeContext ctx, int[] dataShape, Tensor indicesT, int axis)
    {
        if (indicesT.Rank != dataShape.Length)
            throw ctx.Error(EdgeCodes.ShapeMismatch, $"Indices {Shapes.Format(indicesT.Shape)} must have the rank of the data {Shapes.Format(dataShape)}.");
        for (int d = 0; d < dataShape.Length; d++)
            if (d != axis && indicesT.Shape[d] > dataShape[d])
                throw ctx.Error(EdgeCodes.ShapeMismatch, $"Indices {Shapes.Format(indicesT.Shape)} exceed the data {Shapes.Format(dataShape)} along axis {d}.");
        var values = Gather.IndexValues(ctx, indicesT, dataShape[axis]);
        var strides = Shapes.Strides(dataShape);
        int e = 0;
        return ShapeHelpers.IndexMap(indicesT.Shape, c =>
        {
            int src = 0;
            for (int d = 0; d < c.Length; d++) src += (d == axis ? values[e] : c[d]) * strides[d];
            e++;
            return src;
        });
    }
}
