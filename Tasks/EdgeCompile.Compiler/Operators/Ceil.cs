using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>Ceil (opset 6, 13): the smallest integer ≥ x; float types.</summary>
public sealed class Ceil : Operator
{
    public override string OpType => "Ceil";

    public override void InferTypes(InferenceContext ctx) => UnaryHelpers.InferSame(ctx, UnaryHelpers.IsFloat, "a float type");

    public override void Execute(ExecutionContext ctx) => UnaryHelpers.FloatOp(ctx, Math.Ceiling);
}
