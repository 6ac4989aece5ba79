using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.IR;
using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>
/// Unsqueeze: inserts size-1 dims at the positions 'axes' (an attribute before opset 13, a required
/// input from 13). Axes refer to the output's rank (r + len(axes)), may be negative and in any order.
/// </summary>
public sealed class Unsqueeze : Operator
{
    public override string OpType => "Unsqueeze";
    public override IReadOnlyCollection<string> Attributes => ["axes"];
    public override int MaxInputs => 2;

    public override void InferTypes(InferenceContext ctx)
    {
        var type = ctx.InputElemType(0);
        var s = ctx.InputShape(0);
        var axes = ShapeHelpers.AttrOrInput(ctx, "axes", 1, 13, out bool known);
        if (s is null) { ctx.SetOutput(0, type, (Dim[]?)null); return; }
        if (!known)
        {
            ctx.SetOutput(0, type, ShapeHelpers.Length1D(ctx, 1) is { } c ? ShapeHelpers.UnknownDims(s.Length + (int)c) : null);
            return;
        }
        ctx.SetOutput(0, type, OutputShape(ctx, s, axes));
    }

    public override void Execute(ExecutionContext ctx)
    {
        var x = ctx.RequireInput(0);
        var axes = ShapeHelpers.AttrOrInput(ctx, "axes", 1, 13, out _);
        var shape = OutputShape(ctx, ShapeHelpers.KnownDims(x.Shape), axes);
        ctx.SetOutput(0, x.Reshape(shape.Select(d => (int)d.Value).ToArray()));
    }

    private static Dim[] OutputShape(NodeContext ctx, Dim[] input, long[]? axes)
    {
        if (axes is null) throw ctx.Error(EdgeCodes.InvalidAttribute, "Unsqueeze needs 'axes'.");
        int rank = input.Length + axes.Length;
        var ax = ShapeHelpers.Axes(ctx, axes, rank);
        var r = new Dim[rank];
        int k = 0;
        for (int i = 0; i < rank; i++) r[i] = ax.Contains(i) ? Dim.Known(1) : input[k++];
        return r;
    }
}
