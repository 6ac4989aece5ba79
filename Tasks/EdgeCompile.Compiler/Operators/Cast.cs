using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>
/// Cast (opset 6, 9, 13, 19, 21, 23, 24, 25): converts to the type 'to'. Float targets round to nearest even;
/// float → integer truncates toward zero (out-of-range values are undefined in the spec); integer → integer
/// wraps; anything → bool is "not zero". 'saturate' and 'round_mode' only affect float8 targets, which are unsupported.
/// </summary>
public sealed class Cast : Operator
{
    public override string OpType => "Cast";
    public override IReadOnlyCollection<string> Attributes => ["to", "saturate", "round_mode"];

    public override void InferTypes(InferenceContext ctx)
    {
        UnaryHelpers.CheckCastAttributes(ctx);
        var to = UnaryHelpers.CastTarget(ctx, ctx.RequireInt("to"));
        ctx.SetOutput(0, to, ctx.InputShape(0));
    }

    public override void Execute(ExecutionContext ctx)
    {
        UnaryHelpers.CheckCastAttributes(ctx);
        var to = UnaryHelpers.CastTarget(ctx, ctx.RequireInt("to"));
        ctx.SetOutput(0, UnaryHelpers.Cast(ctx.RequireInput(0), to));
    }
}
