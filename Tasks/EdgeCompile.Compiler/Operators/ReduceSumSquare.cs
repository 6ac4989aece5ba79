using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>ReduceSumSquare: sum of squares over the reduced axes (empty set: 0). Axes are an attribute before opset 18 and an optional int64 input from 18 (with noop_with_empty_axes).</summary>
public sealed class ReduceSumSquare : Operator
{
    public override string OpType => "ReduceSumSquare";
    public override IReadOnlyCollection<string> Attributes => ReduceHelpers.ReduceAttributes;
    public override int MaxInputs => 2;

    public override void InferTypes(InferenceContext ctx) => ReduceHelpers.InferReduce(ctx, ReduceKind.SumSquare);

    public override void Execute(ExecutionContext ctx) => ReduceHelpers.ExecuteReduce(ctx, ReduceKind.SumSquare);
}
