using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>
/// Min (variadic, 1..N inputs, broadcasting since opset 8; integer types since 12): elementwise minimum.
/// A NaN operand gives NaN (as numpy.minimum); uint64 compares unsigned.
/// </summary>
public sealed class Min : Operator
{
    public override string OpType => "Min";
    public override int MinInputs => 1;
    public override int MaxInputs => int.MaxValue;

    public override void InferTypes(InferenceContext ctx) =>
        BinaryHelpers.InferBroadcast(ctx, BinaryHelpers.IsNumeric, "a numeric type");

    public override void Execute(ExecutionContext ctx) =>
        BinaryHelpers.Variadic(ctx, BinaryHelpers.IsNumeric, "a numeric type", Math.Min, Math.Min, Math.Min);
}
