using EdgeCompile.Compiler.IR;

namespace EdgeCompile.Compiler.Operators;

/// <summary>Size (opset 1+): the number of elements of the input, as an int64 scalar.</summary>
public sealed class Size : Operator
{
    public override string OpType => "Size";

    public override void InferTypes(InferenceContext ctx) => ctx.SetOutput(0, DataType.Int64, Array.Empty<Dim>());

    public override void Execute(ExecutionContext ctx) =>
        ctx.SetOutput(0, Tensor.Scalar((long)ctx.RequireInput(0).Length));
}
