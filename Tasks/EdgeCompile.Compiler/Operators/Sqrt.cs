using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>Sqrt (opset 6, 13): √x (NaN for x &lt; 0); float types.</summary>
public sealed class Sqrt : Operator
{
    public override string OpType => "Sqrt";

    public override void InferTypes(InferenceContext ctx) => UnaryHelpers.InferSame(ctx, UnaryHelpers.IsFloat, "a float type");

    public override void Execute(ExecutionContext ctx) => UnaryHelpers.FloatOp(ctx, Math.Sqrt);
}
