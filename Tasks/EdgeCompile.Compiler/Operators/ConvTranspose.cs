using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.IR;
using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>
/// ConvTranspose (opset 1, 11, 22): the adjoint of Conv. X [N, C, D...], W [C, M/group, k...], optional B [M];
/// Y [N, M, out...] where each input element scatters x * w into y at stride*i + dilation*k - pad_begin.
/// Output size from pads/output_padding, or from output_shape / SAME_* with generated pads
/// (<see cref="ConvHelpers.TransposeAxis"/>).
/// </summary>
public sealed class ConvTranspose : Operator
{
    public override string OpType => "ConvTranspose";
    public override IReadOnlyCollection<string> Attributes =>
        ["auto_pad", "dilations", "group", "kernel_shape", "output_padding", "output_shape", "pads", "strides"];
    public override int MinInputs => 2;
    public override int MaxInputs => 3;

    public override void InferTypes(InferenceContext ctx)
    {
        var t = ctx.InputElemType(0);
        ConvHelpers.RequireFloat(ctx, t, "X");
        var xs = ctx.InputShape(0);
        var ws = ctx.InputShape(1);
        int? rank = ConvHelpers.SpatialRank(ctx, xs, ws is not null ? ws.Length - 2 : ctx.GetInts("kernel_shape")?.Length);
        if (rank is null) { ctx.SetOutput(0, t, (Dim[]?)null); return; }
        int n = rank.Value;
        if (ws is not null && ws.Length != n + 2)
            throw ctx.Error(EdgeCodes.ShapeMismatch, $"W has rank {ws.Length}; {n + 2} expected for an input with {n} spatial axes.");
        var p = ReadParams(ctx, n);
        if (xs is not null && ws is not null && xs[1].IsKnown && ws[0].IsKnown && xs[1].Value != ws[0].Value)
            throw ctx.Error(EdgeCodes.ShapeMismatch, $"X has {xs[1].Value} channels but W's first dimension is {ws[0].Value}.");
        var shape = new Dim[n + 2];
        shape[0] = xs?[0] ?? Dim.Unknown;
        shape[1] = ws is not null && ws[1].IsKnown ? Dim.Known(ws[1].Value * p.Group) : Dim.Unknown;
        for (int i = 0; i < n; i++)
        {
            var din = xs?[i + 2] ?? Dim.Unknown;
            Dim dk = p.Attributes.KernelShape is { } ks ? Dim.Known(ks[i]) : ws?[i + 2] ?? Dim.Unknown;
            shape[i + 2] = din.IsKnown && dk.IsKnown
                ? Dim.Known(Axis(ctx, p, i, din.Value, checked((int)dk.Value)).Output)
                : p.OutputShape is { } os ? Dim.Known(os[i]) : Dim.Unknown;
        }
        ctx.SetOutput(0, t, shape);
    }

    private sealed record Params(WindowAttributes Attributes, int Group, int[] OutputPadding, long[]? OutputShape);

    private static Params ReadParams(NodeContext ctx, int n)
    {
        var a = ConvHelpers.ReadAttributes(ctx, n);
        int group = (int)ConvHelpers.ReadGroup(ctx);
        var op = ctx.GetInts("output_padding") is { } o ? ConvHelpers.Ints(ctx, "output_padding", o, n, min: 0) : new int[n];
        for (int i = 0; i < n; i++)
            if (op[i] >= a.Strides[i] && op[i] >= a.Dilations[i])
                throw ctx.Error(EdgeCodes.InvalidAttribute, $"output_padding {op[i]} on spatial axis {i} must be smaller than the stride ({a.Strides[i]}) or the dilation ({a.Dilations[i]}).");
        long[]? os = ctx.GetInts("output_shape");
        if (os is not null)
        {
            // Either the spatial shape or the full [N, C, spatial...] shape; only the spatial part matters.
            if (os.Length == n + 2) os = os[2..];
            if (os.Length != n)
                throw ctx.Error(EdgeCodes.InvalidAttribute, $"output_shape has {os.Length} values; {n} spatial sizes expected.");
            if (os.Any(v => v <= 0))
                throw ctx.Error(EdgeCodes.InvalidAttribute, $"output_shape [{string.Join(",", os)}] must be positive.");
        }
        return new Params(a, group, op, os);
    }

