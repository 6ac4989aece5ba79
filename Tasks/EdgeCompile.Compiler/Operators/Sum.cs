using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>
/// Sum (variadic, 1..N inputs, broadcasting since opset 8): elementwise sum of floating-point tensors
/// (the spec's types: float16, float, double, bfloat16), accumulated in double and rounded once.
/// </summary>
public sealed class Sum : Operator
{
    public override string OpType => "Sum";
    public override int MinInputs => 1;
    public override int MaxInputs => int.MaxValue;

    public override void InferTypes(InferenceContext ctx) =>
        BinaryHelpers.InferBroadcast(ctx, t => t.IsFloat(), "a floating-point type");

    public override void Execute(ExecutionContext ctx) =>
        BinaryHelpers.Variadic(ctx, t => t.IsFloat(), "a floating-point type", (a, b) => a + b, null, null);
}
