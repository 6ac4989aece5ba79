using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>
/// LRN (local response normalization across channels, axis 1 of N x C x D1 ...):
/// y = x / (bias + alpha / size * square_sum)^beta, where square_sum at channel c sums x^2 over channels
/// max(0, c - floor((size-1)/2)) ... min(C-1, c + ceil((size-1)/2)).
/// </summary>
public sealed class LRN : Operator
{
    public override string OpType => "LRN";
    public override IReadOnlyCollection<string> Attributes => ["size", "alpha", "beta", "bias"];

    private static int Size(NodeContext ctx)
    {
        long size = ctx.RequireInt("size");
        if (size < 1 || size > int.MaxValue)
            throw ctx.Error(EdgeCodes.InvalidAttribute, $"LRN 'size' must be a positive number of channels, got {size}.");
        return (int)size;
    }

    private static void CheckRank(NodeContext ctx, int rank)
    {
        if (rank < 2)
            throw ctx.Error(EdgeCodes.ShapeMismatch, $"LRN needs an input of rank 2 or more (N x C x D1 ...), got rank {rank}.");
    }

    public override void InferTypes(InferenceContext ctx)
    {
        Size(ctx);
        ReduceHelpers.RequireFloat(ctx, ctx.InputElemType(0));
        if (ctx.InputShape(0) is { } s) CheckRank(ctx, s.Length);
        ShapeRules.SameAsInput(ctx);
    }

    public override void Execute(ExecutionContext ctx)
    {
        int size = Size(ctx);
        double alpha = ctx.GetFloat("alpha", 1e-4f);
        double beta = ctx.GetFloat("beta", 0.75f);
        double bias = ctx.GetFloat("bias", 1f);
        var x = ctx.RequireInput(0);
        ReduceHelpers.RequireFloat(ctx, x.DataType);
        CheckRank(ctx, x.Rank);
        int before = (size - 1) / 2, after = size - 1 - before; // floor and ceil of (size-1)/2
        var lanes = new ReduceHelpers.Lanes(x.Shape, 1, coerceTo2D: false);
        var v = x.ToDoubles();
        var y = new double[v.Length];
        for (int g = 0; g < lanes.Count; g++)
        {
            for (int c = 0; c < lanes.Length; c++)
            {
                double squareSum = 0;
                for (int j = Math.Max(0, c - before); j <= Math.Min(lanes.Length - 1, c + after); j++)
                {
                    double a = v[lanes.Index(g, j)];
                    squareSum += a * a;
                }
                int e = lanes.Index(g, c);
                y[e] = v[e] / Math.Pow(bias + alpha / size * squareSum, beta);
            }
        }
        ctx.SetOutput(0, Tensor.FromDoubles(x.DataType, x.Shape, y));
    }
}
