using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>HardSwish (opset 14, 22): x · max(0, min(1, x/6 + 1/2)); float types.</summary>
public sealed class HardSwish : Operator
{
    public override string OpType => "HardSwish";

    public override void InferTypes(InferenceContext ctx) => UnaryHelpers.InferSame(ctx, UnaryHelpers.IsFloat, "a float type");

    public override void Execute(ExecutionContext ctx) => UnaryHelpers.FloatOp(ctx, x => x * Math.Max(0, Math.Min(1, x / 6 + 0.5)));
}
