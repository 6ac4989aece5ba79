using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>GlobalMaxPool (opset 1, 22): maximum over all spatial axes of X [N, C, ...], giving [N, C, 1, ...]; NaN propagates.</summary>
public sealed class GlobalMaxPool : Operator
{
    public override string OpType => "GlobalMaxPool";

    public override void InferTypes(InferenceContext ctx) => ConvHelpers.InferGlobalPool(ctx);

    public override void Execute(ExecutionContext ctx) => ConvHelpers.ExecuteGlobalPool(ctx, (v, start, count) =>
    {
        double max = double.NegativeInfinity;
        for (int i = start; i < start + count; i++)
        {
            if (double.IsNaN(v[i])) return double.NaN;
            if (v[i] > max) max = v[i];
        }
        return max;
    });
}
