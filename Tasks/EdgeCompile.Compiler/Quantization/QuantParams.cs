using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Quantization;

/// <summary>
/// Per-tensor affine quantization of an activation: q = saturate(round_half_even(x / Scale) + ZeroPoint) in
/// <see cref="Type"/> (uint8 or int8), x ≈ (q − ZeroPoint) · Scale — exactly ONNX QuantizeLinear/DequantizeLinear.
/// </summary>
public readonly record struct QuantParam(float Scale, int ZeroPoint, DataType Type)
{
    public (int Min, int Max) Range => Type == DataType.UInt8 ? (0, 255) : (-128, 127);
}

/// <summary>
/// Symmetric per-channel int8 quantization of a weight: along <see cref="Axis"/> (the output channel),
/// channel c has scale <see cref="Scales"/>[c] and zero point 0; values are in [−127, 127] (−128 is never used,
/// so the int8 kernels may negate a weight without overflow).
/// </summary>
public sealed record ChannelQuantParams(float[] Scales, int Axis);

/// <summary>
/// Quantization parameters from ranges, and the quantization of weights and biases. Rounding everywhere is
/// ONNX QuantizeLinear's: x / scale evaluated in float32, round half to even, saturate. No path divides by zero:
/// a zero (or non-finite) range gets scale 1 with warning EDGE4004, and a scale is never below the smallest
/// normal float.
/// </summary>
public static class QuantParams
{
    public const int WeightQMax = 127;

    /// <summary>
    /// Asymmetric per-tensor parameters covering [min, max] (widened to include 0 so that 0 is exact):
    /// lo = min(min, 0), hi = max(max, 0), Scale = float32((hi − lo) / (qmax − qmin)),
    /// ZeroPoint = clamp(round_half_even(qmin − lo / Scale), qmin, qmax) (computed from the float32 scale).
    /// </summary>
    public static QuantParam Asymmetric(double min, double max, ActivationType type, string? tensor = null, List<QuantWarning>? warnings = null)
    {
        var dt = type == ActivationType.UInt8 ? DataType.UInt8 : DataType.Int8;
        int qmin = dt == DataType.UInt8 ? 0 : -128, qmax = dt == DataType.UInt8 ? 255 : 127;
        double lo = Math.Min(min, 0), hi = Math.Max(max, 0);
        float scale = double.IsFinite(lo) && double.IsFinite(hi) ? (float)((hi - lo) / (qmax - qmin)) : float.NaN;
        if (!(scale >= MinScale) || !float.IsFinite(scale))
        {
            warnings?.Add(new QuantWarning(EdgeCodes.DegenerateRange,
                $"The calibrated range [{min}, {max}] is {(double.IsFinite(lo) && double.IsFinite(hi) ? "zero" : "not finite")}; using scale 1 and zero point 0.", tensor));
            return new QuantParam(1f, 0, dt);
        }
        double zp = Math.Round(qmin - lo / scale, MidpointRounding.ToEven);
        return new QuantParam(scale, (int)Math.Clamp(zp, qmin, qmax), dt);
    }

    /// <summary>The smallest normal float32; no scale is smaller.</summary>
    public const float MinScale = 1.17549435E-38f;

    /// <summary>
    /// Symmetric per-channel scales for a weight of shape <paramref name="shape"/>: channel c (index along
    /// <paramref name="axis"/>) gets Scale = float32(max |w_c| / 127); an all-zero channel gets scale 1.
    /// If <paramref name="bias"/> is given (one value per channel, quantized with scale sIn·sW_c), a channel's
    /// scale is raised where needed so the int32 bias cannot saturate: sW_c ≥ |b_c| / (sIn · (2^31 − 1)).
    /// </summary>
    public static ChannelQuantParams PerChannel(float[] w, int[] shape, int axis, float[]? bias = null, float inputScale = 0)
    {
        int channels = shape[axis];
        int inner = (int)Shapes.Product(shape.AsSpan(axis + 1));
        var absMax = new double[channels];
        for (int i = 0; i < w.Length; i++)
        {
            int c = i / inner % channels;
            absMax[c] = Math.Max(absMax[c], Math.Abs((double)w[i]));
        }
        var scales = new float[channels];
        for (int c = 0; c < channels; c++)
        {
            float s = (float)(absMax[c] / WeightQMax);
            if (!(s >= MinScale) || !float.IsFinite(s)) s = 1f;
            if (bias is not null && inputScale > 0)
            {
                double need = Math.Abs((double)bias[c]) / ((double)inputScale * int.MaxValue);
                if (s < need) s = (float)(need * (1 + 1e-6));
            }
            scales[c] = s;
        }
        return new ChannelQuantParams(scales, axis);
    }

    /// <summary>x quantized with QuantizeLinear's arithmetic: saturate(round_half_even(float32(x / scale)) + zeroPoint).</summary>
    public static long Quantize(double x, float scale, long zeroPoint, long qmin, long qmax)
    {
        double q = (float)(x / scale);
        if (double.IsNaN(q)) return Math.Clamp(zeroPoint, qmin, qmax);
        double r = Math.Round(q, MidpointRounding.ToEven) + zeroPoint;
        return r <= qmin ? qmin : r >= qmax ? qmax : (long)r;
    }

    /// <summary>The int8 weight tensor for per-channel parameters (values in [−127, 127]).</summary>
    public static sbyte[] QuantizeWeights(float[] w, int[] shape, ChannelQuantParams p)
    {
        int channels = shape[p.Axis];
        int inner = (int)Shapes.Product(shape.AsSpan(p.Axis + 1));
        var q = new sbyte[w.Length];
        for (int i = 0; i < w.Length; i++)
            q[i] = (sbyte)Quantize(w[i], p.Scales[i / inner % channels], 0, -WeightQMax, WeightQMax);
        return q;
    }

    /// <summary>Bias scale of channel c: float32(sIn · sW_c) (the product of two float32s, rounded once).</summary>
    public static float BiasScale(float inputScale, float weightScale) => (float)((double)inputScale * weightScale);

    /// <summary>The int32 bias: saturate(round_half_even(b_c / BiasScale(sIn, sW_c))).</summary>
    public static int[] QuantizeBias(float[] bias, float inputScale, ChannelQuantParams w)
    {
        var q = new int[bias.Length];
        for (int c = 0; c < bias.Length; c++)
            q[c] = (int)Quantize(bias[c], BiasScale(inputScale, w.Scales[w.Scales.Length == 1 ? 0 : c]), 0, int.MinValue, int.MaxValue);
        return q;
    }

    /// <summary>Checks a pre-quantized model's scale values (EDGE4006 unless every one is a positive finite number).</summary>
    public static void CheckScales(ReadOnlySpan<double> scales, string what)
    {
        foreach (double s in scales)
            if (!(s > 0) || !double.IsFinite(s))
                throw new EdgeException(EdgeCodes.InvalidQuantParams, $"{what} has scale {s}; scales must be positive and finite.");
    }

    internal static (long Min, long Max) Range(DataType t) => MatMulHelpers.QuantRange(t);
}
