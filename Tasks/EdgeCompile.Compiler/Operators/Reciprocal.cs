using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>Reciprocal (opset 6, 13): 1 / x; float types.</summary>
public sealed class Reciprocal : Operator
{
    public override string OpType => "Reciprocal";

    public override void InferTypes(InferenceContext ctx) => UnaryHelpers.InferSame(ctx, UnaryHelpers.IsFloat, "a float type");

    public override void Execute(ExecutionContext ctx) => UnaryHelpers.FloatOp(ctx, x => 1 / x);
}
