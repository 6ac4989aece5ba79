using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>Abs (opset 6, 13): |x| for float and integer types (unsigned: unchanged; the minimum signed value wraps to itself).</summary>
public sealed class Abs : Operator
{
    public override string OpType => "Abs";

    public override void InferTypes(InferenceContext ctx) => UnaryHelpers.InferSame(ctx, UnaryHelpers.IsNumeric, "a numeric type");

    public override void Execute(ExecutionContext ctx) =>
        UnaryHelpers.NumericOp(ctx, UnaryHelpers.IsNumeric, "a numeric type", Math.Abs, x => x < 0 ? unchecked(-x) : x, x => x);
}
