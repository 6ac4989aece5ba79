using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>ReduceL2: square root of the sum of squares over the reduced axes (empty set: 0). Axes are an attribute before opset 18 and an optional int64 input from 18 (with noop_with_empty_axes).</summary>
public sealed class ReduceL2 : Operator
{
    public override string OpType => "ReduceL2";
    public override IReadOnlyCollection<string> Attributes => ReduceHelpers.ReduceAttributes;
    public override int MaxInputs => 2;

    public override void InferTypes(InferenceContext ctx) => ReduceHelpers.InferReduce(ctx, ReduceKind.L2);

    public override void Execute(ExecutionContext ctx) => ReduceHelpers.ExecuteReduce(ctx, ReduceKind.L2);
}
