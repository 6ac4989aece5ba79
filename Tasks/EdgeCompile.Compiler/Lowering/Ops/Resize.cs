using EdgeCompile.Compiler.IR;
using EdgeCompile.Compiler.Operators;
using static EdgeCompile.Compiler.Lowering.LoweringContext;

namespace EdgeCompile.Compiler.Lowering.Ops;

/// <summary>
/// Resize and Upsample with constant scales/sizes/roi: the reference executor's per-axis taps
/// (<see cref="Resize.AxisTaps"/>) evaluated at build time. Nearest (any type) is one gather through a constant
/// map (Maps.Gather, or Maps.GatherOrFill for tf_crop_and_resize extrapolation); linear and cubic (float32) are
/// Maps.Linear over the product of the per-axis taps, weights multiplied in double as the reference does. Scales, sizes
/// or roi computed at run time go to RuntimeResize.Run (Lowering/Ops/RuntimeResize.cs).
/// </summary>
public sealed class ResizeLowering : IOpLowering
{
    public IEnumerable<string> OpTypes => ["Resize", "Upsample"];

    public void Lower(LoweringContext ctx, Node n)
    {
        var nc = ctx.NodeContext(n);
        var x = ctx.Shape(n, n.Inputs[0]);
        var yShape = ctx.Shape(n, n.Outputs[0]);
        var type = ctx.TypeOf(n.Inputs[0]);
        IndexMaps.RequireSupported(ctx, n, n.Inputs[0]);
        if (type == DataType.Bool) throw ctx.Unsupported(n, "on bool data");
        if (RuntimeResizeLowering.ParameterSlots(ctx, n).Any(i => ctx.Constant(n.Inputs[i]) is null))
        {
            RuntimeResizeLowering.Lower(ctx, n, x, yShape);
            return;
        }
        Resize.Options opt;
        Resize.Plan plan;
        Tensor? Slot(int slot, string what)
        {
            if (slot < 0 || slot >= n.Inputs.Count || n.Inputs[slot].Length == 0) return null;
            var c = ctx.Constant(n.Inputs[slot]) ?? throw ctx.Unsupported(n, $"with {what} computed at run time");
            return c.Length == 0 ? null : c;
        }
        if (n.OpType == "Upsample")
        {
            var mode = nc.GetString("mode", "nearest");
            if (mode == "bilinear") mode = "linear";
            if (mode is not ("nearest" or "linear")) throw ctx.Unsupported(n, $"in mode '{mode}'");
            opt = new Resize.Options(mode, "asymmetric", "simple", -0.75, false, 0, false);
            var s = nc.GetFloats("scales")?.Select(f => (double)f).ToArray() ?? Slot(1, "scales")?.ToDoubles()
                ?? throw ctx.Unsupported(n, "without scales");
            if (s.Length != x.Length) throw ctx.Unsupported(n, "with scales of another rank");
            plan = new Resize.Plan(x.Select((d, i) => checked((int)Math.Floor(d * s[i]))).ToArray(), s,
                new double[x.Length], Enumerable.Repeat(1.0, x.Length).ToArray());
        }
        else
        {
            opt = Resize.ReadOptions(nc);
            bool legacy = ctx.Opset(n) < 11;
            var scales = Slot(legacy ? 1 : 2, "scales");
            var sizes = legacy ? null : Slot(3, "sizes");
            var roi = legacy || opt.CoordinateMode != "tf_crop_and_resize" ? null : Slot(1, "roi");
            plan = Resize.MakePlan(nc, x, scales?.ToDoubles(), sizes?.ToInt64s(), roi?.ToDoubles());
        }
        if (!plan.OutShape.SequenceEqual(yShape)) throw ctx.Unsupported(n, "with an output shape other than the inferred one");
        int rank = x.Length;
        if (rank == 0) throw ctx.Unsupported(n, "on a scalar");
        long outCount = Shapes.Product(yShape);
        if (outCount == 0) return;
        if (Shapes.Product(x) == 0) throw ctx.Unsupported(n, "on an empty input");

        var taps = new Resize.Taps?[rank][];
        for (int d = 0; d < rank; d++)
        {
            taps[d] = new Resize.Taps?[yShape[d]];
            for (int o = 0; o < yShape[d]; o++)
                taps[d][o] = Resize.AxisTaps(o, x[d], yShape[d], plan.Scales[d], plan.RoiStart[d], plan.RoiEnd[d], opt);
        }
        bool single = taps.All(a => a.All(t => t is null || (t.Index.Length == 1 && t.Weight[0] == 1.0)));
        if (single)
        {
            var axisMaps = taps.Select(a => a.Select(t => t is null ? -1 : t.Index[0]).ToArray()).ToArray();
            var map = IndexMaps.Combine(x, yShape, axisMaps);
            if (map.Contains(-1) && type != DataType.Float) throw ctx.Unsupported(n, $"extrapolating on {type.OnnxName()} data");
            IndexMaps.EmitGatherOrFill(ctx, n, n.Inputs[0], n.Outputs[0], map, Tensor.FromArray(new[] { (float)opt.ExtrapolationValue }, 1));
            return;
        }
        if (type != DataType.Float) throw ctx.Unsupported(n, $"in mode '{opt.Mode}' on {type.OnnxName()} data");
        if (taps.Any(a => a.Any(t => t is null)) && opt.ExtrapolationValue != 0)
            throw ctx.Unsupported(n, "with a non-zero extrapolation_value outside the roi");
        int tapCount = 1;
        for (int d = 0; d < rank; d++) tapCount = checked(tapCount * Math.Max(1, taps[d].Max(t => t?.Index.Length ?? 0)));
        var inStrides = Shapes.Strides(x);
        var index = new int[checked((int)(outCount * tapCount))];
        var weight = new float[index.Length];
        var oc = new int[rank];
        var tc = new int[rank];
        var cur = new Resize.Taps[rank];
        for (int e = 0; e < outCount; e++)
        {
            bool extrapolate = false;
            for (int d = 0; d < rank; d++)
            {
                var tp = taps[d][oc[d]];
                if (tp is null || tp.Index.Length == 0) { extrapolate = true; break; }
                cur[d] = tp;
            }
            if (!extrapolate)
            {
                Array.Clear(tc);
                int k = e * tapCount;
                while (true)
                {
                    double w = 1;
                    int src = 0;
                    for (int d = 0; d < rank; d++) { w *= cur[d].Weight[tc[d]]; src += cur[d].Index[tc[d]] * inStrides[d]; }
                    index[k] = src; weight[k] = (float)w; k++;
                    int j = rank - 1;
                    while (j >= 0 && ++tc[j] == cur[j].Index.Length) { tc[j] = 0; j--; }
                    if (j < 0) break;
                }
            }
            for (int d = rank - 1; d >= 0 && ++oc[d] == yShape[d]; d--) oc[d] = 0;
        }
        int len = checked((int)Shapes.Product(x));
        if (index.Any(i => (uint)i >= (uint)len)) throw new InvalidOperationException("Resize tap outside the input.");
        string idx = ctx.AddConstant(n.DisplayName + "_taps", Tensor.FromArray(index, index.Length));
        string wts = ctx.AddConstant(n.DisplayName + "_weights", Tensor.FromArray(weight, weight.Length));
        ctx.Emit(n, "Maps.Linear", Read(n.Inputs[0]), Read(idx), Read(wts), I(tapCount), Write(n.Outputs[0]));
    }
}
