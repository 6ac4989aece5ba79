using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>And (broadcasting since opset 7): elementwise logical and of two bool tensors.</summary>
public sealed class And : Operator
{
    public override string OpType => "And";
    public override int MinInputs => 2;
    public override int MaxInputs => 2;

    public override void InferTypes(InferenceContext ctx) =>
        BinaryHelpers.InferBroadcast(ctx, t => t == DataType.Bool, "bool", DataType.Bool);

    public override void Execute(ExecutionContext ctx) => BinaryHelpers.Logical(ctx, (a, b) => a && b);
}
