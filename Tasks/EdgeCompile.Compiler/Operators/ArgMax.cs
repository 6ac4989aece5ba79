using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>ArgMax: int64 index of the largest element along 'axis' (default 0); keepdims; select_last_index (opset 12+) picks the last of equal values.</summary>
public sealed class ArgMax : Operator
{
    public override string OpType => "ArgMax";
    public override IReadOnlyCollection<string> Attributes => ReduceHelpers.ArgAttributes;

    public override void InferTypes(InferenceContext ctx) => ReduceHelpers.InferArg(ctx);

    public override void Execute(ExecutionContext ctx) => ReduceHelpers.ExecuteArg(ctx, max: true);
}
