using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>
/// RMSNormalization (opset 23): Y = X / sqrt(mean(X^2) + epsilon) * scale, the mean taken over the
/// axes [axis, rank) (default axis -1); scale broadcasts to X.
/// </summary>
public sealed class RMSNormalization : Operator
{
    public override string OpType => "RMSNormalization";
    public override IReadOnlyCollection<string> Attributes => ["axis", "epsilon", "stash_type"];
    public override int MinInputs => 2;
    public override int MaxInputs => 2;

    private static void Stash(NodeContext ctx) =>
        ReduceHelpers.StashType(ctx, DataType.Float, DataType.Double, DataType.Float16, DataType.BFloat16);

    public override void InferTypes(InferenceContext ctx)
    {
        Stash(ctx);
        ReduceHelpers.RequireFloat(ctx, ctx.InputElemType(0));
        if (ctx.InputShape(0) is { } shape)
        {
            ShapeRules.Axis(ctx, ctx.GetInt("axis", -1), shape.Length);
            ReduceHelpers.CheckBroadcastTo(ctx, ctx.InputShape(1), shape, "scale");
        }
        ShapeRules.SameAsInput(ctx);
    }

    public override void Execute(ExecutionContext ctx)
    {
        Stash(ctx);
        var x = ctx.RequireInput(0);
        ReduceHelpers.RequireFloat(ctx, x.DataType);
        int axis = ShapeRules.Axis(ctx, ctx.GetInt("axis", -1), x.Rank);
        double epsilon = ctx.GetFloat("epsilon", 1e-5f);
        var scale = ReduceHelpers.BroadcastTo(ctx, ctx.RequireInput(1), x.Shape, "scale");

        // Each normalized group is a contiguous run of prod(shape[axis:]) elements.
        int groupSize = (int)Shapes.Product(x.Shape.AsSpan(axis));
        var v = x.ToDoubles();
        var y = new double[v.Length];
        for (int start = 0; start < v.Length; start += groupSize)
        {
            double meanSquare = 0;
            for (int k = start; k < start + groupSize; k++) meanSquare += v[k] * v[k];
            meanSquare /= groupSize;
            double inv = 1 / Math.Sqrt(meanSquare + epsilon);
            for (int k = start; k < start + groupSize; k++) y[k] = v[k] * inv * scale[k];
        }
        ctx.SetOutput(0, Tensor.FromDoubles(x.DataType, x.Shape, y));
    }
}
