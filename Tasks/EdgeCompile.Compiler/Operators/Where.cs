using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>
/// Where (opset 9; all types since 16): output = condition ? X : Y elementwise, the three inputs
/// broadcast together (numpy.where). X and Y share any type; the condition is bool.
/// </summary>
public sealed class Where : Operator
{
    public override string OpType => "Where";
    public override int MinInputs => 3;
    public override int MaxInputs => 3;

    public override void InferTypes(InferenceContext ctx)
    {
        BinaryHelpers.CheckSameType(ctx, t => t == DataType.Bool, "bool (the condition)", 0);
        var type = BinaryHelpers.CheckSameType(ctx, _ => true, "any type", 1, 2);
        ctx.SetOutput(0, type ?? ctx.InputElemType(1), ShapeRules.Broadcast(ctx, ctx.InputShape(0), ctx.InputShape(1), ctx.InputShape(2)));
    }

    public override void Execute(ExecutionContext ctx)
    {
        BinaryHelpers.CheckSameType(ctx, t => t == DataType.Bool, "bool (the condition)", 0);
        BinaryHelpers.CheckSameType(ctx, _ => true, "any type", 1, 2);
        var c = ctx.RequireInput(0);
        var x = ctx.RequireInput(1);
        var y = ctx.RequireInput(2);
        var shape = Elementwise.BroadcastShape(ctx, c, x, y);
        var ic = Shapes.BroadcastIndex(c.Shape, shape);
        var ix = Shapes.BroadcastIndex(x.Shape, shape);
        var iy = Shapes.BroadcastIndex(y.Shape, shape);
        var cond = c.As<bool>();
        // Select from X's and Y's elements laid end to end: Y's element j sits at x.Length + j.
        var source = BinaryHelpers.Concat(x, y);
        var idx = new int[ic.Length];
        for (int i = 0; i < idx.Length; i++) idx[i] = cond[ic[i]] ? ix[i] : x.Length + iy[i];
        ctx.SetOutput(0, source.Take(shape, idx));
    }
}
