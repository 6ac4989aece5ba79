using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>HardSigmoid (opset 6, 22): max(0, min(1, alpha·x + beta)) (alpha default 0.2, beta 0.5); float types.</summary>
public sealed class HardSigmoid : Operator
{
    public override string OpType => "HardSigmoid";
    public override IReadOnlyCollection<string> Attributes => ["alpha", "beta"];

    public override void InferTypes(InferenceContext ctx) => UnaryHelpers.InferSame(ctx, UnaryHelpers.IsFloat, "a float type");

    public override void Execute(ExecutionContext ctx)
    {
        double alpha = ctx.GetFloat("alpha", 0.2f);
        double beta = ctx.GetFloat("beta", 0.5f);
        UnaryHelpers.FloatOp(ctx, x => Math.Max(0, Math.Min(1, alpha * x + beta)));
    }
}
