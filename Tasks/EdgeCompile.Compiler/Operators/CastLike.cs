using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>CastLike (opset 15, 19, 21, 23, 24, 25): Cast of input 0 to the element type of input 1 (whose values are ignored).</summary>
public sealed class CastLike : Operator
{
    public override string OpType => "CastLike";
    public override IReadOnlyCollection<string> Attributes => ["saturate", "round_mode"];
    public override int MinInputs => 2;
    public override int MaxInputs => 2;

    public override void InferTypes(InferenceContext ctx)
    {
        UnaryHelpers.CheckCastAttributes(ctx);
        var target = ctx.InputType(1);
        if (target is null) return;
        ctx.SetOutput(0, UnaryHelpers.CastTarget(ctx, (long)target.ElemType), ctx.InputShape(0));
    }

    public override void Execute(ExecutionContext ctx)
    {
        UnaryHelpers.CheckCastAttributes(ctx);
        var to = UnaryHelpers.CastTarget(ctx, (long)ctx.RequireInput(1).DataType);
        ctx.SetOutput(0, UnaryHelpers.Cast(ctx.RequireInput(0), to));
    }
}
