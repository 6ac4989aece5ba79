using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>
/// Erf (opset 9, 13): the Gauss error function. The spec allows all numeric types; for integers the value is
/// computed in double and cast (truncated) to the input type, as Cast would.
/// </summary>
public sealed class Erf : Operator
{
    public override string OpType => "Erf";

    public override void InferTypes(InferenceContext ctx) => UnaryHelpers.InferSame(ctx, UnaryHelpers.IsNumeric, "a numeric type");

    public override void Execute(ExecutionContext ctx) =>
        UnaryHelpers.NumericOp(ctx, UnaryHelpers.IsNumeric, "a numeric type",
            UnaryHelpers.Erf, x => Tensor.DoubleToInt64(UnaryHelpers.Erf(x)), x => (ulong)Tensor.DoubleToInt64(UnaryHelpers.Erf(x)));
}
