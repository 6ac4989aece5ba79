using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>
/// Selu (opset 6, 22): gamma·(x &gt; 0 ? x : alpha·(e^x − 1)); defaults are the float32 values the spec lists
/// (alpha ≈ 1.6733, gamma ≈ 1.0507); float types.
/// </summary>
public sealed class Selu : Operator
{
    public override string OpType => "Selu";
    public override IReadOnlyCollection<string> Attributes => ["alpha", "gamma"];

    public override void InferTypes(InferenceContext ctx) => UnaryHelpers.InferSame(ctx, UnaryHelpers.IsFloat, "a float type");

    public override void Execute(ExecutionContext ctx)
    {
        double alpha = ctx.GetFloat("alpha", 1.67326319217681884765625f);
        double gamma = ctx.GetFloat("gamma", 1.05070102214813232421875f);
        UnaryHelpers.FloatOp(ctx, x => gamma * (x > 0 ? x : alpha * UnaryHelpers.Expm1(x)));
    }
}
