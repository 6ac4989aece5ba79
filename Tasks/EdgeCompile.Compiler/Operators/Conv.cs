using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>
/// Conv (opset 1, 11, 22): N-d convolution (cross-correlation) of X [N, C, D...] with W [M, C/group, k...],
/// plus optional bias B [M]. Padding contributes zeros. Geometry in <see cref="ConvHelpers"/>.
/// </summary>
public sealed class Conv : Operator
{
    public override string OpType => "Conv";
    public override IReadOnlyCollection<string> Attributes => ConvHelpers.ConvAttributeNames;
    public override int MinInputs => 2;
    public override int MaxInputs => 3;

    public override void InferTypes(InferenceContext ctx)
    {
        var t = ctx.InputElemType(0);
        ConvHelpers.RequireFloat(ctx, t, "X");
        ConvHelpers.InferConv(ctx, 0, 1, t);
    }

    public override void Execute(ExecutionContext ctx)
    {
        var x = ctx.RequireInput(0);
        var w = ctx.RequireInput(1);
        ConvHelpers.RequireFloat(ctx, x.DataType, "X");
        if (w.DataType != x.DataType)
            throw ctx.Error(Diagnostics.EdgeCodes.ShapeMismatch, $"W {w} must have the element type of X {x}.");
        var d = ConvHelpers.CheckConv(ctx, x, w);
        double[]? bias = null;
        if (ctx.Input(2) is { } b)
        {
            if (b.Rank != 1 || b.Shape[0] != d.M)
                throw ctx.Error(Diagnostics.EdgeCodes.ShapeMismatch, $"B {b} must be 1-D with {d.M} values (one per output channel).");
            bias = ConvHelpers.ToDoubles(b);
        }
        var y = ConvHelpers.Convolve(d, ConvHelpers.ToDoubles(x), ConvHelpers.ToDoubles(w), bias);
        ctx.SetOutput(0, Tensor.FromDoubles(x.DataType, [d.N, d.M, .. d.Geometry.OutputSpatial], y));
    }
}
