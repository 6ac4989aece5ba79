using EdgeCompile.Compiler.IR;
using static EdgeCompile.Compiler.Lowering.LoweringContext;

namespace EdgeCompile.Compiler.Lowering.Ops;

/// <summary>
/// Data movement as strided copies (Data.StridedCopy: out[i] = in[offset + Σ idx_d·stride_d]):
/// Transpose, Slice (constant starts/ends/axes/steps), Expand; Concat and Split as block copies;
/// Gather with constant or run-time int64 indices; constant Pad; DepthToSpace/SpaceToDepth (a rank-6 strided view)
/// and Tile with constant repeats (the output viewed as [repeat, dim] pairs, the repeat stride 0).
/// </summary>
public sealed class DataMovementLowering : IOpLowering
{
    public IEnumerable<string> OpTypes => ["Transpose", "Slice", "Expand", "Concat", "Split", "Gather", "DepthToSpace", "SpaceToDepth"]; // Pad, Tile: PadTileLowering (which calls back here)

    public void Lower(LoweringContext ctx, Node n)
    {
        var nc = ctx.NodeContext(n);
        var type = ctx.TypeOf(n.Inputs[0]);
        // The Data.* kernels are generic in the element type: every plan dtype moves as it is (float16 too).
        if (!CastLowering.IsPlanType(type))
            throw ctx.Unsupported(n, $"on {type.OnnxName()} data");
        var x = ctx.Shape(n, n.Inputs[0]);
        switch (n.OpType)
        {
            case "Transpose":
                {
                    var perm = nc.GetInts("perm")?.Select(p => (int)p).ToArray() ?? Enumerable.Range(0, x.Length).Reverse().ToArray();
                    var inStrides = Shapes.Strides(x);
                    var y = ctx.Shape(n, n.Outputs[0]);
                    Strided(ctx, n, 0, y, perm.Select(p => inStrides[p]).ToArray());
                    return;
                }
            case "DepthToSpace":
            case "SpaceToDepth":
                {
                    if (x.Length != 4) throw ctx.Unsupported(n, $"on rank {x.Length} data");
                    int b = (int)nc.RequireInt("blocksize");
                    int N = x[0], C = x[1], H = x[2], W = x[3];
                    if (n.OpType == "DepthToSpace")
                    {
                        int c2 = C / (b * b);
                        bool crd = nc.GetString("mode", "DCR") == "CRD";
                        int sN = C * H * W, sC = crd ? b * b * H * W : H * W, sB1 = crd ? b * H * W : b * c2 * H * W, sB2 = crd ? H * W : c2 * H * W;
                        StridedTo(ctx, n, [N, c2, H, b, W, b], [sN, sC, W, sB1, 1, sB2]);
                    }
                    else
                    {
                        StridedTo(ctx, n, [N, b, b, C, H / b, W / b], [C * H * W, W, 1, H * W, b * W, b]);
                    }
                    return;
                }
            case "Tile":
                {
                    var repeats = (ctx.Constant(n.Inputs[1]) ?? throw ctx.Unsupported(n, "with repeats computed at run time")).ToInt64s();
                    if (x.Length * 2 > 8) throw ctx.Unsupported(n, "above rank 4");
                    var inStrides = Shapes.Strides(x);
                    var shape = new int[x.Length * 2];
                    var strides = new int[x.Length * 2];
                    for (int d = 0; d < x.Length; d++) { shape[2 * d] = (int)repeats[d]; shape[2 * d + 1] = x[d]; strides[2 * d + 1] = inStrides[d]; }
                    StridedTo(ctx, n, shape, strides);
                    return;
                }
            case "Expand":
                {
                    var y = ctx.Shape(n, n.Outputs[0]);
                    Strided(ctx, n, 0, y, BinaryLowering.Strides(x, y));
                    return;
                }
            case "Slice":
                {
                    if (ctx.Opset(n) >= 10 && n.Inputs.Skip(1).Any(i => i.Length > 0 && ctx.Constant(i) is null)) { RuntimeSliceLowering.Lower(ctx, n, x); return; }
                    var y = ctx.Shape(n, n.Outputs[0]);
                    var (starts, steps) = SliceGeometry(ctx, n, x);
                    var inStrides = Shapes.Strides(x);
                    int offset = 0;
                    var strides = new int[x.Length];
                    for (int d = 0; d < x.Length; d++) { offset += starts[d] * inStrides[d]; strides[d] = steps[d] * inStrides[d]; }
                    Strided(ctx, n, offset, y, strides);
                    return;
                }
            case "Concat":
                {
                    var y = ctx.Shape(n, n.Outputs[0]);
                    int axis = Shapes.Axis(nc.RequireInt("axis"), y.Length);
                    int outer = (int)Shapes.Product(y.AsSpan(0, axis));
                    int rowOut = (int)Shapes.Product(y.AsSpan(axis));
                    int at = 0;
                    foreach (var input in n.Inputs.Where(i => i.Length > 0))
                    {
                        var s = ctx.Shape(n, input);
                        int block = (int)Shapes.Product(s.AsSpan(axis));
                        if (block > 0)
                            ctx.Emit(n, "Data.CopyBlocks", Read(input), Write(n.Outputs[0]), I(outer), I(block), I(rowOut), I(at));
                        at += block;
                    }
                    return;
                }
            case "Split":
                {
                    int axis = Shapes.Axis(nc.GetInt("axis", 0), x.Length);
                    int at = 0;
                    var inStrides = Shapes.Strides(x);
                    foreach (var o in n.Outputs)
                    {
                        if (o.Length == 0) continue;
                        var s = ctx.Shape(n, o);
                        // The slice [at, at + s[axis]) along axis, as a strided view of the input.
                        if (Shapes.Product(s) > 0)
                            ctx.Emit(n, "Data.StridedCopy", Read(n.Inputs[0]), Write(o), I(at * inStrides[axis]), Ints(s.Length == 0 ? [1] : s), Ints(s.Length == 0 ? [0] : inStrides));
                        at += s[axis];
                    }
                    return;
                }
            case "Gather":
                {
                    int axis = Shapes.Axis(nc.GetInt("axis", 0), x.Length);
                    string idx = n.Inputs[1];
                    if (ctx.TypeOf(idx) != DataType.Int64)
                    {
                        var c = ctx.Constant(idx) ?? throw ctx.Unsupported(n, "with int32 indices computed at run time");
                        idx = ctx.AddConstant(n.DisplayName + "_indices", Tensor.FromArray(c.ToInt64s(), c.Shape));
                    }
                    ctx.Emit(n, "Data.Gather", Read(n.Inputs[0]), Read(idx), Write(n.Outputs[0]),
                        I((int)Shapes.Product(x.AsSpan(0, axis))), I(x[axis]), I((int)Shapes.Product(x.AsSpan(axis + 1))));
                    return;
                }
            default: // Pad
                {
                    if (type != DataType.Float) throw ctx.Unsupported(n, $"on {type.OnnxName()} data");
                    if (nc.GetString("mode", "constant") != "constant") throw ctx.Unsupported(n, $"in mode '{nc.GetString("mode", "constant")}'");
                    var y = ctx.Shape(n, n.Outputs[0]);
                    long[] pads;
                    float value = 0;
                    if (ctx.Opset(n) < 11)
                    {
                        pads = nc.GetInts("pads") ?? [];
                        value = nc.GetFloat("value", 0f);
                    }
                    else
                    {
                        pads = (ctx.Constant(n.Inputs[1]) ?? throw ctx.Unsupported(n, "with pads computed at run time")).ToInt64s();
                        if (n.Inputs.Count > 2 && n.Inputs[2].Length > 0)
                            value = (float)(ctx.Constant(n.Inputs[2]) ?? throw ctx.Unsupported(n, "with a value computed at run time")).ToDoubles()[0];
                        if (n.Inputs.Count > 3 && n.Inputs[3].Length > 0) throw ctx.Unsupported(n, "with the axes input");
                    }
                    if (pads.Any(p => p < 0)) throw ctx.Unsupported(n, "with negative pads (cropping)");
                    var begin = pads.Take(x.Length).Select(p => (int)p).ToArray();
                    ctx.Emit(n, "Data.PadConstant", Read(n.Inputs[0]), Write(n.Outputs[0]), Ints(x), Ints(y), Ints(begin), F(value));
                    return;
                }
        }
    }

