using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>Round (opset 11, 22): to the nearest integer, halves to even (spec: "round half to even"); float types.</summary>
public sealed class Round : Operator
{
    public override string OpType => "Round";

    public override void InferTypes(InferenceContext ctx) => UnaryHelpers.InferSame(ctx, UnaryHelpers.IsFloat, "a float type");

    public override void Execute(ExecutionContext ctx) => UnaryHelpers.FloatOp(ctx, x => Math.Round(x, MidpointRounding.ToEven));
}
