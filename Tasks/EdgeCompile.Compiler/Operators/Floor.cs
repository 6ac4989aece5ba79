using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>Floor (opset 6, 13): the largest integer ≤ x; float types.</summary>
public sealed class Floor : Operator
{
    public override string OpType => "Floor";

    public override void InferTypes(InferenceContext ctx) => UnaryHelpers.InferSame(ctx, UnaryHelpers.IsFloat, "a float type");

    public override void Execute(ExecutionContext ctx) => UnaryHelpers.FloatOp(ctx, Math.Floor);
}
