using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>ReduceLogSumExp: log of the sum of exponentials over the reduced axes, computed stably (empty set: -inf). Axes are an attribute before opset 18 and an optional int64 input from 18 (with noop_with_empty_axes).</summary>
public sealed class ReduceLogSumExp : Operator
{
    public override string OpType => "ReduceLogSumExp";
    public override IReadOnlyCollection<string> Attributes => ReduceHelpers.ReduceAttributes;
    public override int MaxInputs => 2;

    public override void InferTypes(InferenceContext ctx) => ReduceHelpers.InferReduce(ctx, ReduceKind.LogSumExp);

    public override void Execute(ExecutionContext ctx) => ReduceHelpers.ExecuteReduce(ctx, ReduceKind.LogSumExp);
}
