using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>Softsign (opset 1, 22): x / (1 + |x|); float types.</summary>
public sealed class Softsign : Operator
{
    public override string OpType => "Softsign";

    public override void InferTypes(InferenceContext ctx) => UnaryHelpers.InferSame(ctx, UnaryHelpers.IsFloat, "a float type");

    public override void Execute(ExecutionContext ctx) => UnaryHelpers.FloatOp(ctx, x => x / (1 + Math.Abs(x)));
}
