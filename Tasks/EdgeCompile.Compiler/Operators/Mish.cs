using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>Mish (opset 18, 22): x · tanh(softplus(x)); float types.</summary>
public sealed class Mish : Operator
{
    public override string OpType => "Mish";

    public override void InferTypes(InferenceContext ctx) => UnaryHelpers.InferSame(ctx, UnaryHelpers.IsFloat, "a float type");

    public override void Execute(ExecutionContext ctx) => UnaryHelpers.FloatOp(ctx, x => x * Math.Tanh(UnaryHelpers.Softplus(x)));
}
