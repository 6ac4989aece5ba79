using System.Numerics;

namespace EdgeCompile.Kernels;

/// <summary>
/// ONNX QuantizeLinear / DequantizeLinear (float32 side) with per-tensor, per-axis or blocked scales and zero points
/// read at run time. x is viewed as [outer, axis, inner]; element (o, a, i) uses parameter
/// o·scaleOuterStride + (a / block)·scaleAxisStride + i·scaleInnerStride (per-tensor: all strides 0; per-axis: block 1,
/// axis stride 1; blocked: the scale has x's shape with the axis divided by block, rounded up).
/// </summary>
public static class QLinearAxis
{
    /// <summary>
    /// y = saturate(round_half_even(x / scale) + zeroPoint) (the division in float32, as the spec with a float scale);
    /// NaN gives 0. <paramref name="zeroPoint"/> is empty (0) or has the scale's length. Output uint8, int8, uint16, int16, int32.
    /// </summary>
    /// <exception cref="ArgumentException">A span length does not match the view, or a parameter index falls outside the scale.</exception>
    public static void Quantize<T>(ReadOnlySpan<float> x, ReadOnlySpan<float> scale, ReadOnlySpan<T> zeroPoint, Span<T> y,
        int outer, int axis, int inner, int block, int scaleOuterStride, int scaleAxisStride, int scaleInnerStride)
        where T : unmanaged, IBinaryInteger<T>, IMinMaxValue<T>
    {
        Validate("QuantizeLinear", x.Length, y.Length, scale.Length, zeroPoint.Length, outer, axis, inner, block, scaleOuterStride, scaleAxisStride, scaleInnerStride);
        double lo = double.CreateTruncating(T.MinValue), hi = double.CreateTruncating(T.MaxValue);
        for (int o = 0, e = 0; o < outer; o++)
            for (int a = 0; a < axis; a++)
            {
                int p = o * scaleOuterStride + a / block * scaleAxisStride;
                for (int i = 0; i < inner; i++, e++, p += scaleInnerStride)
                {
                    float q = x[e] / scale[p];
                    double v = Math.Round((double)q, MidpointRounding.ToEven) + (zeroPoint.Length == 0 ? 0 : double.CreateTruncating(zeroPoint[p]));
                    y[e] = double.IsNaN(v) ? T.Zero : v <= lo ? T.MinValue : v >= hi ? T.MaxValue : T.CreateTruncating((long)v);
                }
            }
    }

    /// <summary>y = (x - zeroPoint) · scale, computed in double and rounded once to float32. uint8 x.</summary>
    /// <exception cref="ArgumentException">A span length does not match the view, or a parameter index falls outside the scale.</exception>
    public static void Dequantize(ReadOnlySpan<byte> x, ReadOnlySpan<float> scale, ReadOnlySpan<byte> zeroPoint, Span<float> y,
        int outer, int axis, int inner, int block, int scaleOuterStride, int scaleAxisStride, int scaleInnerStride)
        => DequantizeCore(x, scale, zeroPoint, y, outer, axis, inner, block, scaleOuterStride, scaleAxisStride, scaleInnerStride);

    /// <summary>int8 x.</summary>
    public static void Dequantize(ReadOnlySpan<sbyte> x, ReadOnlySpan<float> scale, ReadOnlySpan<sbyte> zeroPoint, Span<float> y,
        int outer, int axis, int inner, int block, int scaleOuterStride, int scaleAxisStride, int scaleInnerStride)
        => DequantizeCore(x, scale, zeroPoint, y, outer, axis, inner, block, scaleOuterStride, scaleAxisStride, scaleInnerStride);

    /// <summary>uint16 x.</summary>
    public static void Dequantize(ReadOnlySpan<ushort> x, ReadOnlySpan<float> scale, ReadOnlySpan<ushort> zeroPoint, Span<float> y,
        int outer, int axis, int inner, int block, int scaleOuterStride, int scaleAxisStride, int scaleInnerStride)
        => DequantizeCore(x, scale, zeroPoint, y, outer, axis, inner, block, scaleOuterStride, scaleAxisStride, scaleInnerStride);

    /// <summary>int16 x.</summary>
    public static void Dequantize(ReadOnlySpan<short> x, ReadOnlySpan<float> scale, ReadOnlySpan<short> zeroPoint, Span<float> y,
        int outer, int axis, int inner, int block, int scaleOuterStride, int scaleAxisStride, int scaleInnerStride)
        => DequantizeCore(x, scale, zeroPoint, y, outer, axis, inner, block, scaleOuterStride, scaleAxisStride, scaleInnerStride);

    /// <summary>int32 x.</summary>
    public static void Dequantize(ReadOnlySpan<int> x, ReadOnlySpan<float> scale, ReadOnlySpan<int> zeroPoint, Span<float> y,
        int outer, int axis, int inner, int block, int scaleOuterStride, int scaleAxisStride, int scaleInnerStride)
        => DequantizeCore(x, scale, zeroPoint, y, outer, axis, inner, block, scaleOuterStride, scaleAxisStride, scaleInnerStride);

    private static void DequantizeCore<T>(ReadOnlySpan<T> x, ReadOnlySpan<float> scale, ReadOnlySpan<T> zeroPoint, Span<float> y,
        int outer, int axis, int inner, int block, int scaleOuterStride, int scaleAxisStride, int scaleInnerStride) where T : unmanaged, IBinaryInteger<T>
    {
        Validate("DequantizeLinear", x.Length, y.Length, scale.Length, zeroPoint.Length, outer, axis, inner, block, scaleOuterStride, scaleAxisStride, scaleInnerStride);
        for (int o = 0, e = 0; o < outer; o++)
            for (int a = 0; a < axis; a++)
            {
                int p = o * scaleOuterStride + a / block * scaleAxisStride;
                for (int i = 0; i < inner; i++, e++, p += scaleInnerStride)
                {
                    long v = long.CreateTruncating(x[e]) - (zeroPoint.Length == 0 ? 0 : long.CreateTruncating(zeroPoint[p]));
                    y[e] = (float)(v * (double)scale[p]);
                }
            }
    }

    private static void Validate(string kernel, int xLength, int yLength, int scaleLength, int zeroLength,
        int outer, int axis, int inner, int block, int so, int sa, int si)
    {
        if (outer < 0 || axis < 0 || inner < 0 || block < 1 || so < 0 || sa < 0 || si < 0)
            throw new ArgumentException($"{kernel}: sizes and strides must be non-negative and block positive.", nameof(outer));
        long n = (long)outer * axis * inner;
        if (xLength != n || yLength != n) throw new ArgumentException($"{kernel}: x ({xLength}) and y ({yLength}) must have outer·axis·inner = {n} elements.", nameof(yLength));
        if (zeroLength != 0 && zeroLength != scaleLength) throw new ArgumentException($"{kernel}: the zero point has {zeroLength} elements, the scale {scaleLength}.", "zeroPoint");
        if (n == 0) return;
        long last = (long)(outer - 1) * so + (long)((axis - 1) / block) * sa + (long)(inner - 1) * si;
        if (last >= scaleLength) throw new ArgumentException($"{kernel}: parameter index {last} falls outside the scale ({scaleLength} elements).", "scale");
    }
}
