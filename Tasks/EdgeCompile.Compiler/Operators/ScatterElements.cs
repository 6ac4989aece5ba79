using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>
/// ScatterElements (opset 11+): a copy of the data where, for each element c of indices/updates (same
/// shape), data[c with c[axis] = indices[c]] is replaced by updates[c] or, with 'reduction' (opset 16:
/// add, mul; 18: max, min), combined with it. Updates apply in row-major order, so with duplicate
/// indices and reduction "none" the last one wins (the spec leaves that order undefined).
/// </summary>
public sealed class ScatterElements : Operator
{
    public override string OpType => "ScatterElements";
    public override IReadOnlyCollection<string> Attributes => ["axis", "reduction"];
    public override int MinInputs => 3;
    public override int MaxInputs => 3;

    public override void InferTypes(InferenceContext ctx)
    {
        ShapeHelpers.Reduction(ctx);
        var i = ctx.InputShape(1);
        var u = ctx.InputShape(2);
        if (i is not null && u is not null)
        {
            if (i.Length != u.Length)
                throw ctx.Error(EdgeCodes.ShapeMismatch, $"Indices (rank {i.Length}) and updates (rank {u.Length}) must have the same shape.");
            for (int d = 0; d < i.Length; d++) ShapeHelpers.Merge(ctx, i[d], u[d], "Indices and updates");
        }
        ShapeRules.SameAsInput(ctx);
    }

    public override void Execute(ExecutionContext ctx)
    {
        var data = ctx.RequireInput(0);
        var indices = ctx.RequireInput(1);
        var updates = ctx.RequireInput(2);
        var reduction = ShapeHelpers.Reduction(ctx);
        ShapeHelpers.SameType(ctx, data, updates, "Updates");
        if (!indices.Shape.SequenceEqual(updates.Shape))
            throw ctx.Error(EdgeCodes.ShapeMismatch, $"Indices {Shapes.Format(indices.Shape)} and updates {Shapes.Format(updates.Shape)} must have the same shape.");
        int axis = ShapeHelpers.Axis(ctx, ctx.GetInt("axis", 0), data.Rank);
        var dst = GatherElements.ElementIndices(ctx, data.Shape, indices, axis);
        var pairs = dst.Select((d, k) => (d, k)).ToList();
        ctx.SetOutput(0, ShapeHelpers.Scatter(data, updates, pairs, reduction));
    }
}
