using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>Sigmoid (opset 6, 13): 1 / (1 + e^−x); float types.</summary>
public sealed class Sigmoid : Operator
{
    public override string OpType => "Sigmoid";

    public override void InferTypes(InferenceContext ctx) => UnaryHelpers.InferSame(ctx, UnaryHelpers.IsFloat, "a float type");

    public override void Execute(ExecutionContext ctx) => UnaryHelpers.FloatOp(ctx, UnaryHelpers.Sigmoid);
}
