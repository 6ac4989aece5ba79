using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>
/// Max (variadic, 1..N inputs, broadcasting since opset 8; integer types since 12): elementwise maximum.
/// A NaN operand gives NaN (as numpy.maximum); uint64 compares unsigned.
/// </summary>
public sealed class Max : Operator
{
    public override string OpType => "Max";
    public override int MinInputs => 1;
    public override int MaxInputs => int.MaxValue;

    public override void InferTypes(InferenceContext ctx) =>
        BinaryHelpers.InferBroadcast(ctx, BinaryHelpers.IsNumeric, "a numeric type");

    public override void Execute(ExecutionContext ctx) =>
        BinaryHelpers.Variadic(ctx, BinaryHelpers.IsNumeric, "a numeric type", Math.Max, Math.Max, Math.Max);
}
