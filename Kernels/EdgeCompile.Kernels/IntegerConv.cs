using System.Numerics;

namespace EdgeCompile.Kernels;

/// <summary>
/// ONNX ConvInteger and QLinearConv on float models' int8/uint8 tensors with arbitrary zero points: direct scalar
/// reference kernels over [N, C, spatial...] (spatial rank 1..8, groups, strides, dilations, begin pads; the fast
/// int8 path is Int8/QConv, for the compiler's own quantization scheme). w is [M, C/group, kernel...] (ONNX layout).
/// Positions outside x read x's zero point (they contribute 0). xZero has one element (or none: 0); wZero has one
/// element, one per output channel (M), or none. Products are summed exactly (64-bit).
/// Type arguments are explicit in the plan: TX, TW ∈ {byte, sbyte}.
/// </summary>
public static class IntegerConv
{
    /// <summary>ConvInteger: y[n, m, o...] = Σ (x - xZero)(w - wZero[m]), wrapped to int32.</summary>
    public static void Run<TX, TW>(ReadOnlySpan<TX> x, ReadOnlySpan<TX> xZero, ReadOnlySpan<TW> w, ReadOnlySpan<TW> wZero, Span<int> y,
        int n, int c, int m, int group, ReadOnlySpan<int> inSpatial, ReadOnlySpan<int> outSpatial, ReadOnlySpan<int> kernel,
        ReadOnlySpan<int> strides, ReadOnlySpan<int> padsBegin, ReadOnlySpan<int> dilations)
        where TX : unmanaged, IBinaryInteger<TX> where TW : unmanaged, IBinaryInteger<TW>
    {
        var g = Check("IntegerConv.Run", x.Length, xZero.Length, w.Length, wZero.Length, y.Length, n, c, m, group, inSpatial, outSpatial, kernel, strides, padsBegin, dilations);
        Span<int> o = stackalloc int[Data.MaxRank];
        for (int b = 0; b < n; b++)
            for (int oc = 0; oc < m; oc++)
                for (int s = 0; s < g.OutCount; s++)
                    y[(b * m + oc) * g.OutCount + s] = unchecked((int)Dot(x, xZero, w, wZero, b, oc, s, c, m, group, g, inSpatial, outSpatial, kernel, strides, padsBegin, dilations, o));
    }

    /// <summary>
    /// QLinearConv: y = saturate(round_half_even(acc · xScale · wScale[m] / yScale) + yZero) with acc = Σ (x - xZero)(w - wZero[m]) + bias[m]
    /// (bias int32, empty = none; the scale product in double, as the reference executor). xScale, yScale, yZero: one
    /// element; wScale: one or M.
    /// </summary>
    public static void QLinear<TX, TW, TY, TS>(ReadOnlySpan<TX> x, ReadOnlySpan<TS> xScale, ReadOnlySpan<TX> xZero,
        ReadOnlySpan<TW> w, ReadOnlySpan<TS> wScale, ReadOnlySpan<TW> wZero, ReadOnlySpan<TS> yScale, ReadOnlySpan<TY> yZero,
        ReadOnlySpan<int> bias, Span<TY> y,
        int n, int c, int m, int group, ReadOnlySpan<int> inSpatial, ReadOnlySpan<int> outSpatial, ReadOnlySpan<int> kernel,
        ReadOnlySpan<int> strides, ReadOnlySpan<int> padsBegin, ReadOnlySpan<int> dilations)
        where TX : unmanaged, IBinaryInteger<TX> where TW : unmanaged, IBinaryInteger<TW>
        where TY : unmanaged, IBinaryInteger<TY>, IMinMaxValue<TY> where TS : unmanaged
    {
        var g = Check("IntegerConv.QLinear", x.Length, xZero.Length, w.Length, wZero.Length, y.Length, n, c, m, group, inSpatial, outSpatial, kernel, strides, padsBegin, dilations);
        if (xScale.Length != 1) throw new ArgumentException("IntegerConv.QLinear: xScale must have one element.", nameof(xScale));
        if (wScale.Length != 1 && wScale.Length != m) throw new ArgumentException($"IntegerConv.QLinear: wScale has {wScale.Length} elements, expected 1 or {m}.", nameof(wScale));
        if (yScale.Length != 1) throw new ArgumentException("IntegerConv.QLinear: yScale must have one element.", nameof(yScale));
        if (yZero.Length != 1) throw new ArgumentException("IntegerConv.QLinear: yZero must have one element.", nameof(yZero));
        if (!bias.IsEmpty && bias.Length != m) throw new ArgumentException($"IntegerConv.QLinear: bias has {bias.Length} elements, expected 0 or {m}.", nameof(bias));
        double sx = Scales.ToDouble(xScale[0]), sy = Scales.ToDouble(yScale[0]);
        double zy = long.CreateTruncating(yZero[0]);
        Span<int> o = stackalloc int[Data.MaxRank];
        for (int b = 0; b < n; b++)
            for (int oc = 0; oc < m; oc++)
            {
                double scale = sx * Scales.ToDouble(wScale[wScale.Length == 1 ? 0 : oc]);
                long bv = bias.IsEmpty ? 0 : bias[oc];
                for (int s = 0; s < g.OutCount; s++)
                {
                    long acc = bv + Dot(x, xZero, w, wZero, b, oc, s, c, m, group, g, inSpatial, outSpatial, kernel, strides, padsBegin, dilations, o);
                    y[(b * m + oc) * g.OutCount + s] = Scales.Saturate<TY>(Math.Round(acc * scale / sy, MidpointRounding.ToEven) + zy);
                }
            }
    }