    /// <summary>A strided view of the input whose row-major order is the output's (the output's own shape is checked to match in size).</summary>
    private static void StridedTo(LoweringContext ctx, Node n, int[] view, int[] strides)
    {
        if (Shapes.Product(view) != Shapes.Product(ctx.Shape(n, n.Outputs[0]))) throw ctx.Unsupported(n, "with an output shape that does not match its view");
        Strided(ctx, n, 0, view, strides);
    }

    private static void Strided(LoweringContext ctx, Node n, int offset, int[] shape, int[] strides)
    {
        if (shape.Length > 8) throw ctx.Unsupported(n, "above rank 8");
        if (Shapes.Product(shape) == 0) return;
        ctx.Emit(n, "Data.StridedCopy", Read(n.Inputs[0]), Write(n.Outputs[0]), I(offset),
            Ints(shape.Length == 0 ? [1] : shape), Ints(strides.Length == 0 ? [0] : strides));
    }

    /// <summary>Per-axis start and step of a Slice with constant parameters, clamped per the ONNX spec.</summary>
    private static (int[] Starts, int[] Steps) SliceGeometry(LoweringContext ctx, Node n, int[] x)
    {
        var nc = ctx.NodeContext(n);
        long[] starts, ends; long[]? axes, steps = null;
        if (ctx.Opset(n) < 10)
        {
            starts = nc.GetInts("starts") ?? []; ends = nc.GetInts("ends") ?? []; axes = nc.GetInts("axes");
        }
        else
        {
            Tensor In(int i) => ctx.Constant(n.Inputs[i]) ?? throw ctx.Unsupported(n, "with parameters computed at run time");
            starts = In(1).ToInt64s(); ends = In(2).ToInt64s();
            axes = n.Inputs.Count > 3 && n.Inputs[3].Length > 0 ? In(3).ToInt64s() : null;
            steps = n.Inputs.Count > 4 && n.Inputs[4].Length > 0 ? In(4).ToInt64s() : null;
        }
        axes ??= Enumerable.Range(0, starts.Length).Select(i => (long)i).ToArray();
        var s = new int[x.Length]; var st = Enumerable.Repeat(1, x.Length).ToArray();
        for (int i = 0; i < axes.Length; i++)
        {
            int a = Shapes.Axis(axes[i], x.Length);
            long step = steps?[i] ?? 1, dim = x[a], start = starts[i];
            if (start < 0) start += dim;
            start = step > 0 ? Math.Clamp(start, 0, dim) : Math.Clamp(start, 0, dim - 1);
            s[a] = (int)start; st[a] = (int)step;
        }
        return (s, st);
    }
}
