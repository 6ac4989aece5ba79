using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.IR;
using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>
/// Resize (opset 10, 11, 13, 18, 19): n-dimensional nearest / n-linear / cubic resampling, separable per axis.
/// Inputs: X, roi, scales, sizes (opset 10: X, scales). Exactly one of scales and sizes is given (an empty
/// tensor counts as absent). Output dims: floor(in * scale), or sizes; with keep_aspect_ratio_policy
/// not_larger / not_smaller (18+) one scale (the min / max of sizes/in over the axes) applies to every
/// resized axis and out = round_half_up(scale * in). 'axes' (18+) restricts which dims the scales / sizes /
/// roi describe; other dims keep scale 1.
///
/// Each output coordinate x maps to an input coordinate x_original by coordinate_transformation_mode
/// (half_pixel, half_pixel_symmetric, pytorch_half_pixel, align_corners, asymmetric, tf_crop_and_resize,
/// and opset 11's tf_half_pixel_for_nn), where "length_resized" is scale * length_original as in the
/// ONNX reference. Then, with base = ceil(x_original) - 1 and ratio = x_original - base in (0, 1]:
/// nearest picks one index by nearest_mode; linear weights base, base+1 by (1 - ratio, ratio); cubic weights
/// base-1 .. base+2 with the cubic convolution kernel of parameter cubic_coeff_a. With antialias (18+) and a
/// scale below 1, the linear / cubic kernel is stretched by 1/scale and the weights normalized. Indices
/// outside the input are clamped (edge padding), or with exclude_outside their weights are dropped and the
/// rest renormalized. tf_crop_and_resize coordinates outside the input give extrapolation_value.
/// Opset 10 (and Upsample) use asymmetric coordinates and the "simple" nearest rule (floor when upsampling
/// an axis, ceil when downsampling it). Integer outputs truncate toward zero and saturate.
/// </summary>
public sealed class Resize : Operator
{
    public override string OpType => "Resize";
    public override IReadOnlyCollection<string> Attributes =>
        ["antialias", "axes", "coordinate_transformation_mode", "cubic_coeff_a", "exclude_outside", "extrapolation_value",
         "keep_aspect_ratio_policy", "mode", "nearest_mode"];
    public override int MinInputs => 1;
    public override int MaxInputs => 4;

    /// <summary>Interpolation settings (attributes) independent of the input's shape.</summary>
    internal sealed record Options(string Mode, string CoordinateMode, string NearestMode, double CubicA,
        bool ExcludeOutside, double ExtrapolationValue, bool Antialias);

    /// <summary>Per-dim output size, scale and region of interest (start, end as fractions of the input).</summary>
    internal sealed record Plan(int[] OutShape, double[] Scales, double[] RoiStart, double[] RoiEnd);

    internal static Options ReadOptions(NodeContext ctx)
    {
        bool legacy = ctx.Opset < 11;
        var mode = ctx.GetString("mode", "nearest");
        if (mode is not ("nearest" or "linear" or "cubic") || (legacy && mode == "cubic"))
            throw ctx.Error(EdgeCodes.InvalidAttribute, $"{ctx.Node.OpType} mode '{mode}' is not supported; use nearest, linear{(legacy ? "" : " or cubic")}.");
        var coord = legacy ? "asymmetric" : ctx.GetString("coordinate_transformation_mode", "half_pixel");
        if (coord is not ("half_pixel" or "half_pixel_symmetric" or "pytorch_half_pixel" or "align_corners" or "asymmetric" or "tf_crop_and_resize" or "tf_half_pixel_for_nn"))
            throw ctx.Error(EdgeCodes.InvalidAttribute, $"Resize coordinate_transformation_mode '{coord}' is not supported.");
        var nearest = legacy ? "simple" : ctx.GetString("nearest_mode", "round_prefer_floor");
        if (nearest is not ("round_prefer_floor" or "round_prefer_ceil" or "floor" or "ceil" or "simple"))
            throw ctx.Error(EdgeCodes.InvalidAttribute, $"Resize nearest_mode '{nearest}' is not supported; use round_prefer_floor, round_prefer_ceil, floor or ceil.");
        var policy = ctx.GetString("keep_aspect_ratio_policy", "stretch");
        if (policy is not ("stretch" or "not_larger" or "not_smaller"))
            throw ctx.Error(EdgeCodes.InvalidAttribute, $"Resize keep_aspect_ratio_policy '{policy}' is not supported; use stretch, not_larger or not_smaller.");
        bool antialias = ctx.GetInt("antialias", 0) != 0;
        return new Options(mode, coord, nearest, ctx.GetFloat("cubic_coeff_a", -0.75f), ctx.GetInt("exclude_outside", 0) != 0,
            ctx.GetFloat("extrapolation_value", 0f), antialias && mode != "nearest");
    }

