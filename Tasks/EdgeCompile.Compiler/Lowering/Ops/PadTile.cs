using EdgeCompile.Compiler.IR;

namespace EdgeCompile.Compiler.Lowering.Ops;

/// <summary>
/// Pad and Tile. Constant-mode float Pad without cropping or axes, and Tile up to rank 4, stay the strided
/// kernels of <see cref="DataMovementLowering"/>; everything else with constant parameters is a constant index map
/// built from the reference executor's per-axis rule: reflect/edge/wrap/cropping pads and any data type
/// (Maps.Gather, Maps.GatherOrFill / Gather2 for the fill), Tile of any rank (Maps.Gather). Parameters computed at run
/// time go to RuntimePad.Run / RuntimeTile.Run (Lowering/Ops/RuntimePad.cs).
/// </summary>
public sealed class PadTileLowering : IOpLowering
{
    private static readonly DataMovementLowering s_strided = new();

    public IEnumerable<string> OpTypes => ["Pad", "Tile"];

    public void Lower(LoweringContext ctx, Node n)
    {
        var nc = ctx.NodeContext(n);
        IndexMaps.RequireSupported(ctx, n, n.Inputs[0]);
        var type = ctx.TypeOf(n.Inputs[0]);
        var x = ctx.Shape(n, n.Inputs[0]);
        var y = ctx.Shape(n, n.Outputs[0]);
        bool stridedType = type is DataType.Float or DataType.Int64 or DataType.Int32 or DataType.UInt8 or DataType.Int8 or DataType.Bool;
        if (n.OpType == "Tile")
        {
            if (ctx.Constant(n.Inputs[1]) is null) { RuntimePadLowering.LowerTile(ctx, n, x, y); return; }
            var repeats = IndexMaps.ConstInts(ctx, n, 1, "repeats");
            if (x.Length <= 4 && stridedType) { s_strided.Lower(ctx, n); return; }
            var maps = new int[x.Length][];
            for (int d = 0; d < x.Length; d++)
            {
                if (y[d] != x[d] * repeats[d]) throw ctx.Unsupported(n, "with an output shape other than the inferred one");
                maps[d] = Enumerable.Range(0, y[d]).Select(o => o % x[d]).ToArray();
            }
            IndexMaps.EmitGather(ctx, n, n.Inputs[0], n.Outputs[0], IndexMaps.Combine(x, y, maps));
            return;
        }
        var mode = nc.GetString("mode", "constant");
        if (ctx.Opset(n) >= 11 && n.Inputs.Skip(1).Any(i => i.Length > 0 && ctx.Constant(i) is null))
        {
            RuntimePadLowering.LowerPad(ctx, n, x, y, mode);
            return;
        }
        var (pads, axes) = Operators.Pad.Params(nc, x.Length);
        if (pads is null || axes is null) throw ctx.Unsupported(n, "with pads or axes computed at run time");
        Tensor fill = Tensor.Zeros(type, [1]);
        if (mode == "constant")
        {
            if (ctx.Opset(n) < 11) fill = Tensor.FromDoubles(type, [1], [nc.GetFloat("value", 0f)]);
            else if (n.Inputs.Count > 2 && n.Inputs[2].Length > 0)
            {
                var v = ctx.Constant(n.Inputs[2]) ?? throw ctx.Unsupported(n, "with a value computed at run time");
                if (v.Length == 1) fill = v;
            }
        }
        bool plain = mode == "constant" && type == DataType.Float && pads.All(p => p >= 0) && (n.Inputs.Count < 4 || n.Inputs[3].Length == 0);
        if (plain) { s_strided.Lower(ctx, n); return; }
        var begin = new long[x.Length];
        var end = new long[x.Length];
        for (int i = 0; i < axes.Length; i++) { begin[axes[i]] = pads[i]; end[axes[i]] = pads[i + axes.Length]; }
        var axisMaps = new int[x.Length][];
        for (int a = 0; a < x.Length; a++)
        {
            int d = x[a];
            long lo = Math.Max(0, -begin[a]), hi = d - Math.Max(0, -end[a]);
            long cnt = hi - lo, before = Math.Max(0, begin[a]), after = Math.Max(0, end[a]);
            if (cnt < 0 || cnt + before + after != y[a]) throw ctx.Unsupported(n, "with an output shape other than the inferred one");
            if (cnt == 0 && before + after > 0 && mode != "constant") throw ctx.Unsupported(n, $"in {mode} mode with nothing left on axis {a}");
            axisMaps[a] = new int[y[a]];
            for (int o = 0; o < y[a]; o++)
            {
                long j = o - before;
                long src = j >= 0 && j < cnt ? j : mode switch
                {
                    "constant" => -1,
                    "edge" => Math.Clamp(j, 0, cnt - 1),
                    "wrap" => (j % cnt + cnt) % cnt,
                    "reflect" => Operators.Pad.Reflect(j, cnt),
                    _ => throw ctx.Unsupported(n, $"in mode '{mode}'"),
                };
                axisMaps[a][o] = src < 0 ? -1 : (int)(lo + src);
            }
        }
        IndexMaps.EmitGatherOrFill(ctx, n, n.Inputs[0], n.Outputs[0], IndexMaps.Combine(x, y, axisMaps), fill);
    }
}
