using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.IR;
using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>Tile (opset 6+): repeats the input repeats[i] times along each axis i (repeats: 1-D int64, one per axis).</summary>
public sealed class Tile : Operator
{
    public override string OpType => "Tile";
    public override int MinInputs => 2;
    public override int MaxInputs => 2;

    public override void InferTypes(InferenceContext ctx)
    {
        var type = ctx.InputElemType(0);
        var input = ctx.InputShape(0);
        var repeatsT = ctx.ConstantInput(1);
        if (input is null) { ctx.SetOutput(0, type, (Dim[]?)null); return; }
        if (repeatsT is null) { ctx.SetOutput(0, type, ShapeHelpers.UnknownDims(input.Length)); return; }
        var repeats = Repeats(ctx, repeatsT, input.Length);
        ctx.SetOutput(0, type, input.Select((d, i) => ShapeHelpers.Mul(d, repeats[i])).ToArray());
    }

    public override void Execute(ExecutionContext ctx)
    {
        var x = ctx.RequireInput(0);
        var repeats = Repeats(ctx, ctx.RequireInput(1), x.Rank);
        var shape = x.Shape.Select((d, i) => ShapeHelpers.ToInt(ctx, d * repeats[i], "Output dimension")).ToArray();
        var maps = shape.Select((n, a) => Enumerable.Range(0, n).Select(o => o % x.Shape[a]).ToArray()).ToArray();
        ctx.SetOutput(0, ShapeHelpers.TakeAxisMaps(x, shape, maps));
    }

    private static long[] Repeats(NodeContext ctx, Tensor t, int rank)
    {
        if (t.DataType != DataType.Int64)
            throw ctx.Error(EdgeCodes.ShapeMismatch, $"The repeats input must be int64, got {t.DataType.OnnxName()}.");
        var r = ShapeHelpers.Ints(ctx, t, "repeats");
        if (r.Length != rank)
            throw ctx.Error(EdgeCodes.ShapeMismatch, $"repeats has {r.Length} entries but the input has rank {rank}.");
        if (r.Any(v => v < 0))
            throw ctx.Error(EdgeCodes.InvalidValue, $"repeats [{string.Join(",", r)}] has a negative entry.");
        return r;
    }
}
