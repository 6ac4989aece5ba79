using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.IR;
using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>
/// Pad: pads (or, with negative pads, crops) each axis. Before opset 11 'pads' and 'value' are
/// attributes; from 11 'pads' (int64 [begin_0.., end_0..]) and 'constant_value' are inputs, and from 18
/// an 'axes' input selects which axes the pads refer to. Modes: constant (fill value, default 0),
/// reflect (mirror without repeating the edge), edge (repeat the edge), wrap (opset 19+, cyclic).
/// Negative pads crop first; the positive pads then extend the cropped tensor.
/// </summary>
public sealed class Pad : Operator
{
    public override string OpType => "Pad";
    public override IReadOnlyCollection<string> Attributes => ["mode", "pads", "value"];
    public override int MaxInputs => 4;

    public override void InferTypes(InferenceContext ctx)
    {
        var type = ctx.InputElemType(0);
        Mode(ctx);
        var s = ctx.InputShape(0);
        if (s is null) { ctx.SetOutput(0, type, (Dim[]?)null); return; }
        var (pads, axes) = Params(ctx, s.Length);
        var r = (Dim[])s.Clone();
        if (axes is null) { ctx.SetOutput(0, type, ShapeHelpers.UnknownDims(s.Length)); return; }
        for (int i = 0; i < axes.Length; i++)
        {
            int a = axes[i];
            if (pads is null || !s[a].IsKnown) { r[a] = Dim.Unknown; continue; }
            long size = s[a].Value + pads[i] + pads[i + axes.Length];
            if (size < 0) throw ctx.Error(EdgeCodes.InvalidValue, $"Pads {pads[i]}, {pads[i + axes.Length]} crop axis {a} of size {s[a].Value} below zero.");
            r[a] = Dim.Known(size);
        }
        ctx.SetOutput(0, type, r);
    }

    public override void Execute(ExecutionContext ctx)
    {
        var x = ctx.RequireInput(0);
        var mode = Mode(ctx);
        var (pads, axes) = Params(ctx, x.Rank);
        var begin = new long[x.Rank];
        var end = new long[x.Rank];
        for (int i = 0; i < axes!.Length; i++) { begin[axes[i]] = pads![i]; end[axes[i]] = pads[i + axes.Length]; }

        var shape = new int[x.Rank];
        var maps = new int[x.Rank][];
        for (int a = 0; a < x.Rank; a++)
        {
            int d = x.Shape[a];
            // Crop first: the kept input range is [lo, hi).
            long lo = Math.Max(0, -begin[a]), hi = d - Math.Max(0, -end[a]);
            long n = hi - lo, before = Math.Max(0, begin[a]), after = Math.Max(0, end[a]);
            if (n < 0) throw ctx.Error(EdgeCodes.InvalidValue, $"Pads {begin[a]}, {end[a]} crop axis {a} of size {d} below zero.");
            shape[a] = ShapeHelpers.ToInt(ctx, n + before + after, "Padded dimension");
            if (n == 0 && before + after > 0 && mode != "constant")
                throw ctx.Error(EdgeCodes.InvalidValue, $"Cannot pad axis {a} in {mode} mode: no input elements remain on it.");
            maps[a] = new int[shape[a]];
            for (int o = 0; o < shape[a]; o++)
            {
                long j = o - before; // position in the cropped range
                long src = j >= 0 && j < n ? j : mode switch
                {
                    "constant" => -1,
                    "edge" => Math.Clamp(j, 0, n - 1),
                    "wrap" => (j % n + n) % n,
                    _ => Reflect(j, n),
                };
                maps[a][o] = src < 0 ? -1 : (int)(lo + src);
            }
        }
        var fill = mode == "constant" ? Fill(ctx, x.DataType) : null;
        ctx.SetOutput(0, ShapeHelpers.TakeAxisMaps(x, shape, maps, fill));
    }

    /// <summary>Mirror index without repeating the edge element (numpy 'reflect'), for any distance.</summary>
    internal static long Reflect(long j, long n)
    {
        if (n == 1) return 0;
        long period = 2 * (n - 1);
        long m = (j % period + period) % period;
        return m < n ? m : period - m;
    }

    private static string Mode(NodeContext ctx)
    {
        var m = ctx.GetString("mode", "constant");
        bool ok = m is "constant" or "reflect" or "edge" || (m == "wrap" && ctx.Opset >= 19);
        if (!ok) throw ctx.Error(EdgeCodes.InvalidAttribute, $"mode '{m}' is not supported at opset {ctx.Opset} (constant, reflect, edge; wrap from 19).");
        return m;
    }

    /// <summary>The pads and the axes they refer to; either is null when it is a non-constant input (inference only).</summary>
    internal static (long[]? Pads, int[]? Axes) Params(NodeContext ctx, int rank)
    {
        var pads = ShapeHelpers.AttrOrInput(ctx, "pads", 1, 11, out bool padsKnown);
        if (padsKnown && pads is null) throw ctx.Error(EdgeCodes.InvalidArity, "Pad needs 'pads'.");
        if (ctx.Opset >= 11 && ctx.HasAttribute("value"))
            throw ctx.Error(EdgeCodes.InvalidAttribute, "From opset 11, the pad value is the 'constant_value' input, not the 'value' attribute.");
        int[]? axes;
        if (ctx.Opset >= 18 && ctx.HasInput(3))
        {
            var ax = ShapeHelpers.AttrOrInput(ctx, "axes", 3, 18, out bool axesKnown);
            axes = axesKnown ? ShapeHelpers.Axes(ctx, ax!, rank) : null;
        }
        else axes = Enumerable.Range(0, rank).ToArray();
        if (pads is not null && axes is not null && pads.Length != 2 * axes.Length)
            throw ctx.Error(EdgeCodes.InvalidValue, $"pads has {pads.Length} entries; expected 2 × {axes.Length} (begin and end for each axis).");
        return (padsKnown ? pads : null, axes);
    }

    private static Tensor Fill(ExecutionContext ctx, DataType type)
    {
        if (ctx.Opset < 11)
            return Tensor.FromDoubles(type, [1], [ctx.GetFloat("value", 0)]);
        var v = ctx.HasInput(2) ? ctx.Input(2) : null;
        if (v is null || v.Length == 0) return Tensor.Zeros(type, [1]);
        if (v.DataType != type)
            throw ctx.Error(EdgeCodes.ShapeMismatch, $"constant_value is {v.DataType.OnnxName()} but the data is {type.OnnxName()}.");
        if (v.Length != 1)
            throw ctx.Error(EdgeCodes.ShapeMismatch, $"constant_value must be a scalar, got shape {Shapes.Format(v.Shape)}.");
        return v;
    }
}
