using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>Neg (opset 6, 13): −x for float and signed integer types (the minimum signed value wraps to itself).</summary>
public sealed class Neg : Operator
{
    public override string OpType => "Neg";

    public override void InferTypes(InferenceContext ctx) => UnaryHelpers.InferSame(ctx, UnaryHelpers.IsSignedNumeric, "a float or signed integer type");

    public override void Execute(ExecutionContext ctx) =>
        UnaryHelpers.NumericOp(ctx, UnaryHelpers.IsSignedNumeric, "a float or signed integer type", x => -x, x => unchecked(-x));
}
