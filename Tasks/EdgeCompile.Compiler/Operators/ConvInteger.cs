using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>
/// ConvInteger (opset 10): Conv over (x - x_zero_point) and (w - w_zero_point) with exact integer
/// accumulation, int32 output. x_zero_point is per-tensor; w_zero_point per-tensor or per output channel.
/// Padding behaves as x_zero_point (contributes zero).
/// </summary>
public sealed class ConvInteger : Operator
{
    public override string OpType => "ConvInteger";
    public override IReadOnlyCollection<string> Attributes => ConvHelpers.ConvAttributeNames;
    public override int MinInputs => 2;
    public override int MaxInputs => 4;

    private static readonly DataType[] s_types = [DataType.UInt8, DataType.Int8];

    public override void InferTypes(InferenceContext ctx)
    {
        ConvHelpers.RequireType(ctx, ctx.InputElemType(0), "x", s_types);
        ConvHelpers.RequireType(ctx, ctx.InputElemType(1), "w", s_types);
        ConvHelpers.InferConv(ctx, 0, 1, DataType.Int32);
    }

    public override void Execute(ExecutionContext ctx)
    {
        var x = ctx.RequireInput(0);
        var w = ctx.RequireInput(1);
        ConvHelpers.RequireType(ctx, x.DataType, "x", s_types);
        ConvHelpers.RequireType(ctx, w.DataType, "w", s_types);
        var d = ConvHelpers.CheckConv(ctx, x, w);
        CheckZeroPointType(ctx, ctx.Input(2), x.DataType, "x_zero_point");
        CheckZeroPointType(ctx, ctx.Input(3), w.DataType, "w_zero_point");
        double xz = ConvHelpers.Scalar(ctx, ctx.Input(2), "x_zero_point");
        var wz = ConvHelpers.PerChannel(ctx, ctx.Input(3), d.M, "w_zero_point");
        // Products are at most 255*255 and sums stay far below 2^53: exact in double.
        var y = ConvHelpers.Convolve(d, ConvHelpers.Centered(x, xz), ConvHelpers.CenteredPerChannel(w, wz), null);
        ctx.SetOutput(0, Tensor.FromDoubles(DataType.Int32, [d.N, d.M, .. d.Geometry.OutputSpatial], y));
    }

    internal static void CheckZeroPointType(NodeContext ctx, Tensor? zp, DataType expected, string name)
    {
        if (zp is not null && zp.DataType != expected)
            throw ctx.Error(EdgeCodes.ShapeMismatch, $"{name} is {zp.DataType.OnnxName()} but must have the type of its data input ({expected.OnnxName()}).");
    }
}
