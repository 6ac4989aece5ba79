using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>
/// QLinearConv (opset 10): quantized Conv. acc = sum (x - x_zp) * (w - w_zp[m]) + B[m] (B is int32, quantized with
/// scale x_scale * w_scale[m] and zero point 0), y = saturate(round_half_even(acc * x_scale * w_scale[m] / y_scale) + y_zp).
/// x_scale, x_zero_point, y_scale, y_zero_point are per-tensor; w_scale and w_zero_point per-tensor or per output channel.
/// Padding behaves as x_zero_point. Output type = y_zero_point's type.
/// </summary>
public sealed class QLinearConv : Operator
{
    public override string OpType => "QLinearConv";
    public override IReadOnlyCollection<string> Attributes => ConvHelpers.ConvAttributeNames;
    public override int MinInputs => 8;
    public override int MaxInputs => 9;

    private static readonly DataType[] s_types = [DataType.UInt8, DataType.Int8];

    public override void InferTypes(InferenceContext ctx)
    {
        ConvHelpers.RequireType(ctx, ctx.InputElemType(0), "x", s_types);
        ConvHelpers.RequireType(ctx, ctx.InputElemType(3), "w", s_types);
        var yType = ctx.InputElemType(7);
        ConvHelpers.RequireType(ctx, yType, "y_zero_point", s_types);
        ConvHelpers.InferConv(ctx, 0, 3, yType);
    }

    public override void Execute(ExecutionContext ctx)
    {
        var x = ctx.RequireInput(0);
        var w = ctx.RequireInput(3);
        var yzp = ctx.RequireInput(7);
        ConvHelpers.RequireType(ctx, x.DataType, "x", s_types);
        ConvHelpers.RequireType(ctx, w.DataType, "w", s_types);
        ConvHelpers.RequireType(ctx, yzp.DataType, "y_zero_point", s_types);
        ConvInteger.CheckZeroPointType(ctx, ctx.RequireInput(2), x.DataType, "x_zero_point");
        ConvInteger.CheckZeroPointType(ctx, ctx.RequireInput(5), w.DataType, "w_zero_point");
        var d = ConvHelpers.CheckConv(ctx, x, w);

        double xScale = ConvHelpers.Scalar(ctx, ctx.RequireInput(1), "x_scale");
        double xz = ConvHelpers.Scalar(ctx, ctx.RequireInput(2), "x_zero_point");
        var wScale = ConvHelpers.PerChannel(ctx, ctx.RequireInput(4), d.M, "w_scale");
        var wz = ConvHelpers.PerChannel(ctx, ctx.RequireInput(5), d.M, "w_zero_point");
        double yScale = ConvHelpers.Scalar(ctx, ctx.RequireInput(6), "y_scale");
        double yz = ConvHelpers.Scalar(ctx, yzp, "y_zero_point");
        double[]? bias = null;
        if (ctx.Input(8) is { } b)
        {
            if (b.DataType != DataType.Int32 || b.Rank != 1 || b.Shape[0] != d.M)
                throw ctx.Error(EdgeCodes.ShapeMismatch, $"B {b} must be a 1-D int32 tensor with {d.M} values (one per output channel).");
            bias = ConvHelpers.ToDoubles(b);
        }
        if (!(yScale > 0) || wScale.Any(s => !(s > 0)) || !(xScale > 0))
            throw ctx.Error(EdgeCodes.InvalidValue, "QLinearConv scales must be positive.");

        // Integer accumulation (exact in double), then one requantization per output element.
        var acc = ConvHelpers.Convolve(d, ConvHelpers.Centered(x, xz), ConvHelpers.CenteredPerChannel(w, wz), bias);
        double lo = yzp.DataType == DataType.UInt8 ? byte.MinValue : sbyte.MinValue;
        double hi = yzp.DataType == DataType.UInt8 ? byte.MaxValue : sbyte.MaxValue;
        int outSize = d.Geometry.OutputSize;
        for (int i = 0; i < acc.Length; i++)
        {
            int m = outSize == 0 ? 0 : i / outSize % d.M;
            double q = Math.Round(acc[i] * (xScale * wScale[m]) / yScale, MidpointRounding.ToEven) + yz;
            acc[i] = Math.Clamp(q, lo, hi);
        }
        ctx.SetOutput(0, Tensor.FromDoubles(yzp.DataType, [d.N, d.M, .. d.Geometry.OutputSpatial], acc));
    }
}
