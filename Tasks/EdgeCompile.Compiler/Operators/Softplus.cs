using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>Softplus (opset 1, 22): ln(e^x + 1); float types.</summary>
public sealed class Softplus : Operator
{
    public override string OpType => "Softplus";

    public override void InferTypes(InferenceContext ctx) => UnaryHelpers.InferSame(ctx, UnaryHelpers.IsFloat, "a float type");

    public override void Execute(ExecutionContext ctx) => UnaryHelpers.FloatOp(ctx, UnaryHelpers.Softplus);
}
