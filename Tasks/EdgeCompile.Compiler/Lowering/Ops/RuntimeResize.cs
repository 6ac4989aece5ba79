using EdgeCompile.Compiler.IR;
using EdgeCompile.Compiler.Operators;
using static EdgeCompile.Compiler.Lowering.LoweringContext;

namespace EdgeCompile.Compiler.Lowering.Ops;

/// <summary>
/// Resize and Upsample (float32) whose scales, sizes or roi are computed at run time → RuntimeResize.Run, which derives
/// the per-axis scales and taps as the reference executor does and throws unless the parameters give the compiled
/// (inferred) output shape. The per-axis taps live in arena scratch. Called from the constant-parameter lowering (Resize.cs).
/// </summary>
public static class RuntimeResizeLowering
{
    /// <summary>The parameter inputs (present, non-empty) this node's output depends on: scales, sizes and (tf_crop_and_resize) roi.</summary>
    public static IEnumerable<int> ParameterSlots(LoweringContext ctx, Node n)
    {
        bool Present(int i) => i < n.Inputs.Count && n.Inputs[i].Length > 0 && Shapes.Product(ctx.Shape(n, n.Inputs[i])) > 0;
        if (n.OpType == "Upsample" || ctx.Opset(n) < 11) return Present(1) ? [1] : [];
        var slots = new List<int>();
        if (Present(2)) slots.Add(2);
        if (Present(3)) slots.Add(3);
        if (Present(1) && ctx.NodeContext(n).GetString("coordinate_transformation_mode", "half_pixel") == "tf_crop_and_resize") slots.Add(1);
        return slots;
    }

    public static void Lower(LoweringContext ctx, Node n, int[] x, int[] y)
    {
        ctx.RequireFloat(n, n.Inputs[0]);
        int rank = x.Length;
        if (rank is 0 or > 8) throw ctx.Unsupported(n, $"of rank {rank} with parameters computed at run time");
        var nc = ctx.NodeContext(n);
        string mode, coordinate, nearest, policy = "stretch";
        float cubicA = -0.75f, extrapolation = 0;
        bool exclude = false, antialias = false;
        int[] axes = Enumerable.Range(0, rank).ToArray();
        int scalesSlot, sizesSlot = -1, roiSlot = -1;
        if (n.OpType == "Upsample" || ctx.Opset(n) < 11)
        {
            mode = nc.GetString("mode", "nearest");
            if (mode == "bilinear") mode = "linear";
            if (mode is not ("nearest" or "linear")) throw ctx.Unsupported(n, $"in mode '{mode}'");
            coordinate = "asymmetric"; nearest = "simple"; scalesSlot = 1;
        }
        else
        {
            var opt = Resize.ReadOptions(nc);
            (mode, coordinate, nearest, cubicA, exclude, extrapolation, antialias) =
                (opt.Mode, opt.CoordinateMode, opt.NearestMode, (float)opt.CubicA, opt.ExcludeOutside, (float)opt.ExtrapolationValue, opt.Antialias);
            policy = nc.GetString("keep_aspect_ratio_policy", "stretch");
            if (nc.GetInts("axes") is { } a) axes = a.Select(v => Shapes.Axis(v, rank)).ToArray();
            if (axes.Distinct().Count() != axes.Length) throw ctx.Unsupported(n, "with a repeated axis");
            scalesSlot = 2; sizesSlot = 3; roiSlot = coordinate == "tf_crop_and_resize" ? 1 : -1;
        }
        var present = ParameterSlots(ctx, n).ToHashSet();
        CallArg Param(int slot, DataType type, string what)
        {
            if (slot < 0 || !present.Contains(slot)) return Empty(type);
            if (ctx.TypeOf(n.Inputs[slot]) != type) throw ctx.Unsupported(n, $"with {what} of type {ctx.TypeOf(n.Inputs[slot]).OnnxName()}");
            return Read(n.Inputs[slot]);
        }
        if (present.Contains(scalesSlot) == (sizesSlot >= 0 && present.Contains(sizesSlot))) throw ctx.Unsupported(n, "without exactly one of scales and sizes");
        if (y.Length != rank) throw ctx.Unsupported(n, "with an output of another rank");
        int taps = 0;
        for (int d = 0; d < rank; d++)
            taps = checked(taps + (mode == "nearest" ? 1 : antialias ? checked(8 * x[d] + 4) : 4)); // RuntimeResize.TapCapacity
        string index = Scratch(ctx, n, "tap_index", DataType.Int32, taps);
        string weight = Scratch(ctx, n, "tap_weight", DataType.Double, taps);
        ctx.Emit(n, "RuntimeResize.Run", Read(n.Inputs[0]), Param(roiSlot, DataType.Float, "roi"), Param(scalesSlot, DataType.Float, "scales"),
            Param(sizesSlot, DataType.Int64, "sizes"), Write(n.Outputs[0]), Write(index), Write(weight), Ints(x), Ints(y), Ints(axes),
            E("ResizeMode." + Pascal(mode)), E("ResizeCoordinate." + Pascal(coordinate)), E("ResizeNearest." + Pascal(nearest)),
            E("ResizeAspect." + Pascal(policy)), F(cubicA), B(exclude), F(extrapolation), B(antialias));
    }

    private static string Pascal(string snake) => string.Concat(snake.Split('_').Select(w => char.ToUpperInvariant(w[0]) + w[1..]));

    /// <summary>An arena temporary the kernel uses as scratch (no model value).</summary>
    private static string Scratch(LoweringContext ctx, Node n, string what, DataType type, int count)
    {
        string name = $"{n.DisplayName}_{what}__edge_scratch{ctx.Calls.Count}";
        ctx.Graph.ValueTypes[name] = IR.ValueType.FromShape(type, [count]);
        return name;
    }
}
