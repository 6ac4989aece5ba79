using EdgeCompile.Compiler.IR;
using EdgeCompile.Compiler.Operators;

namespace EdgeCompile.Compiler.Lowering.Ops;

/// <summary>
/// GatherElements, ScatterElements and ScatterND with constant indices, as constant index maps: GatherElements is
/// Maps.Gather; the scatters (reduction 'none') are Maps.Gather2 over the data followed by the updates, each output
/// element taking the last update written to it (the reference's order) or else its data element. Indices computed at
/// run time, and scatters with a reduction, go to the run-time kernels (Lowering/Ops/GatherElements.cs).
/// </summary>
public sealed class GatherScatterLowering : IOpLowering
{
    public IEnumerable<string> OpTypes => ["GatherElements", "ScatterElements", "ScatterND"];

    public void Lower(LoweringContext ctx, Node n)
    {
        var nc = ctx.NodeContext(n);
        IndexMaps.RequireSupported(ctx, n, n.Inputs[0]);
        var x = ctx.Shape(n, n.Inputs[0]);
        var y = ctx.Shape(n, n.Outputs[0]);
        string reduction = n.OpType == "GatherElements" ? "none" : nc.GetString("reduction", "none");
        if (ctx.Constant(n.Inputs[1]) is not { } idxT || reduction != "none")
        {
            // Indices read at run time (or a reduction): the kernel addresses the data itself.
            RuntimeIndexingLowering.Lower(ctx, n, x, y, reduction);
            return;
        }
        var idx = idxT.ToInt64s();
        var s = idxT.Shape;
        var inStrides = Shapes.Strides(x);
        int xLen = checked((int)Shapes.Product(x));
        switch (n.OpType)
        {
            case "GatherElements":
            case "ScatterElements":
                {
                    int axis = Shapes.Axis(nc.GetInt("axis", 0), x.Length);
                    if (s.Length != x.Length) throw ctx.Unsupported(n, "with indices of another rank");
                    var c = new int[s.Length];
                    var target = new int[idx.Length];
                    for (int e = 0; e < idx.Length; e++)
                    {
                        IndexMaps.Coords(e, s, c);
                        long v = idx[e] < 0 ? idx[e] + x[axis] : idx[e];
                        if (v < 0 || v >= x[axis]) throw ctx.Unsupported(n, $"with index {idx[e]} outside axis {axis} of size {x[axis]}");
                        long src = 0;
                        for (int d = 0; d < c.Length; d++)
                        {
                            if (d != axis && c[d] >= x[d]) throw ctx.Unsupported(n, "with indices larger than the data");
                            src += (long)(d == axis ? (int)v : c[d]) * inStrides[d];
                        }
                        target[e] = (int)src;
                    }
                    if (n.OpType == "GatherElements")
                    {
                        if (!s.SequenceEqual(y)) throw ctx.Unsupported(n, "with an output shape other than the indices'");
                        IndexMaps.EmitGather(ctx, n, n.Inputs[0], n.Outputs[0], target);
                        return;
                    }
                    if (!ctx.Shape(n, n.Inputs[2]).SequenceEqual(s)) throw ctx.Unsupported(n, "with updates of another shape than the indices");
                    var map = Enumerable.Range(0, xLen).ToArray();
                    for (int e = 0; e < target.Length; e++) map[target[e]] = xLen + e;
                    IndexMaps.EmitGather2(ctx, n, n.Inputs[0], n.Inputs[2], n.Outputs[0], map);
                    return;
                }
            default: // ScatterND
                {
                    if (s.Length < 1) throw ctx.Unsupported(n, "with scalar indices");
                    int k = s[^1];
                    if (k > x.Length) throw ctx.Unsupported(n, "with index tuples longer than the data's rank");
                    int block = (int)Shapes.Product(x.AsSpan(k));
                    int tuples = (int)Shapes.Product(s.AsSpan(0, s.Length - 1));
                    int[] expected = [.. s[..^1], .. x[k..]];
                    if (!expected.SequenceEqual(ctx.Shape(n, n.Inputs[2]))) throw ctx.Unsupported(n, "with updates of an unexpected shape");
                    var map = Enumerable.Range(0, xLen).ToArray();
                    for (int t = 0; t < tuples; t++)
                    {
                        long offset = 0;
                        for (int j = 0; j < k; j++)
                        {
                            long v = idx[t * k + j];
                            if (v < 0) v += x[j];
                            if (v < 0 || v >= x[j]) throw ctx.Unsupported(n, $"with index {idx[t * k + j]} outside axis {j} of size {x[j]}");
                            offset += v * inStrides[j];
                        }
                        for (int e = 0; e < block; e++) map[offset + e] = xLen + t * block + e;
                    }
                    IndexMaps.EmitGather2(ctx, n, n.Inputs[0], n.Inputs[2], n.Outputs[0], map);
                    return;
                }
        }
    }
}

/// <summary>
/// Trilu with a constant k: kept elements map to themselves, the others to zero (Maps.GatherOrFill / Gather2); with k
/// computed at run time, Trilu.Run (Lowering/Ops/Trilu.cs).
/// </summary>
public sealed class TriluLowering : IOpLowering
{
    public IEnumerable<string> OpTypes => ["Trilu"];

    public void Lower(LoweringContext ctx, Node n)
    {
        var nc = ctx.NodeContext(n);
        IndexMaps.RequireSupported(ctx, n, n.Inputs[0]);
        var x = ctx.Shape(n, n.Inputs[0]);
        if (x.Length < 2) throw ctx.Unsupported(n, $"on rank {x.Length} data");
        bool upper = nc.GetInt("upper", 1) == 1;
        bool hasK = n.Inputs.Count > 1 && n.Inputs[1].Length > 0;
        if (hasK && ctx.Constant(n.Inputs[1]) is null)
        {
            RuntimeTriluLowering.Lower(ctx, n, x, upper);
            return;
        }
        long k = hasK ? IndexMaps.ConstInts(ctx, n, 1, "k")[0] : 0;
        int rows = x[^2], cols = x[^1];
        var map = new int[checked((int)Shapes.Product(x))];
        for (int e = 0; e < map.Length; e++)
        {
            int j = e % cols, i = e / cols % rows;
            long diag = (long)j - i;
            map[e] = (upper ? diag >= k : diag <= k) ? e : -1;
        }
        IndexMaps.EmitGatherOrFill(ctx, n, n.Inputs[0], n.Outputs[0], map, Tensor.Zeros(ctx.TypeOf(n.Inputs[0]), [1]));
    }
}
