using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>Cos (opset 7, 22): cosine; float types.</summary>
public sealed class Cos : Operator
{
    public override string OpType => "Cos";

    public override void InferTypes(InferenceContext ctx) => UnaryHelpers.InferSame(ctx, UnaryHelpers.IsFloat, "a float type");

    public override void Execute(ExecutionContext ctx) => UnaryHelpers.FloatOp(ctx, Math.Cos);
}
