using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>GlobalAveragePool (opset 1, 22): mean over all spatial axes of X [N, C, ...], giving [N, C, 1, ...].</summary>
public sealed class GlobalAveragePool : Operator
{
    public override string OpType => "GlobalAveragePool";

    public override void InferTypes(InferenceContext ctx) => ConvHelpers.InferGlobalPool(ctx);

    public override void Execute(ExecutionContext ctx) => ConvHelpers.ExecuteGlobalPool(ctx, (v, start, count) =>
    {
        double sum = 0;
        for (int i = start; i < start + count; i++) sum += v[i];
        return count == 0 ? double.NaN : sum / count;
    });
}
