using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.IR;
using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>
/// Slice: takes [start, end) with a step on each listed axis. Before opset 10 starts/ends/axes are
/// attributes (step 1); from 10 they are inputs, with optional axes (default 0..n-1) and steps (default 1,
/// negative allowed). Per the spec, negative starts/ends count from the back, then starts clamp to
/// [0, dim] (step &gt; 0) or [0, dim-1] (step &lt; 0) and ends to [0, dim] or [-1, dim-1], so huge values
/// like INT64_MAX simply mean "to the end".
/// </summary>
public sealed class Slice : Operator
{
    public override string OpType => "Slice";
    public override IReadOnlyCollection<string> Attributes => ["starts", "ends", "axes"];
    public override int MaxInputs => 5;

    private readonly record struct AxisSlice(int Axis, long Start, long Step, long Count);

    public override void InferTypes(InferenceContext ctx)
    {
        var type = ctx.InputElemType(0);
        var s = ctx.InputShape(0);
        if (s is null) { ctx.SetOutput(0, type, (Dim[]?)null); return; }
        var p = Params(ctx, s.Length);
        var r = (Dim[])s.Clone();
        if (p.Axes is null) { ctx.SetOutput(0, type, ShapeHelpers.UnknownDims(s.Length)); return; }
        for (int i = 0; i < p.Axes.Length; i++)
        {
            int a = p.Axes[i];
            r[a] = p.Starts is not null && p.Ends is not null && p.Steps is not null && s[a].IsKnown
                ? Dim.Known(Resolve(ctx, a, s[a].Value, p.Starts[i], p.Ends[i], p.Steps[i]).Count)
                : Dim.Unknown;
        }
        ctx.SetOutput(0, type, r);
    }

    public override void Execute(ExecutionContext ctx)
    {
        var x = ctx.RequireInput(0);
        var p = Params(ctx, x.Rank);
        var maps = x.Shape.Select(d => Enumerable.Range(0, d).ToArray()).ToArray();
        var shape = (int[])x.Shape.Clone();
        for (int i = 0; i < p.Axes!.Length; i++)
        {
            int a = p.Axes[i];
            var sl = Resolve(ctx, a, x.Shape[a], p.Starts![i], p.Ends![i], p.Steps![i]);
            shape[a] = (int)sl.Count;
            maps[a] = Enumerable.Range(0, shape[a]).Select(k => (int)(sl.Start + k * sl.Step)).ToArray();
        }
        ctx.SetOutput(0, ShapeHelpers.TakeAxisMaps(x, shape, maps));
    }

    /// <summary>The parameters; each is null when it is a non-constant input (inference only).</summary>
    private static (long[]? Starts, long[]? Ends, int[]? Axes, long[]? Steps) Params(NodeContext ctx, int rank)
    {
        long[]? starts, ends, axes, steps;
        bool sk, ek, ak, stk;
        if (ctx.Opset < 10)
        {
            starts = ctx.GetInts("starts") ?? throw ctx.Error(EdgeCodes.InvalidAttribute, "Slice needs 'starts'.");
            ends = ctx.GetInts("ends") ?? throw ctx.Error(EdgeCodes.InvalidAttribute, "Slice needs 'ends'.");
            axes = ctx.GetInts("axes");
            steps = null;
            sk = ek = ak = stk = true;
        }
        else
        {
            if (ctx.HasAttribute("starts") || ctx.HasAttribute("ends") || ctx.HasAttribute("axes"))
                throw ctx.Error(EdgeCodes.InvalidAttribute, "From opset 10, starts/ends/axes are inputs, not attributes.");
            if (!ctx.HasInput(1) || !ctx.HasInput(2)) throw ctx.Error(EdgeCodes.InvalidArity, "Slice needs the 'starts' and 'ends' inputs.");
            starts = ShapeHelpers.AttrOrInput(ctx, "starts", 1, 10, out sk);
            ends = ShapeHelpers.AttrOrInput(ctx, "ends", 2, 10, out ek);
            axes = ShapeHelpers.AttrOrInput(ctx, "axes", 3, 10, out ak);
            steps = ShapeHelpers.AttrOrInput(ctx, "steps", 4, 10, out stk);
        }
        if (!ak) return (null, null, null, null);
        long n = starts?.Length ?? ends?.Length ?? axes?.Length ?? steps?.Length
            ?? (ctx is InferenceContext ic ? ShapeHelpers.Length1D(ic, 1) : null) ?? -1;
        if (n < 0)
        {
            if (axes is null) return (null, null, null, null); // which axes are sliced is unknown
            n = axes.Length;
        }
        foreach (var (v, name) in new[] { (starts, "starts"), (ends, "ends"), (axes, "axes"), (steps, "steps") })
            if (v is not null && v.Length != n)
                throw ctx.Error(EdgeCodes.InvalidValue, $"'{name}' has {v.Length} entries; starts, ends, axes and steps must have the same length ({n}).");
        var ax = axes is null ? Enumerable.Range(0, (int)n).ToArray() : ShapeHelpers.Axes(ctx, axes, rank);
        if (ax.Length > rank)
            throw ctx.Error(EdgeCodes.InvalidValue, $"Slice lists {ax.Length} axes but the input has rank {rank}.");
        if (stk && steps is null) steps = Enumerable.Repeat(1L, (int)n).ToArray();
        return (sk ? starts : null, ek ? ends : null, ax, stk ? steps : null);
    }

    private static AxisSlice Resolve(NodeContext ctx, int axis, long dim, long start, long end, long step)
    {
        if (step == 0) throw ctx.Error(EdgeCodes.InvalidValue, $"Slice step for axis {axis} is 0.");
        if (start < 0) start += dim;
        if (end < 0) end += dim;
        if (dim == 0) return new AxisSlice(axis, 0, step, 0);
        long count;
        if (step > 0)
        {
            start = Math.Clamp(start, 0, dim);
            end = Math.Clamp(end, 0, dim);
            count = end > start ? (end - start - 1) / step + 1 : 0; // ceil((end-start)/step) without overflow for huge steps
        }
        else
        {
            start = Math.Clamp(start, 0, dim - 1);
            end = Math.Clamp(end, -1, dim - 1);
            count = start > end ? (start - end - 1) / -step + 1 : 0; // also exact for step = long.MinValue (-step wraps, quotient 0)
        }
        return new AxisSlice(axis, start, step, count);
    }
}
