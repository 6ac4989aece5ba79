using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>
/// AveragePool (opset 1, 7, 10, 11, 19, 22): mean over each window of X [N, C, spatial...].
/// count_include_pad = 0 divides by the taps inside X; 1 divides by the taps inside the padded input
/// (explicit or automatic pads), so taps past the end padding that ceil_mode adds are never counted.
/// </summary>
public sealed class AveragePool : Operator
{
    public override string OpType => "AveragePool";
    public override IReadOnlyCollection<string> Attributes =>
        ["auto_pad", "ceil_mode", "count_include_pad", "dilations", "kernel_shape", "pads", "strides"];

    public override void InferTypes(InferenceContext ctx)
    {
        Validate(ctx);
        var t = ctx.InputElemType(0);
        ConvHelpers.RequireFloat(ctx, t);
        ConvHelpers.InferPool(ctx, t);
    }

    private static bool Validate(NodeContext ctx)
    {
        ConvHelpers.RejectBefore(ctx, "ceil_mode", 10);
        ConvHelpers.RejectBefore(ctx, "dilations", 19);
        long cip = ctx.GetInt("count_include_pad", 0);
        if (cip is not (0 or 1)) throw ctx.Error(EdgeCodes.InvalidAttribute, $"count_include_pad must be 0 or 1, got {cip}.");
        return cip == 1;
    }

    public override void Execute(ExecutionContext ctx)
    {
        bool countPad = Validate(ctx);
        var x = ctx.RequireInput(0);
        ConvHelpers.RequireFloat(ctx, x.DataType);
        ConvHelpers.RequireRank(ctx, x, 3);
        var (_, g) = ConvHelpers.PoolGeometry(ctx, x);
        var xv = ConvHelpers.ToDoubles(x);
        int channels = x.Shape[0] * x.Shape[1];
        int inSize = g.InputSize, outSize = g.OutputSize;
        var y = new double[(long)channels * outSize];
        var window = new int[g.Taps];
        var pos = new int[g.Rank];
        for (int p = 0; p < outSize; p++, WindowGeometry.Advance(pos, g.OutputSpatial))
        {
            g.Window(pos, window);
            int count = 0;
            foreach (int i in window)
                if (i >= 0 || (countPad && i == WindowGeometry.Padding)) count++;
            for (int c = 0; c < channels; c++)
            {
                double sum = 0;
                int xBase = c * inSize;
                foreach (int i in window)
                    if (i >= 0) sum += xv[xBase + i];
                y[c * outSize + p] = count == 0 ? double.NaN : sum / count;
            }
        }
        ctx.SetOutput(0, Tensor.FromDoubles(x.DataType, [x.Shape[0], x.Shape[1], .. g.OutputSpatial], y));
    }
}
