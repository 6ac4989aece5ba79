using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.IR;
using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>
/// ConstantOfShape (opset 9+): a tensor of the shape given by the 1-D int64 input, every element equal to
/// the one-element 'value' attribute (default float32 0). An empty shape gives a scalar.
/// </summary>
public sealed class ConstantOfShape : Operator
{
    public override string OpType => "ConstantOfShape";
    public override IReadOnlyCollection<string> Attributes => ["value"];

    public override void InferTypes(InferenceContext ctx)
    {
        var type = Fill(ctx).DataType;
        var shape = ctx.ConstantInput(0);
        if (shape is not null)
            ctx.SetOutput(0, type, OutputShape(ctx, shape));
        else
            ctx.SetOutput(0, type, ShapeHelpers.Length1D(ctx, 0) is { } rank ? ShapeHelpers.UnknownDims((int)rank) : null);
    }

    public override void Execute(ExecutionContext ctx)
    {
        var fill = Fill(ctx);
        var shape = OutputShape(ctx, ctx.RequireInput(0));
        ctx.SetOutput(0, fill.Take(shape, new int[Shapes.Product(shape)]));
    }

    private static Tensor Fill(NodeContext ctx)
    {
        var v = ctx.GetTensor("value");
        if (v is null) return Tensor.FromArray(new[] { 0f }, 1);
        if (v.Length != 1)
            throw ctx.Error(EdgeCodes.InvalidAttribute, $"Attribute 'value' must hold exactly one element, got shape {Shapes.Format(v.Shape)}.");
        return v;
    }

    private static int[] OutputShape(NodeContext ctx, Tensor shape)
    {
        if (shape.DataType != DataType.Int64)
            throw ctx.Error(EdgeCodes.ShapeMismatch, $"The shape input must be int64, got {shape.DataType.OnnxName()}.");
        var dims = ShapeHelpers.Ints(ctx, shape, "input");
        return dims.Select(d => ShapeHelpers.ToInt(ctx, d, "Dimension")).ToArray();
    }
}