    /// <summary>Input indices of roi, scales and sizes for this opset (-1: none).</summary>
    private static (int Roi, int Scales, int Sizes) InputSlots(NodeContext ctx) => ctx.Opset < 11 ? (-1, 1, -1) : (1, 2, 3);

    /// <summary>The dims that scales / sizes / roi describe: 'axes' normalized, or all dims.</summary>
    private static int[] ResizedAxes(NodeContext ctx, int rank)
    {
        var axes = ctx.GetInts("axes");
        if (axes is null) return Enumerable.Range(0, rank).ToArray();
        var r = axes.Select(a => ShapeRules.Axis(ctx, a, rank, "Resize axis")).ToArray();
        if (r.Distinct().Count() != r.Length) throw ctx.Error(EdgeCodes.InvalidAttribute, "Resize 'axes' repeats an axis.");
        return r;
    }

    /// <summary>Output shape, per-dim scales and roi from the scales / sizes / roi values (null: absent).</summary>
    internal static Plan MakePlan(NodeContext ctx, int[] inShape, double[]? scales, long[]? sizes, double[]? roi)
    {
        int rank = inShape.Length;
        var axes = ResizedAxes(ctx, rank);
        if ((scales is null) == (sizes is null))
            throw ctx.Error(EdgeCodes.InvalidArity, $"{ctx.Node.OpType} needs exactly one of 'scales' and 'sizes' (a non-empty tensor).");
        var outShape = (int[])inShape.Clone();
        var scale = Enumerable.Repeat(1.0, rank).ToArray();
        if (scales is not null)
        {
            if (scales.Length != axes.Length)
                throw ctx.Error(EdgeCodes.ShapeMismatch, $"{ctx.Node.OpType} 'scales' has {scales.Length} values; the input has {axes.Length} resized dims.");
            for (int i = 0; i < axes.Length; i++)
            {
                if (!(scales[i] > 0)) throw ctx.Error(EdgeCodes.InvalidValue, $"{ctx.Node.OpType} scale {scales[i]} must be positive.");
                scale[axes[i]] = scales[i];
                outShape[axes[i]] = checked((int)Math.Floor(inShape[axes[i]] * scales[i]));
            }
        }
        else
        {
            if (sizes!.Length != axes.Length)
                throw ctx.Error(EdgeCodes.ShapeMismatch, $"Resize 'sizes' has {sizes.Length} values; the input has {axes.Length} resized dims.");
            if (sizes.Any(s => s < 0 || s > int.MaxValue)) throw ctx.Error(EdgeCodes.InvalidValue, $"Resize sizes [{string.Join(",", sizes)}] must be non-negative.");
            for (int i = 0; i < axes.Length; i++) scale[axes[i]] = (double)sizes[i] / inShape[axes[i]];
            var policy = ctx.GetString("keep_aspect_ratio_policy", "stretch");
            if (policy == "stretch")
                for (int i = 0; i < axes.Length; i++) outShape[axes[i]] = (int)sizes[i];
            else
            {
                double s = policy == "not_larger" ? axes.Min(a => scale[a]) : axes.Max(a => scale[a]);
                foreach (var a in axes) { scale[a] = s; outShape[a] = checked((int)Math.Floor(s * inShape[a] + 0.5)); }
            }
        }
        var start = new double[rank];
        var end = Enumerable.Repeat(1.0, rank).ToArray();
        if (roi is not null)
        {
            if (roi.Length != 2 * axes.Length)
                throw ctx.Error(EdgeCodes.ShapeMismatch, $"Resize 'roi' has {roi.Length} values; it needs 2 x {axes.Length} (starts, then ends).");
            for (int i = 0; i < axes.Length; i++) { start[axes[i]] = roi[i]; end[axes[i]] = roi[axes.Length + i]; }
        }
        return new Plan(outShape, scale, start, end);
    }

