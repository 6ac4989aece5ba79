using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.IR;
using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>
/// ScatterND (opset 11+): indices has shape [..., k] with k &lt;= rank(data); each k-tuple addresses a
/// slice data[i0, ..., ik-1, :, ...] that is replaced by (or, with 'reduction' from opset 16/18,
/// combined with) the matching slice of updates, whose shape is indices.shape[:-1] ++ data.shape[k:].
/// Tuples apply in row-major order; negative indices count from the back.
/// </summary>
public sealed class ScatterND : Operator
{
    public override string OpType => "ScatterND";
    public override IReadOnlyCollection<string> Attributes => ["reduction"];
    public override int MinInputs => 3;
    public override int MaxInputs => 3;

    public override void InferTypes(InferenceContext ctx)
    {
        ShapeHelpers.Reduction(ctx);
        var data = ctx.InputShape(0);
        var indices = ctx.InputShape(1);
        var updates = ctx.InputShape(2);
        if (data is not null && indices is not null && updates is not null && indices.Length > 0 && indices[^1].IsKnown)
        {
            long k = indices[^1].Value;
            if (k > data.Length)
                throw ctx.Error(EdgeCodes.ShapeMismatch, $"Index tuples have {k} entries but the data has rank {data.Length}.");
            Dim[] expected = [.. indices[..^1], .. data[(int)k..]];
            if (expected.Length != updates.Length)
                throw ctx.Error(EdgeCodes.ShapeMismatch, $"Updates have rank {updates.Length}; expected rank {expected.Length} (indices.shape[:-1] ++ data.shape[k:]).");
            for (int d = 0; d < expected.Length; d++) ShapeHelpers.Merge(ctx, expected[d], updates[d], "Updates");
        }
        ShapeRules.SameAsInput(ctx);
    }

    public override void Execute(ExecutionContext ctx)
    {
        var data = ctx.RequireInput(0);
        var indicesT = ctx.RequireInput(1);
        var updates = ctx.RequireInput(2);
        var reduction = ShapeHelpers.Reduction(ctx);
        ShapeHelpers.SameType(ctx, data, updates, "Updates");
        if (indicesT.DataType != DataType.Int64)
            throw ctx.Error(EdgeCodes.ShapeMismatch, $"Indices must be int64, got {indicesT.DataType.OnnxName()}.");
        if (indicesT.Rank < 1)
            throw ctx.Error(EdgeCodes.ShapeMismatch, "Indices must have rank 1 or more.");
        int k = indicesT.Shape[^1];
        if (k > data.Rank)
            throw ctx.Error(EdgeCodes.ShapeMismatch, $"Index tuples have {k} entries but the data has rank {data.Rank}.");
        int[] expected = [.. indicesT.Shape[..^1], .. data.Shape[k..]];
        if (!expected.SequenceEqual(updates.Shape))
            throw ctx.Error(EdgeCodes.ShapeMismatch, $"Updates have shape {Shapes.Format(updates.Shape)}; expected {Shapes.Format(expected)}.");

        var indices = indicesT.ToInt64s();
        var strides = Shapes.Strides(data.Shape);
        int block = (int)Shapes.Product(data.Shape.AsSpan(k));
        int tuples = k == 0 ? (int)Shapes.Product(indicesT.Shape.AsSpan(0, indicesT.Rank - 1)) : indices.Length / k;
        var pairs = new List<(int, int)>(tuples * block);
        for (int t = 0; t < tuples; t++)
        {
            int offset = 0;
            for (int j = 0; j < k; j++)
                offset += ShapeHelpers.Index(ctx, indices[t * k + j], data.Shape[j], $"Index (component {j})") * strides[j];
            for (int e = 0; e < block; e++) pairs.Add((offset + e, t * block + e));
        }
        ctx.SetOutput(0, ShapeHelpers.Scatter(data, updates, pairs, reduction));
    }
}
