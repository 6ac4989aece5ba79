using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>Sign (opset 9, 13): −1, 0 or 1 by the sign of x, for float and integer types; NaN stays NaN.</summary>
public sealed class Sign : Operator
{
    public override string OpType => "Sign";

    public override void InferTypes(InferenceContext ctx) => UnaryHelpers.InferSame(ctx, UnaryHelpers.IsNumeric, "a numeric type");

    public override void Execute(ExecutionContext ctx) =>
        UnaryHelpers.NumericOp(ctx, UnaryHelpers.IsNumeric, "a numeric type",
            x => x > 0 ? 1 : x < 0 ? -1 : x, // x is ±0 or NaN here (Math.Sign would throw on NaN)
            x => Math.Sign(x),
            x => x == 0 ? 0UL : 1UL);
}