    public override void InferTypes(InferenceContext ctx)
    {
        var t = ctx.InputElemType(0);
        ReadOptions(ctx);
        var x = ctx.InputShape(0);
        if (x is null) { ctx.SetOutput(0, t, (Dim[]?)null); return; }
        var (roiSlot, scalesSlot, sizesSlot) = InputSlots(ctx);
        var axes = ResizedAxes(ctx, x.Length);
        var result = (Dim[])x.Clone();
        foreach (var a in axes) result[a] = Dim.Unknown;
        var scalesC = NonEmpty(ctx.ConstantInput(scalesSlot));
        var sizesC = sizesSlot < 0 ? null : NonEmpty(ctx.ConstantInput(sizesSlot));
        bool scalesMaybe = scalesSlot < ctx.InputCount && ctx.HasInput(scalesSlot) && (scalesC is not null || ctx.ConstantInput(scalesSlot) is null);
        bool sizesMaybe = sizesSlot >= 0 && ctx.HasInput(sizesSlot) && (sizesC is not null || ctx.ConstantInput(sizesSlot) is null);
        if (!scalesMaybe && !sizesMaybe)
            throw ctx.Error(EdgeCodes.InvalidArity, $"{ctx.Node.OpType} needs exactly one of 'scales' and 'sizes' (a non-empty tensor).");
        var policy = ctx.GetString("keep_aspect_ratio_policy", "stretch");
        if (scalesC is not null && !sizesMaybe)
        {
            var s = MatMulHelpers.DoubleValues(scalesC);
            if (s.Length != axes.Length) throw ctx.Error(EdgeCodes.ShapeMismatch, $"{ctx.Node.OpType} 'scales' has {s.Length} values; the input has {axes.Length} resized dims.");
            for (int i = 0; i < axes.Length; i++)
            {
                var d = x[axes[i]];
                result[axes[i]] = s[i] == 1 ? d : d.IsKnown ? Dim.Known((long)Math.Floor(d.Value * s[i])) : Dim.Unknown;
            }
        }
        else if (sizesC is not null && !scalesMaybe)
        {
            var s = MatMulHelpers.Int64Values(sizesC);
            if (s.Length != axes.Length) throw ctx.Error(EdgeCodes.ShapeMismatch, $"Resize 'sizes' has {s.Length} values; the input has {axes.Length} resized dims.");
            if (policy == "stretch")
                for (int i = 0; i < axes.Length; i++) result[axes[i]] = Dim.Known(s[i]);
            else if (axes.All(a => x[a].IsKnown))
            {
                // Only the resized dims matter to the policy; the others stand in as 1.
                var known = x.Select((d, i) => axes.Contains(i) ? checked((int)d.Value) : 1).ToArray();
                var plan = MakePlan(ctx, known, null, s, null);
                foreach (var a in axes) result[a] = Dim.Known(plan.OutShape[a]);
            }
        }
        ctx.SetOutput(0, t, result);
    }

    private static Tensor? NonEmpty(Tensor? t) => t is null || t.Length == 0 ? null : t;

    public override void Execute(ExecutionContext ctx)
    {
        var x = ctx.RequireInput(0);
        var opt = ReadOptions(ctx);
        var (roiSlot, scalesSlot, sizesSlot) = InputSlots(ctx);
        var scales = NonEmpty(ctx.Input(scalesSlot));
        var sizes = sizesSlot < 0 ? null : NonEmpty(ctx.Input(sizesSlot));
        var roi = roiSlot < 0 ? null : NonEmpty(ctx.Input(roiSlot));
        if (scales is not null && !scales.DataType.IsFloat())
            throw ctx.Error(EdgeCodes.ShapeMismatch, $"Resize 'scales' must be float, got {scales.DataType.OnnxName()}.");
        var plan = MakePlan(ctx, x.Shape,
            scales is null ? null : MatMulHelpers.DoubleValues(scales),
            sizes is null ? null : MatMulHelpers.Int64Values(sizes),
            roi is null || opt.CoordinateMode != "tf_crop_and_resize" ? null : MatMulHelpers.DoubleValues(roi));
        ctx.SetOutput(0, Interpolate(ctx, x, plan, opt));
    }

