using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>LessOrEqual (opset 12+, broadcasting): A &lt;= B, giving bool. NaN compares false; uint64 compares unsigned.</summary>
public sealed class LessOrEqual : Operator
{
    public override string OpType => "LessOrEqual";
    public override int MinInputs => 2;
    public override int MaxInputs => 2;

    public override void InferTypes(InferenceContext ctx) => BinaryHelpers.InferCompare(ctx, allowBool: false);

    public override void Execute(ExecutionContext ctx) => BinaryHelpers.Compare(ctx, allowBool: false, s => s <= 0);
}
