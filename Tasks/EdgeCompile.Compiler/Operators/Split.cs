using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.IR;
using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>
/// Split: cuts the input along 'axis' into one piece per output. The piece sizes come from 'split' (an
/// attribute before opset 13, an optional input from 13); without it, from opset 18 'num_outputs'
/// pieces of ceil(dim / num_outputs) with a smaller last piece; otherwise equal pieces (must divide).
/// </summary>
public sealed class Split : Operator
{
    public override string OpType => "Split";
    public override IReadOnlyCollection<string> Attributes => ["axis", "split", "num_outputs"];
    public override int MaxInputs => 2;
    public override int MaxOutputs => int.MaxValue;

    public override void InferTypes(InferenceContext ctx)
    {
        var type = ctx.InputElemType(0);
        var s = ctx.InputShape(0);
        if (s is null)
        {
            for (int i = 0; i < ctx.OutputCount; i++) ctx.SetOutput(i, type, (Dim[]?)null);
            return;
        }
        int axis = ShapeHelpers.Axis(ctx, ctx.GetInt("axis", 0), s.Length);
        var sizes = Sizes(ctx, s[axis].IsKnown ? s[axis].Value : null, out bool known);
        for (int i = 0; i < ctx.OutputCount; i++)
        {
            var o = (Dim[])s.Clone();
            o[axis] = known && sizes is not null ? Dim.Known(sizes[i]) : Dim.Unknown;
            ctx.SetOutput(i, type, o);
        }
    }

    public override void Execute(ExecutionContext ctx)
    {
        var x = ctx.RequireInput(0);
        int axis = ShapeHelpers.Axis(ctx, ctx.GetInt("axis", 0), x.Rank);
        var sizes = Sizes(ctx, x.Shape[axis], out _)!;
        var maps = x.Shape.Select(d => Enumerable.Range(0, d).ToArray()).ToArray();
        int start = 0;
        for (int i = 0; i < sizes.Length; i++)
        {
            var shape = (int[])x.Shape.Clone();
            shape[axis] = (int)sizes[i];
            int offset = start;
            var m = (int[][])maps.Clone();
            m[axis] = Enumerable.Range(offset, shape[axis]).ToArray();
            ctx.SetOutput(i, ShapeHelpers.TakeAxisMaps(x, shape, m));
            start += shape[axis];
        }
    }

    /// <summary>The piece sizes, or null when they cannot be known yet (non-constant split input or unknown dim).</summary>
    private static long[]? Sizes(NodeContext ctx, long? dim, out bool known)
    {
        int n = ctx.OutputCount;
        var split = ShapeHelpers.AttrOrInput(ctx, "split", 1, 13, out known);
        if (!known) return null;
        if (split is not null)
        {
            if (ctx.HasAttribute("num_outputs"))
                throw ctx.Error(EdgeCodes.InvalidAttribute, "Give either the 'split' input or the 'num_outputs' attribute, not both.");
            if (split.Length != n)
                throw ctx.Error(EdgeCodes.InvalidValue, $"split has {split.Length} entries but the node has {n} outputs.");
            if (split.Any(v => v < 0))
                throw ctx.Error(EdgeCodes.InvalidValue, $"split [{string.Join(",", split)}] has a negative size.");
            if (dim is { } d && split.Sum() != d)
                throw ctx.Error(EdgeCodes.ShapeMismatch, $"split [{string.Join(",", split)}] sums to {split.Sum()} but the axis has size {d}.");
            return split;
        }
        if (dim is null) { known = false; return null; }
        long size = dim.Value;
        if (ctx.Opset >= 18 && ctx.HasAttribute("num_outputs"))
        {
            long k = ctx.RequireInt("num_outputs");
            if (k != n)
                throw ctx.Error(EdgeCodes.InvalidAttribute, $"num_outputs is {k} but the node has {n} outputs.");
            // Opset 18: pieces of ceil(dim / n); the last one is smaller if the dim does not divide.
            long chunk = (size + n - 1) / n;
            return Enumerable.Range(0, n).Select(i => Math.Clamp(size - i * chunk, 0, chunk)).ToArray();
        }
        if (size % n != 0)
            throw ctx.Error(EdgeCodes.ShapeMismatch, $"The axis of size {size} cannot be split into {n} equal parts; give 'split'.");
        return Enumerable.Repeat(size / n, n).ToArray();
    }
}
