using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>LeakyRelu (opset 6, 16): x ≥ 0 ? x : alpha·x (alpha default 0.01); float types.</summary>
public sealed class LeakyRelu : Operator
{
    public override string OpType => "LeakyRelu";
    public override IReadOnlyCollection<string> Attributes => ["alpha"];

    public override void InferTypes(InferenceContext ctx) => UnaryHelpers.InferSame(ctx, UnaryHelpers.IsFloat, "a float type");

    public override void Execute(ExecutionContext ctx)
    {
        double alpha = ctx.GetFloat("alpha", 0.01f);
        UnaryHelpers.FloatOp(ctx, x => x < 0 ? alpha * x : x);
    }
}
