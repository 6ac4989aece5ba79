using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.IR;
using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>
/// LayerNormalization (opset 17): normalizes X over the axes [axis, rank) (default axis -1):
/// Y = (X - Mean) * InvStdDev * Scale + B, with Mean and the biased variance taken over those axes and
/// InvStdDev = 1 / sqrt(variance + epsilon). Scale and B broadcast to X. The optional outputs Mean and
/// InvStdDev have shape X.shape[:axis] + [1] * (rank - axis) and the element type named by stash_type.
/// </summary>
public sealed class LayerNormalization : Operator
{
    public override string OpType => "LayerNormalization";
    public override IReadOnlyCollection<string> Attributes => ["axis", "epsilon", "stash_type"];
    public override int MinInputs => 2;
    public override int MaxInputs => 3;
    public override int MaxOutputs => 3;

    // Type constraint U of the spec: float or bfloat16.
    private static DataType Stash(NodeContext ctx) => ReduceHelpers.StashType(ctx, DataType.Float, DataType.BFloat16);

    public override void InferTypes(InferenceContext ctx)
    {
        var stash = Stash(ctx);
        var elem = ctx.InputElemType(0);
        ReduceHelpers.RequireFloat(ctx, elem);
        var shape = ctx.InputShape(0);
        ctx.SetOutput(0, elem, shape);
        if (shape is null)
        {
            ctx.SetOutput(1, stash, (Dim[]?)null);
            ctx.SetOutput(2, stash, (Dim[]?)null);
            return;
        }
        int axis = ShapeRules.Axis(ctx, ctx.GetInt("axis", -1), shape.Length);
        ReduceHelpers.CheckBroadcastTo(ctx, ctx.InputShape(1), shape, "Scale");
        ReduceHelpers.CheckBroadcastTo(ctx, ctx.InputShape(2), shape, "B");
        var statShape = shape.Select((d, i) => i < axis ? d : Dim.Known(1)).ToArray();
        ctx.SetOutput(1, stash, statShape);
        ctx.SetOutput(2, stash, statShape);
    }

    public override void Execute(ExecutionContext ctx)
    {
        var stash = Stash(ctx);
        var x = ctx.RequireInput(0);
        ReduceHelpers.RequireFloat(ctx, x.DataType);
        int axis = ShapeRules.Axis(ctx, ctx.GetInt("axis", -1), x.Rank);
        double epsilon = ctx.GetFloat("epsilon", 1e-5f);
        var scale = ReduceHelpers.BroadcastTo(ctx, ctx.RequireInput(1), x.Shape, "Scale");
        var bias = ctx.Input(2) is { } b ? ReduceHelpers.BroadcastTo(ctx, b, x.Shape, "B") : null;

        // Each normalized group is a contiguous run of prod(shape[axis:]) elements.
        int groupSize = (int)Shapes.Product(x.Shape.AsSpan(axis));
        int groups = (int)Shapes.Product(x.Shape.AsSpan(0, axis));
        var v = x.ToDoubles();
        var y = new double[v.Length];
        var means = new double[groups];
        var invStd = new double[groups];
        for (int g = 0; g < groups; g++)
        {
            int start = g * groupSize;
            var (mean, variance) = ReduceHelpers.MeanAndVariance(new ArraySegment<double>(v, start, groupSize));
            means[g] = mean;
            invStd[g] = 1 / Math.Sqrt(variance + epsilon);
            for (int k = start; k < start + groupSize; k++)
                y[k] = (v[k] - mean) * invStd[g] * scale[k] + (bias?[k] ?? 0);
        }
        var statShape = x.Shape.Select((d, i) => i < axis ? d : 1).ToArray();
        ctx.SetOutput(0, Tensor.FromDoubles(x.DataType, x.Shape, y));
        ctx.SetOutput(1, Tensor.FromDoubles(stash, statShape, means));
        ctx.SetOutput(2, Tensor.FromDoubles(stash, statShape, invStd));
    }
}
