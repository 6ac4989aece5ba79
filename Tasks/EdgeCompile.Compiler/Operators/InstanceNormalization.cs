using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>
/// InstanceNormalization: for every sample n and channel c of X (N x C x D1 ... Dn),
/// y = scale[c] * (x - mean) / sqrt(variance + epsilon) + B[c], with the mean and (biased) variance
/// taken over D1 ... Dn of that (n, c).
/// </summary>
public sealed class InstanceNormalization : Operator
{
    public override string OpType => "InstanceNormalization";
    public override IReadOnlyCollection<string> Attributes => ["epsilon"];
    public override int MinInputs => 3;
    public override int MaxInputs => 3;

    private static void CheckRank(NodeContext ctx, int rank)
    {
        if (rank < 2)
            throw ctx.Error(EdgeCodes.ShapeMismatch, $"InstanceNormalization needs an input of rank 2 or more (N x C x D1 ...), got rank {rank}.");
    }

    public override void InferTypes(InferenceContext ctx)
    {
        ReduceHelpers.RequireFloat(ctx, ctx.InputElemType(0));
        var shape = ctx.InputShape(0);
        if (shape is not null)
        {
            CheckRank(ctx, shape.Length);
            for (int i = 1; i <= 2; i++)
                if (ctx.InputShape(i) is { } p && (p.Length != 1 || p[0].IsKnown && shape[1].IsKnown && p[0].Value != shape[1].Value))
                    throw ctx.Error(EdgeCodes.ShapeMismatch, $"Input {i} must have shape [{shape[1]}] (one value per channel), got [{string.Join(",", p)}].");
        }
        ShapeRules.SameAsInput(ctx);
    }

    public override void Execute(ExecutionContext ctx)
    {
        var x = ctx.RequireInput(0);
        ReduceHelpers.RequireFloat(ctx, x.DataType);
        CheckRank(ctx, x.Rank);
        double epsilon = ctx.GetFloat("epsilon", 1e-5f);
        int channels = x.Shape[1];
        var scale = ReduceHelpers.PerChannel(ctx, ctx.RequireInput(1), channels, "scale");
        var bias = ReduceHelpers.PerChannel(ctx, ctx.RequireInput(2), channels, "B");
        int spatial = (int)Shapes.Product(x.Shape.AsSpan(2));
        var v = x.ToDoubles();
        var y = new double[v.Length];
        // Each (n, c) instance is a contiguous run of 'spatial' elements.
        for (int start = 0, inst = 0; start < v.Length; start += spatial, inst++)
        {
            var (mean, variance) = ReduceHelpers.MeanAndVariance(new ArraySegment<double>(v, start, spatial));
            int c = inst % channels;
            double inv = 1 / Math.Sqrt(variance + epsilon);
            for (int k = start; k < start + spatial; k++) y[k] = scale[c] * (v[k] - mean) * inv + bias[c];
        }
        ctx.SetOutput(0, Tensor.FromDoubles(x.DataType, x.Shape, y));
    }
}
