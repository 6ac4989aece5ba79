using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>
/// Gelu (opset 20): approximate="none": x·Φ(x) = x/2·(1 + erf(x/√2)); approximate="tanh":
/// x/2·(1 + tanh(√(2/π)·(x + 0.044715·x³))); float types.
/// </summary>
public sealed class Gelu : Operator
{
    public override string OpType => "Gelu";
    public override IReadOnlyCollection<string> Attributes => ["approximate"];

    private static bool UseTanh(NodeContext ctx) => ctx.GetString("approximate", "none") switch
    {
        "none" => false,
        "tanh" => true,
        var s => throw ctx.Error(EdgeCodes.InvalidAttribute, $"Attribute 'approximate' must be \"none\" or \"tanh\", got \"{s}\"."),
    };

    public override void InferTypes(InferenceContext ctx)
    {
        UseTanh(ctx);
        UnaryHelpers.InferSame(ctx, UnaryHelpers.IsFloat, "a float type");
    }

    public override void Execute(ExecutionContext ctx)
    {
        if (UseTanh(ctx))
        {
            double k = Math.Sqrt(2 / Math.PI);
            UnaryHelpers.FloatOp(ctx, x => 0.5 * x * (1 + Math.Tanh(k * (x + 0.044715 * x * x * x))));
        }
        else
        {
            // 1 + erf(x/√2) = erfc(−x/√2): no cancellation for large negative x.
            UnaryHelpers.FloatOp(ctx, x => 0.5 * x * UnaryHelpers.Erfc(-x / Math.Sqrt(2)));
        }
    }
}
