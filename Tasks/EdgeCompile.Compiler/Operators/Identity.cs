using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>Identity: the input, unchanged (tensors are immutable in the executor, so no copy).</summary>
public sealed class Identity : Operator
{
    public override string OpType => "Identity";

    public override void InferTypes(InferenceContext ctx) => ShapeRules.SameAsInput(ctx);

    public override void Execute(ExecutionContext ctx) => ctx.SetOutput(0, ctx.RequireInput(0));
}
