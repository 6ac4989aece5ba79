using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>ReduceMin: minimum over the reduced axes; bool from opset 20 (empty set: +inf, or the type's maximum). Axes are an attribute before opset 18 and an optional int64 input from 18 (with noop_with_empty_axes).</summary>
public sealed class ReduceMin : Operator
{
    public override string OpType => "ReduceMin";
    public override IReadOnlyCollection<string> Attributes => ReduceHelpers.ReduceAttributes;
    public override int MaxInputs => 2;

    public override void InferTypes(InferenceContext ctx) => ReduceHelpers.InferReduce(ctx, ReduceKind.Min);

    public override void Execute(ExecutionContext ctx) => ReduceHelpers.ExecuteReduce(ctx, ReduceKind.Min);
}
