using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>
/// Mean (variadic, 1..N inputs, broadcasting since opset 8): elementwise sum of floating-point tensors
/// divided by the number of inputs, computed in double and rounded once.
/// </summary>
public sealed class Mean : Operator
{
    public override string OpType => "Mean";
    public override int MinInputs => 1;
    public override int MaxInputs => int.MaxValue;

    public override void InferTypes(InferenceContext ctx) =>
        BinaryHelpers.InferBroadcast(ctx, t => t.IsFloat(), "a floating-point type");

    public override void Execute(ExecutionContext ctx)
    {
        int n = ctx.InputCount;
        BinaryHelpers.Variadic(ctx, t => t.IsFloat(), "a floating-point type", (a, b) => a + b, null, null, s => s / n);
    }
}