    // ------------------------------------------------------------------------------------------------
    // Interpolation
    // ------------------------------------------------------------------------------------------------

    /// <summary>One axis' contribution to an output coordinate: input indices and weights; null = extrapolate.</summary>
    internal sealed record Taps(int[] Index, double[] Weight);

    internal static Tensor Interpolate(NodeContext ctx, Tensor x, Plan plan, Options opt)
    {
        int rank = x.Rank;
        if (rank == 0) throw ctx.Error(EdgeCodes.ShapeMismatch, $"{ctx.Node.OpType} needs an input of rank ≥ 1.");
        if (x.DataType == DataType.Bool) throw ctx.Error(EdgeCodes.ShapeMismatch, $"{ctx.Node.OpType} does not accept bool inputs.");
        var outShape = plan.OutShape;
        int outCount = checked((int)Shapes.Product(outShape));
        if (outCount > 0 && x.Length == 0)
            throw ctx.Error(EdgeCodes.ShapeMismatch, $"{ctx.Node.OpType} cannot resize an empty input {Shapes.Format(x.Shape)} to {Shapes.Format(outShape)}.");
        var taps = new Taps?[rank][];
        for (int d = 0; d < rank; d++)
        {
            taps[d] = new Taps?[outShape[d]];
            for (int o = 0; o < outShape[d]; o++)
                taps[d][o] = AxisTaps(o, x.Shape[d], outShape[d], plan.Scales[d], plan.RoiStart[d], plan.RoiEnd[d], opt);
        }
        var xv = MatMulHelpers.DoubleValues(x);
        var inStrides = Shapes.Strides(x.Shape);
        var y = new double[outCount];
        var oc = new int[rank];
        var tc = new int[rank];
        var cur = new Taps[rank];
        for (int e = 0; e < outCount; e++)
        {
            bool extrapolate = false;
            for (int d = 0; d < rank; d++)
            {
                var tp = taps[d][oc[d]];
                if (tp is null) { extrapolate = true; break; }
                cur[d] = tp;
            }
            if (extrapolate) y[e] = opt.ExtrapolationValue;
            else
            {
                // Sum over the product of the per-axis taps.
                double acc = 0;
                Array.Clear(tc);
                while (true)
                {
                    double w = 1;
                    int src = 0;
                    for (int d = 0; d < rank; d++) { w *= cur[d].Weight[tc[d]]; src += cur[d].Index[tc[d]] * inStrides[d]; }
                    acc += w * xv[src];
                    int k = rank - 1;
                    while (k >= 0 && ++tc[k] == cur[k].Index.Length) { tc[k] = 0; k--; }
                    if (k < 0) break;
                }
                y[e] = acc;
            }
            for (int d = rank - 1; d >= 0 && ++oc[d] == outShape[d]; d--) oc[d] = 0;
        }
        if (x.DataType.IsFloat()) return Tensor.FromDoubles(x.DataType, outShape, y);
        // Integers: truncate toward zero (like a cast), saturating instead of wrapping.
        var (lo, hi) = MatMulHelpers.QuantRange(x.DataType == DataType.UInt64 ? DataType.Int64 : x.DataType);
        var l = new long[y.Length];
        for (int i = 0; i < l.Length; i++) l[i] = Math.Clamp(Tensor.DoubleToInt64(y[i]), lo, hi);
        return Tensor.FromInt64s(x.DataType, outShape, l);
    }

