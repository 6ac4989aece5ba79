using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>Equal (broadcasting since opset 7): A == B; bool inputs allowed (integers and bool since opset 7, all numeric types since 11), giving bool. NaN compares false; uint64 compares unsigned.</summary>
public sealed class Equal : Operator
{
    public override string OpType => "Equal";
    public override int MinInputs => 2;
    public override int MaxInputs => 2;

    public override void InferTypes(InferenceContext ctx) => BinaryHelpers.InferCompare(ctx, allowBool: true);

    public override void Execute(ExecutionContext ctx) => BinaryHelpers.Compare(ctx, allowBool: true, s => s == 0);
}
