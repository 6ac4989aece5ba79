using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.IR;
using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>
/// Gather: picks slices of the data along 'axis' (default 0) by the int32/int64 indices (negative count
/// from the back, opset 11+). Output shape = data[:axis] ++ indices.shape ++ data[axis+1:].
/// </summary>
public sealed class Gather : Operator
{
    public override string OpType => "Gather";
    public override IReadOnlyCollection<string> Attributes => ["axis"];
    public override int MinInputs => 2;
    public override int MaxInputs => 2;

    public override void InferTypes(InferenceContext ctx)
    {
        var type = ctx.InputElemType(0);
        var data = ctx.InputShape(0);
        var indices = ctx.InputShape(1);
        if (data is null || indices is null) { ctx.SetOutput(0, type, (Dim[]?)null); return; }
        int axis = ShapeHelpers.Axis(ctx, ctx.GetInt("axis", 0), data.Length);
        ctx.SetOutput(0, type, [.. data[..axis], .. indices, .. data[(axis + 1)..]]);
    }

    public override void Execute(ExecutionContext ctx)
    {
        var x = ctx.RequireInput(0);
        var indicesT = ctx.RequireInput(1);
        int axis = ShapeHelpers.Axis(ctx, ctx.GetInt("axis", 0), x.Rank);
        var indices = IndexValues(ctx, indicesT, x.Shape[axis]);
        int[] shape = [.. x.Shape[..axis], .. indicesT.Shape, .. x.Shape[(axis + 1)..]];
        var strides = Shapes.Strides(x.Shape);
        var idxStrides = Shapes.Strides(indicesT.Shape);
        int q = indicesT.Rank;
        var idx = ShapeHelpers.IndexMap(shape, c =>
        {
            int src = 0;
            for (int d = 0; d < axis; d++) src += c[d] * strides[d];
            int k = 0;
            for (int d = 0; d < q; d++) k += c[axis + d] * idxStrides[d];
            src += indices[k] * strides[axis];
            for (int d = axis + 1; d < x.Rank; d++) src += c[d + q - 1] * strides[d];
            return src;
        });
        ctx.SetOutput(0, x.Take(shape, idx));
    }

    /// <summary>The indices as non-negative ints, checked against the axis size.</summary>
    internal static int[] IndexValues(NodeContext ctx, Tensor indices, int size)
    {
        if (indices.DataType is not (DataType.Int32 or DataType.Int64))
            throw ctx.Error(EdgeCodes.ShapeMismatch, $"Indices must be int32 or int64, got {indices.DataType.OnnxName()}.");
        return indices.ToInt64s().Select(i => ShapeHelpers.Index(ctx, i, size, "Index")).ToArray();
    }
}
