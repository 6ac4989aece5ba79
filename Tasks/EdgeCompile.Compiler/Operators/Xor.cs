using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>Xor (broadcasting since opset 7): elementwise logical exclusive or of two bool tensors.</summary>
public sealed class Xor : Operator
{
    public override string OpType => "Xor";
    public override int MinInputs => 2;
    public override int MaxInputs => 2;

    public override void InferTypes(InferenceContext ctx) =>
        BinaryHelpers.InferBroadcast(ctx, t => t == DataType.Bool, "bool", DataType.Bool);

    public override void Execute(ExecutionContext ctx) => BinaryHelpers.Logical(ctx, (a, b) => a ^ b);
}
