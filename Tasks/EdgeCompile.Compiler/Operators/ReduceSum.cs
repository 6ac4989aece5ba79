using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>ReduceSum: sum over the reduced axes (empty set: 0). Axes are an attribute before opset 13 and an optional int64 input from 13 (with noop_with_empty_axes).</summary>
public sealed class ReduceSum : Operator
{
    public override string OpType => "ReduceSum";
    public override IReadOnlyCollection<string> Attributes => ReduceHelpers.ReduceAttributes;
    public override int MaxInputs => 2;

    public override void InferTypes(InferenceContext ctx) => ReduceHelpers.InferReduce(ctx, ReduceKind.Sum);

    public override void Execute(ExecutionContext ctx) => ReduceHelpers.ExecuteReduce(ctx, ReduceKind.Sum);
}
