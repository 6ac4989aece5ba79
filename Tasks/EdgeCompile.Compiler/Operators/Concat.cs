using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.IR;
using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>
/// Concat (opset 4+: 'axis' required; negative from 11): joins the inputs along 'axis'. All inputs have
/// the same type and rank, and the same dims except along the axis.
/// </summary>
public sealed class Concat : Operator
{
    public override string OpType => "Concat";
    public override IReadOnlyCollection<string> Attributes => ["axis"];
    public override int MaxInputs => int.MaxValue;

    public override void InferTypes(InferenceContext ctx)
    {
        var type = ctx.InputElemType(0);
        for (int i = 1; i < ctx.InputCount; i++)
            if (ctx.InputType(i) is { } t && t.ElemType != type)
                throw ctx.Error(EdgeCodes.ShapeMismatch, $"Input {i} is {t.ElemType.OnnxName()} but input 0 is {type.OnnxName()}.");
        var shapes = Enumerable.Range(0, ctx.InputCount).Select(ctx.InputShape).ToList();
        var anyShape = shapes.FirstOrDefault(s => s is not null);
        if (anyShape is null) { ctx.SetOutput(0, type, (Dim[]?)null); return; }
        int rank = anyShape.Length;
        if (shapes.Any(s => s is not null && s.Length != rank))
            throw ctx.Error(EdgeCodes.ShapeMismatch, $"All inputs must have the same rank; got ranks {string.Join(", ", shapes.Select(s => s?.Length.ToString() ?? "?"))}.");
        int axis = ShapeHelpers.Axis(ctx, ctx.RequireInt("axis"), rank);
        var r = new Dim[rank];
        for (int d = 0; d < rank; d++)
        {
            if (d == axis)
            {
                r[d] = shapes.Any(s => s is null) ? Dim.Unknown : ShapeHelpers.Sum(shapes.Select(s => s![d]));
                continue;
            }
            r[d] = anyShape[d];
            foreach (var s in shapes)
                if (s is not null) r[d] = ShapeHelpers.Merge(ctx, r[d], s[d], $"Concat inputs along axis {d}");
        }
        ctx.SetOutput(0, type, r);
    }

    public override void Execute(ExecutionContext ctx)
    {
        var xs = Enumerable.Range(0, ctx.InputCount).Select(ctx.RequireInput).ToArray();
        int rank = xs[0].Rank;
        int axis = ShapeHelpers.Axis(ctx, ctx.RequireInt("axis"), rank);
        foreach (var x in xs)
        {
            ShapeHelpers.SameType(ctx, xs[0], x, "Every Concat input");
            if (x.Rank != rank || Enumerable.Range(0, rank).Any(d => d != axis && x.Shape[d] != xs[0].Shape[d]))
                throw ctx.Error(EdgeCodes.ShapeMismatch, $"Cannot concatenate {string.Join(", ", xs.Select(t => Shapes.Format(t.Shape)))} along axis {axis}.");
        }
        var shape = (int[])xs[0].Shape.Clone();
        shape[axis] = xs.Sum(x => x.Shape[axis]);

        // All inputs end to end in one flat source; for output coordinate c along the axis, find the input
        // holding it and its base offset in that source.
        var source = xs[0];
        var bases = new int[xs.Length];
        for (int k = 1; k < xs.Length; k++)
        {
            bases[k] = source.Length;
            source = ShapeHelpers.Concat1D(source, xs[k]);
        }
        var owner = new int[shape[axis]];
        var local = new int[shape[axis]];
        for (int k = 0, c = 0; k < xs.Length; k++)
            for (int j = 0; j < xs[k].Shape[axis]; j++, c++) { owner[c] = k; local[c] = j; }
        var strides = xs.Select(x => Shapes.Strides(x.Shape)).ToArray();
        var idx = ShapeHelpers.IndexMap(shape, c =>
        {
            int k = owner[c[axis]];
            int src = bases[k];
            for (int d = 0; d < rank; d++) src += (d == axis ? local[c[d]] : c[d]) * strides[k][d];
            return src;
        });
        ctx.SetOutput(0, source.Take(shape, idx));
    }
}
