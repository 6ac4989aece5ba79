using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>ReduceMean: mean over the reduced axes (empty set: NaN for floats). Axes are an attribute before opset 18 and an optional int64 input from 18 (with noop_with_empty_axes).</summary>
public sealed class ReduceMean : Operator
{
    public override string OpType => "ReduceMean";
    public override IReadOnlyCollection<string> Attributes => ReduceHelpers.ReduceAttributes;
    public override int MaxInputs => 2;

    public override void InferTypes(InferenceContext ctx) => ReduceHelpers.InferReduce(ctx, ReduceKind.Mean);

    public override void Execute(ExecutionContext ctx) => ReduceHelpers.ExecuteReduce(ctx, ReduceKind.Mean);
}
