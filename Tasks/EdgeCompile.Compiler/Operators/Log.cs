using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>Log (opset 6, 13): natural logarithm (NaN for x &lt; 0, −inf at 0); float types.</summary>
public sealed class Log : Operator
{
    public override string OpType => "Log";

    public override void InferTypes(InferenceContext ctx) => UnaryHelpers.InferSame(ctx, UnaryHelpers.IsFloat, "a float type");

    public override void Execute(ExecutionContext ctx) => UnaryHelpers.FloatOp(ctx, Math.Log);
}