    private static AxisGeometry Axis(NodeContext ctx, Params p, int i, long input, int kernel)
    {
        var a = p.Attributes;
        return ConvHelpers.TransposeAxis(ctx, i, input, kernel, a.Strides[i], a.Dilations[i], a.Pads[i], a.Pads[i + a.SpatialRank],
            p.OutputPadding[i], p.OutputShape?[i], a.AutoPad);
    }

    public override void Execute(ExecutionContext ctx)
    {
        var x = ctx.RequireInput(0);
        var w = ctx.RequireInput(1);
        ConvHelpers.RequireFloat(ctx, x.DataType, "X");
        if (w.DataType != x.DataType)
            throw ctx.Error(EdgeCodes.ShapeMismatch, $"W {w} must have the element type of X {x}.");
        ConvHelpers.RequireRank(ctx, x, 3);
        if (w.Rank != x.Rank) throw ctx.Error(EdgeCodes.ShapeMismatch, $"W {w} must have the rank of X {x}.");
        int n = x.Rank - 2;
        var p = ReadParams(ctx, n);
        var kernel = w.Shape[2..];
        if (p.Attributes.KernelShape is { } ks && !ks.SequenceEqual(kernel))
            throw ctx.Error(EdgeCodes.ShapeMismatch, $"kernel_shape [{string.Join(",", ks)}] does not match W {w}.");
        int batch = x.Shape[0], c = x.Shape[1], group = p.Group;
        if (w.Shape[0] != c) throw ctx.Error(EdgeCodes.ShapeMismatch, $"X {x} has {c} channels but W {w} has {w.Shape[0]} input channels.");
        if (c % group != 0) throw ctx.Error(EdgeCodes.ShapeMismatch, $"X has {c} channels, not a multiple of group {group}.");
        int mg = w.Shape[1], m = mg * group, cg = c / group;

        var outSpatial = new int[n]; var pb = new int[n]; var pe = new int[n];
        for (int i = 0; i < n; i++)
        {
            var g = Axis(ctx, p, i, x.Shape[i + 2], kernel[i]);
            (outSpatial[i], pb[i], pe[i]) = (g.Output, g.PadBegin, g.PadEnd);
        }
        // The adjoint view: a convolution from Y (its "input") to X (its "output") with the same geometry.
        var geo = new WindowGeometry(outSpatial, x.Shape[2..], kernel, p.Attributes.Strides, p.Attributes.Dilations, pb, pe);

        double[]? bias = null;
        if (ctx.Input(2) is { } b)
        {
            if (b.Rank != 1 || b.Shape[0] != m)
                throw ctx.Error(EdgeCodes.ShapeMismatch, $"B {b} must be 1-D with {m} values (one per output channel).");
            bias = ConvHelpers.ToDoubles(b);
        }

        var xv = ConvHelpers.ToDoubles(x);
        var wv = ConvHelpers.ToDoubles(w);
        int inSize = geo.OutputSize, outSize = geo.InputSize, taps = geo.Taps;
        var y = new double[checked((long)batch * m * outSize)];
        if (bias is not null)
            for (int i = 0; i < y.Length; i++) y[i] = bias[i / outSize % m];
        var window = new int[taps];
        var pos = new int[n];
        for (int q = 0; q < inSize; q++, WindowGeometry.Advance(pos, geo.OutputSpatial))
        {
            geo.Window(pos, window);
            for (int bi = 0; bi < batch; bi++)
                for (int ci = 0; ci < c; ci++)
                {
                    double xval = xv[(bi * c + ci) * inSize + q];
                    int gr = ci / cg;
                    for (int mi = 0; mi < mg; mi++)
                    {
                        int wBase = (ci * mg + mi) * taps;
                        int yBase = (bi * m + gr * mg + mi) * outSize;
                        for (int t = 0; t < taps; t++)
                        {
                            int o = window[t];
                            if (o >= 0) y[yBase + o] += xval * wv[wBase + t];
                        }
                    }
                }
        }
        ctx.SetOutput(0, Tensor.FromDoubles(x.DataType, [batch, m, .. outSpatial], y));
    }
}