    private readonly record struct Geometry(int InCount, int OutCount, int KernelCount);

    /// <summary>The sum for output element s (flat over outSpatial) of channel oc in image b.</summary>
    private static long Dot<TX, TW>(ReadOnlySpan<TX> x, ReadOnlySpan<TX> xZero, ReadOnlySpan<TW> w, ReadOnlySpan<TW> wZero,
        int b, int oc, int s, int c, int m, int group, Geometry g, ReadOnlySpan<int> inSpatial, ReadOnlySpan<int> outSpatial, ReadOnlySpan<int> kernel,
        ReadOnlySpan<int> strides, ReadOnlySpan<int> padsBegin, ReadOnlySpan<int> dilations, Span<int> o)
        where TX : unmanaged, IBinaryInteger<TX> where TW : unmanaged, IBinaryInteger<TW>
    {
        int rank = inSpatial.Length;
        for (int d = rank - 1, rest = s; d >= 0; d--) { o[d] = rest % outSpatial[d]; rest /= outSpatial[d]; }
        long zx = xZero.IsEmpty ? 0 : long.CreateTruncating(xZero[0]);
        long zw = wZero.IsEmpty ? 0 : long.CreateTruncating(wZero[wZero.Length == 1 ? 0 : oc]);
        int cg = c / group, grp = oc / (m / group);
        long acc = 0;
        for (int ic = 0; ic < cg; ic++)
        {
            int xBase = (b * c + grp * cg + ic) * g.InCount;
            int wBase = (oc * cg + ic) * g.KernelCount;
            for (int kk = 0; kk < g.KernelCount; kk++)
            {
                int at = 0;
                bool inside = true;
                for (int d = rank - 1, rest = kk, stride = 1; d >= 0; d--)
                {
                    int kd = rest % kernel[d];
                    rest /= kernel[d];
                    int pos = o[d] * strides[d] + kd * dilations[d] - padsBegin[d];
                    if ((uint)pos >= (uint)inSpatial[d]) { inside = false; break; }
                    at += pos * stride;
                    stride *= inSpatial[d];
                }
                if (!inside) continue;
                acc += (long.CreateTruncating(x[xBase + at]) - zx) * (long.CreateTruncating(w[wBase + kk]) - zw);
            }
        }
        return acc;
    }

    private static Geometry Check(string kernelName, int xLength, int xZeroLength, int wLength, int wZeroLength, int yLength,
        int n, int c, int m, int group, ReadOnlySpan<int> inSpatial, ReadOnlySpan<int> outSpatial, ReadOnlySpan<int> kernel,
        ReadOnlySpan<int> strides, ReadOnlySpan<int> padsBegin, ReadOnlySpan<int> dilations)
    {
        int rank = inSpatial.Length;
        if (rank < 1 || rank > Data.MaxRank || outSpatial.Length != rank || kernel.Length != rank || strides.Length != rank || padsBegin.Length != rank || dilations.Length != rank)
            throw new ArgumentException($"{kernelName}: every geometry span needs the spatial rank (1..{Data.MaxRank}).", nameof(inSpatial));
        if (n < 0 || c < 1 || m < 1 || group < 1 || c % group != 0 || m % group != 0)
            throw new ArgumentException($"{kernelName}: n={n}, c={c}, m={m}, group={group} is not a valid grouping.", nameof(group));
        long inCount = 1, outCount = 1, kCount = 1;
        for (int d = 0; d < rank; d++)
        {
            if (inSpatial[d] < 1 || outSpatial[d] < 0 || kernel[d] < 1 || strides[d] < 1 || dilations[d] < 1 || padsBegin[d] < 0)
                throw new ArgumentException($"{kernelName}: invalid geometry at spatial axis {d}.", nameof(inSpatial));
            inCount *= inSpatial[d]; outCount *= outSpatial[d]; kCount *= kernel[d];
        }
        if (xLength != n * c * inCount) throw new ArgumentException($"{kernelName}: x has {xLength} elements, expected {n * c * inCount}.", "x");
        if (wLength != m * (c / group) * kCount) throw new ArgumentException($"{kernelName}: w has {wLength} elements, expected {m * (c / group) * kCount}.", "w");
        if (yLength != n * m * outCount) throw new ArgumentException($"{kernelName}: y has {yLength} elements, expected {n * m * outCount}.", "y");
        if (xZeroLength > 1) throw new ArgumentException($"{kernelName}: xZero has {xZeroLength} elements, expected 0 or 1.", "xZero");
        if (wZeroLength is not (0 or 1) && wZeroLength != m) throw new ArgumentException($"{kernelName}: wZero has {wZeroLength} elements, expected 0, 1 or {m}.", "wZero");
        return new Geometry((int)inCount, (int)outCount, (int)kCount);
    }
}
