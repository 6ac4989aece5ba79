using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>Relu: max(0, x); for signed integers too (opset 14).</summary>
public sealed class Relu : Operator
{
    public override string OpType => "Relu";

    public override void InferTypes(InferenceContext ctx) => ShapeRules.SameAsInput(ctx);

    public override void Execute(ExecutionContext ctx) =>
        Elementwise.Unary(ctx, x => x < 0 ? 0 : x, x => x < 0 ? 0 : x);
}
