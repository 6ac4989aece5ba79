using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>Elu (opset 6, 22): x ≥ 0 ? x : alpha·(e^x − 1) (alpha default 1); float types.</summary>
public sealed class Elu : Operator
{
    public override string OpType => "Elu";
    public override IReadOnlyCollection<string> Attributes => ["alpha"];

    public override void InferTypes(InferenceContext ctx) => UnaryHelpers.InferSame(ctx, UnaryHelpers.IsFloat, "a float type");

    public override void Execute(ExecutionContext ctx)
    {
        double alpha = ctx.GetFloat("alpha", 1f);
        UnaryHelpers.FloatOp(ctx, x => x < 0 ? alpha * UnaryHelpers.Expm1(x) : x);
    }
}
