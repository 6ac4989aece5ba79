using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>ArgMin: int64 index of the smallest element along 'axis' (default 0); keepdims; select_last_index (opset 12+) picks the last of equal values.</summary>
public sealed class ArgMin : Operator
{
    public override string OpType => "ArgMin";
    public override IReadOnlyCollection<string> Attributes => ReduceHelpers.ArgAttributes;

    public override void InferTypes(InferenceContext ctx) => ReduceHelpers.InferArg(ctx);

    public override void Execute(ExecutionContext ctx) => ReduceHelpers.ExecuteArg(ctx, max: false);
}
