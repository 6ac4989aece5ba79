using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>
/// LpNormalization: x / ||x||_p along 'axis' (default -1), p = 1 (sum of absolute values) or 2
/// (Euclidean, the default). A lane whose norm is 0 gives 0 (it is all zeros), not NaN.
/// </summary>
public sealed class LpNormalization : Operator
{
    public override string OpType => "LpNormalization";
    public override IReadOnlyCollection<string> Attributes => ["axis", "p"];

    private static long P(NodeContext ctx)
    {
        long p = ctx.GetInt("p", 2);
        if (p is not (1 or 2))
            throw ctx.Error(EdgeCodes.InvalidAttribute, $"LpNormalization supports p = 1 or p = 2, got p = {p}.");
        return p;
    }

    public override void InferTypes(InferenceContext ctx)
    {
        P(ctx);
        ReduceHelpers.RequireFloat(ctx, ctx.InputElemType(0));
        if (ctx.InputShape(0) is { } s) ShapeRules.Axis(ctx, ctx.GetInt("axis", -1), s.Length);
        ShapeRules.SameAsInput(ctx);
    }

    public override void Execute(ExecutionContext ctx)
    {
        long p = P(ctx);
        var x = ctx.RequireInput(0);
        ReduceHelpers.RequireFloat(ctx, x.DataType);
        int axis = ShapeRules.Axis(ctx, ctx.GetInt("axis", -1), x.Rank);
        var lanes = new ReduceHelpers.Lanes(x.Shape, axis, coerceTo2D: false);
        var v = x.ToDoubles();
        var y = new double[v.Length];
        for (int g = 0; g < lanes.Count; g++)
        {
            double norm = 0;
            for (int k = 0; k < lanes.Length; k++)
            {
                double a = v[lanes.Index(g, k)];
                norm += p == 1 ? Math.Abs(a) : a * a;
            }
            if (p == 2) norm = Math.Sqrt(norm);
            for (int k = 0; k < lanes.Length; k++)
            {
                int e = lanes.Index(g, k);
                y[e] = norm == 0 ? 0 : v[e] / norm;
            }
        }
        ctx.SetOutput(0, Tensor.FromDoubles(x.DataType, x.Shape, y));
    }
}
