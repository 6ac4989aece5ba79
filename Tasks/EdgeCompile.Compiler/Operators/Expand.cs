using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.IR;
using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>
/// Expand (opset 8+): broadcasts the input to the 1-D int64 'shape' input. The output shape is the
/// numpy broadcast of the two shapes, so a 1 in 'shape' keeps the input's dim and the output rank may
/// exceed len(shape).
/// </summary>
public sealed class Expand : Operator
{
    public override string OpType => "Expand";
    public override int MinInputs => 2;
    public override int MaxInputs => 2;

    public override void InferTypes(InferenceContext ctx)
    {
        var type = ctx.InputElemType(0);
        var input = ctx.InputShape(0);
        var shapeT = ctx.ConstantInput(1);
        if (shapeT is not null)
        {
            var target = Target(ctx, shapeT).Select(d => Dim.Known(d)).ToArray();
            ctx.SetOutput(0, type, ShapeRules.Broadcast(ctx, input, target));
            return;
        }
        ctx.SetOutput(0, type, input is not null && ShapeHelpers.Length1D(ctx, 1) is { } n
            ? ShapeHelpers.UnknownDims(Math.Max(input.Length, (int)n)) : null);
    }

    public override void Execute(ExecutionContext ctx)
    {
        var x = ctx.RequireInput(0);
        var target = Target(ctx, ctx.RequireInput(1)).Select(d => ShapeHelpers.ToInt(ctx, d, "Dimension")).ToArray();
        int[] shape;
        try { shape = Shapes.Broadcast(x.Shape, target); }
        catch (EdgeException e) { throw e.WithNode(ctx.Node.DisplayName, ctx.Node.OpType); }
        ctx.SetOutput(0, x.Take(shape, Shapes.BroadcastIndex(x.Shape, shape)));
    }

    private static long[] Target(NodeContext ctx, Tensor shapeT)
    {
        if (shapeT.DataType != DataType.Int64)
            throw ctx.Error(EdgeCodes.ShapeMismatch, $"The shape input must be int64, got {shapeT.DataType.OnnxName()}.");
        var t = ShapeHelpers.Ints(ctx, shapeT, "shape");
        if (t.Any(d => d < 0))
            throw ctx.Error(EdgeCodes.InvalidValue, $"The shape [{string.Join(",", t)}] has a negative dimension.");
        return t;
    }
}
