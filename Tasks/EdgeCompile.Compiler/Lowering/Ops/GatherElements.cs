using EdgeCompile.Compiler.IR;
using static EdgeCompile.Compiler.Lowering.LoweringContext;

namespace EdgeCompile.Compiler.Lowering.Ops;

/// <summary>
/// GatherElements, ScatterElements and ScatterND whose indices are computed at run time, or scatters with a reduction
/// (add, mul, max, min): GatherElements.Run, ScatterElements.Run/Reduce, ScatterND.Run/Reduce read the indices and check
/// each one against its axis. Called from the constant-index lowering (Lowering/Ops/GatherScatter.cs).
/// </summary>
public static class RuntimeIndexingLowering
{
    public static void Lower(LoweringContext ctx, Node n, int[] x, int[] y, string reduction)
    {
        var t = ctx.TypeOf(n.Inputs[0]);
        var it = ctx.TypeOf(n.Inputs[1]);
        var s = ctx.Shape(n, n.Inputs[1]);
        if (x.Length is 0 or > 8) throw ctx.Unsupported(n, $"on rank {x.Length} data");
        if (it is not (DataType.Int64 or DataType.Int32) || (it == DataType.Int32 && n.OpType == "ScatterND"))
            throw ctx.Unsupported(n, $"with {it.OnnxName()} indices");
        if (reduction != "none" && t == DataType.Bool) throw ctx.Unsupported(n, $"with reduction '{reduction}' on bool data");
        if (reduction != "none" && it != DataType.Int64) throw ctx.Unsupported(n, $"with reduction '{reduction}' and {it.OnnxName()} indices");
        var nc = ctx.NodeContext(n);
        CallArg[] reduce = reduction == "none" ? [] : [E("ScatterReduction." + char.ToUpperInvariant(reduction[0]) + reduction[1..])];
        string method = reduction == "none" ? ".Run" : ".Reduce";
        switch (n.OpType)
        {
            case "GatherElements":
                {
                    int axis = Shapes.Axis(nc.GetInt("axis", 0), x.Length);
                    if (s.Length != x.Length || !s.SequenceEqual(y)) throw ctx.Unsupported(n, "with indices of another rank than the data or an output of another shape than the indices");
                    for (int d = 0; d < x.Length; d++)
                        if (d != axis && s[d] > x[d]) throw ctx.Unsupported(n, "with indices larger than the data");
                    ctx.Emit(n, "GatherElements.Run", Read(n.Inputs[0]), Read(n.Inputs[1]), Write(n.Outputs[0]), Ints(x), Ints(s), I(axis));
                    return;
                }
            case "ScatterElements":
                {
                    int axis = Shapes.Axis(nc.GetInt("axis", 0), x.Length);
                    if (s.Length != x.Length || !ctx.Shape(n, n.Inputs[2]).SequenceEqual(s)) throw ctx.Unsupported(n, "with updates of another shape than the indices");
                    for (int d = 0; d < x.Length; d++)
                        if (d != axis && s[d] > x[d]) throw ctx.Unsupported(n, "with indices larger than the data");
                    ctx.Emit(n, "ScatterElements" + method, [.. reduce, Read(n.Inputs[0]), Read(n.Inputs[1]), Read(n.Inputs[2]), Write(n.Outputs[0]), Ints(x), Ints(s), I(axis)]);
                    return;
                }
            default: // ScatterND
                {
                    if (s.Length < 1) throw ctx.Unsupported(n, "with scalar indices");
                    int k = s[^1];
                    if (k > x.Length) throw ctx.Unsupported(n, "with index tuples longer than the data's rank");
                    int[] expected = [.. s[..^1], .. x[k..]];
                    if (!expected.SequenceEqual(ctx.Shape(n, n.Inputs[2]))) throw ctx.Unsupported(n, "with updates of an unexpected shape");
                    ctx.Emit(n, "ScatterND" + method, [.. reduce, Read(n.Inputs[0]), Read(n.Inputs[1]), Read(n.Inputs[2]), Write(n.Outputs[0]), Ints(x), Ints(s)]);
                    return;
                }
        }
    }
}