    /// <summary>The input coordinate of output coordinate <paramref name="o"/>, or NaN to extrapolate (tf_crop_and_resize).</summary>
    private static double OriginalCoordinate(int o, int inLen, int outLen, double scale, double roiStart, double roiEnd, string mode)
    {
        double lengthResized = scale * inLen; // "length_resized" as the ONNX reference computes it
        switch (mode)
        {
            case "asymmetric": return o / scale;
            case "half_pixel": return (o + 0.5) / scale - 0.5;
            case "tf_half_pixel_for_nn": return (o + 0.5) / scale;
            case "pytorch_half_pixel": return lengthResized == 1 ? -0.5 : (o + 0.5) / scale - 0.5;
            case "align_corners": return lengthResized == 1 ? 0 : o * (inLen - 1) / (lengthResized - 1);
            case "half_pixel_symmetric":
            {
                // Spec (opset 19): centers the implied roi on the output when floor() shrank the output.
                double adjustment = outLen / lengthResized;
                double offset = inLen / 2.0 * (1 - adjustment);
                return offset + (o + 0.5) / scale - 0.5;
            }
            case "tf_crop_and_resize":
            {
                double v = lengthResized == 1
                    ? (roiEnd - roiStart) * (inLen - 1) / 2
                    : o * (roiEnd - roiStart) * (inLen - 1) / (lengthResized - 1);
                v += roiStart * (inLen - 1);
                return v < 0 || v > inLen - 1 ? double.NaN : v;
            }
            default: throw new InvalidOperationException("unreachable: mode validated");
        }
    }

    internal static Taps? AxisTaps(int o, int inLen, int outLen, double scale, double roiStart, double roiEnd, Options opt)
    {
        double xo = OriginalCoordinate(o, inLen, outLen, scale, roiStart, roiEnd, opt.CoordinateMode);
        if (double.IsNaN(xo)) return null;
        int Clamp(long i) => (int)Math.Clamp(i, 0, inLen - 1);
        if (opt.Mode == "nearest")
        {
            double fl = Math.Floor(xo), ratio = xo - fl;
            long idx = xo == fl ? (long)xo : opt.NearestMode switch
            {
                "round_prefer_floor" => ratio <= 0.5 ? (long)fl : (long)fl + 1,
                "round_prefer_ceil" => ratio < 0.5 ? (long)fl : (long)fl + 1,
                "floor" => (long)fl,
                "ceil" => (long)fl + 1,
                _ /* simple */ => scale < 1 ? (long)fl + 1 : (long)fl,
            };
            return new Taps([Clamp(idx)], [1.0]);
        }
        // base = ceil(xo) - 1, ratio in (0, 1]: the reference prefers the pixel left of xo.
        long b = (long)Math.Ceiling(xo) - 1;
        double r = xo - b;
        int first;
        double[] w;
        if (opt.Mode == "linear")
        {
            if (opt.Antialias && scale < 1)
            {
                first = (int)Math.Floor(-1 / scale) + 1;
                w = new double[2 - 2 * first];
                for (int i = 0; i < w.Length; i++) w[i] = Math.Clamp(1 - Math.Abs((first + i - r) * scale), 0, 1);
                Normalize(w);
            }
            else { first = 0; w = [1 - r, r]; }
        }
        else
        {
            double a = opt.CubicA;
            double s = opt.Antialias ? Math.Min(scale, 1) : 1;
            first = opt.Antialias ? (int)Math.Floor(-2 / s) + 1 : -1;
            w = new double[2 - 2 * first];
            for (int i = 0; i < w.Length; i++) w[i] = CubicKernel(s * (first + i - r), a);
            if (opt.Antialias) Normalize(w);
        }
        var idxs = new long[w.Length];
        for (int i = 0; i < w.Length; i++) idxs[i] = b + first + i;
        if (opt.ExcludeOutside)
        {
            for (int i = 0; i < w.Length; i++) if (idxs[i] < 0 || idxs[i] >= inLen) w[i] = 0;
            Normalize(w);
        }
        // Keep the non-zero taps (a zero weight contributes nothing), indices clamped to the edge.
        var keep = Enumerable.Range(0, w.Length).Where(i => w[i] != 0).ToArray();
        return new Taps(keep.Select(i => Clamp(idxs[i])).ToArray(), keep.Select(i => w[i]).ToArray());
    }

    /// <summary>Cubic convolution kernel (Keys) with parameter a, at distance t.</summary>
    private static double CubicKernel(double t, double a)
    {
        t = Math.Abs(t);
        if (t <= 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
        if (t < 2) return ((a * t - 5 * a) * t + 8 * a) * t - 4 * a;
        return 0;
    }

    private static void Normalize(double[] w)
    {
        double sum = w.Sum();
        if (sum == 0) return;
        for (int i = 0; i < w.Length; i++) w[i] /= sum;
    }
}
