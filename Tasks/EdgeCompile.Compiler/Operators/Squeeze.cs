using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.IR;
using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>
/// Squeeze: removes the size-1 dims listed in 'axes' (an attribute before opset 13, an optional input
/// from 13), or every size-1 dim when axes is absent. Squeezing a dim that is not 1 is an error.
/// </summary>
public sealed class Squeeze : Operator
{
    public override string OpType => "Squeeze";
    public override IReadOnlyCollection<string> Attributes => ["axes"];
    public override int MaxInputs => 2;

    public override void InferTypes(InferenceContext ctx)
    {
        var type = ctx.InputElemType(0);
        var s = ctx.InputShape(0);
        var axes = ShapeHelpers.AttrOrInput(ctx, "axes", 1, 13, out bool known);
        if (s is null || !known)
        {
            // Rank is still known when the axes count and the input rank are.
            long? count = !known ? ShapeHelpers.Length1D(ctx, 1) : axes?.Length;
            ctx.SetOutput(0, type, s is not null && count is { } c ? ShapeHelpers.UnknownDims(s.Length - (int)c) : null);
            return;
        }
        if (axes is null)
        {
            if (s.Any(d => !d.IsKnown)) { ctx.SetOutput(0, type, (Dim[]?)null); return; } // which dims are 1 is unknown
            ctx.SetOutput(0, type, s.Where(d => d.Value != 1).ToArray());
            return;
        }
        var ax = ShapeHelpers.Axes(ctx, axes, s.Length);
        foreach (var a in ax)
            if (s[a].IsKnown && s[a].Value != 1)
                throw ctx.Error(EdgeCodes.ShapeMismatch, $"Cannot squeeze axis {a}: its size is {s[a].Value}, not 1.");
        ctx.SetOutput(0, type, s.Where((_, i) => !ax.Contains(i)).ToArray());
    }

    public override void Execute(ExecutionContext ctx)
    {
        var x = ctx.RequireInput(0);
        var axes = ShapeHelpers.AttrOrInput(ctx, "axes", 1, 13, out _);
        int[] ax = axes is null
            ? Enumerable.Range(0, x.Rank).Where(i => x.Shape[i] == 1).ToArray()
            : ShapeHelpers.Axes(ctx, axes, x.Rank);
        foreach (var a in ax)
            if (x.Shape[a] != 1)
                throw ctx.Error(EdgeCodes.ShapeMismatch, $"Cannot squeeze axis {a} of {Shapes.Format(x.Shape)}: its size is not 1.");
        ctx.SetOutput(0, x.Reshape(x.Shape.Where((_, i) => !ax.Contains(i)).ToArray()));
    }
}
