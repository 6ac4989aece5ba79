using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>
/// MaxPool (opset 1, 8, 10, 11, 12, 22): maximum over each window of X [N, C, spatial...] (float types, int8, uint8);
/// padding never wins. Optional Indices (int64): the flat index into X of the first maximum, counting the batch and
/// channel offsets; storage_order = 1 numbers the spatial part column-major.
/// NaN inputs are skipped unless the whole window is NaN.
/// </summary>
public sealed class MaxPool : Operator
{
    public override string OpType => "MaxPool";
    public override IReadOnlyCollection<string> Attributes =>
        ["auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads", "storage_order", "strides"];
    public override int MaxOutputs => 2;

    private static bool IsSupported(DataType t) => t.IsFloat() || t is DataType.Int8 or DataType.UInt8;

    private static int Validate(NodeContext ctx, DataType t)
    {
        ConvHelpers.RejectBefore(ctx, "ceil_mode", 10);
        ConvHelpers.RejectBefore(ctx, "dilations", 10);
        ConvHelpers.RejectBefore(ctx, "storage_order", 8);
        if (!IsSupported(t))
            throw ctx.Error(EdgeCodes.ShapeMismatch, $"MaxPool needs a floating-point, int8 or uint8 input, got {t.OnnxName()}.");
        long so = ctx.GetInt("storage_order", 0);
        if (so is not (0 or 1)) throw ctx.Error(EdgeCodes.InvalidAttribute, $"storage_order must be 0 (row major) or 1 (column major), got {so}.");
        return (int)so;
    }

    public override void InferTypes(InferenceContext ctx)
    {
        var t = ctx.InputElemType(0);
        Validate(ctx, t);
        ConvHelpers.InferPool(ctx, t);
    }

    public override void Execute(ExecutionContext ctx)
    {
        var x = ctx.RequireInput(0);
        int storageOrder = Validate(ctx, x.DataType);
        ConvHelpers.RequireRank(ctx, x, 3);
        var (_, g) = ConvHelpers.PoolGeometry(ctx, x);
        bool wantIndices = ctx.HasOutput(1);
        var xv = ConvHelpers.ToDoubles(x);
        int channels = x.Shape[0] * x.Shape[1];
        int inSize = g.InputSize, outSize = g.OutputSize;
        var y = new double[(long)channels * outSize];
        var idx = wantIndices ? new long[y.Length] : null;
        var window = new int[g.Taps];
        var pos = new int[g.Rank];
        var coord = new int[g.Rank];
        for (int p = 0; p < outSize; p++, WindowGeometry.Advance(pos, g.OutputSpatial))
        {
            g.Window(pos, window);
            for (int c = 0; c < channels; c++)
            {
                int xBase = c * inSize;
                double best = double.NaN;
                int bestAt = -1;
                foreach (int i in window)
                {
                    if (i < 0) continue;
                    double v = xv[xBase + i];
                    if (bestAt < 0 || v > best || (double.IsNaN(best) && !double.IsNaN(v))) { best = v; bestAt = i; }
                }
                y[c * outSize + p] = best;
                if (idx is not null)
                    idx[c * outSize + p] = bestAt < 0 ? -1 : (long)xBase + (storageOrder == 0 ? bestAt : ColumnMajor(bestAt, g.InputSpatial, coord));
            }
        }
        int[] shape = [x.Shape[0], x.Shape[1], .. g.OutputSpatial];
        ctx.SetOutput(0, Tensor.FromDoubles(x.DataType, shape, y));
        if (idx is not null) ctx.SetOutput(1, new Tensor(DataType.Int64, shape, idx));
    }

    /// <summary>The column-major flat index of the element whose row-major flat index is <paramref name="rowMajor"/>.</summary>
    private static int ColumnMajor(int rowMajor, int[] shape, int[] coord)
    {
        for (int d = shape.Length - 1; d >= 0; d--) { coord[d] = rowMajor % shape[d]; rowMajor /= shape[d]; }
        int r = 0;
        for (int d = shape.Length - 1; d >= 0; d--) r = r * shape[d] + coord[d];
        return r;
    }
}
