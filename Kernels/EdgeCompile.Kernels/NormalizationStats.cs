namespace EdgeCompile.Kernels;

/// <summary>LayerNormalization with its Mean/InvStdDev outputs, and RMSNormalization.</summary>
public static partial class Normalization
{
    /// <summary>
    /// LayerNormalization over the last <paramref name="inner"/> elements of each of <paramref name="outer"/> rows, also
    /// writing each row's mean and 1/√(variance + ε) (either span may be empty: not written). Statistics in float64.
    /// </summary>
    /// <exception cref="ArgumentException">A span length does not match outer and inner.</exception>
    public static void LayerNormStats(ReadOnlySpan<float> x, ReadOnlySpan<float> scale, ReadOnlySpan<float> bias, Span<float> y,
        Span<float> mean, Span<float> invStdDev, int outer, int inner, float epsilon)
    {
        ValidateLayerNorm(x, scale, bias, y, outer, inner);
        if (!mean.IsEmpty && mean.Length != outer) throw new ArgumentException($"LayerNormStats: mean has {mean.Length} elements, expected 0 or outer = {outer}.", nameof(mean));
        if (!invStdDev.IsEmpty && invStdDev.Length != outer) throw new ArgumentException($"LayerNormStats: invStdDev has {invStdDev.Length} elements, expected 0 or outer = {outer}.", nameof(invStdDev));
        for (int o = 0; o < outer; o++)
        {
            var row = x.Slice(o * inner, inner);
            double m = 0, sq = 0;
            foreach (float v in row) m += v;
            m /= inner;
            foreach (float v in row) sq += (v - m) * (v - m);
            double variance = sq / inner;
            double inv = 1 / Math.Sqrt(variance + epsilon);
            var yr = y.Slice(o * inner, inner);
            for (int i = 0; i < inner; i++)
                yr[i] = (float)((row[i] - m) * inv * scale[i] + (bias.IsEmpty ? 0 : bias[i]));
            if (!mean.IsEmpty) mean[o] = (float)m;
            if (!invStdDev.IsEmpty) invStdDev[o] = (float)inv;
        }
    }

    /// <summary>RMSNormalization: y = x / √(mean(x²) + ε) · scale over rows of <paramref name="inner"/> elements (float64 statistics).</summary>
    /// <exception cref="ArgumentException">A span length does not match outer and inner.</exception>
    public static void RmsNorm(ReadOnlySpan<float> x, ReadOnlySpan<float> scale, Span<float> y, int outer, int inner, float epsilon)
    {
        ValidateLayerNorm(x, scale, ReadOnlySpan<float>.Empty, y, outer, inner);
        for (int o = 0; o < outer; o++)
        {
            var row = x.Slice(o * inner, inner);
            double sq = 0;
            foreach (float v in row) sq += (double)v * v;
            double inv = 1 / Math.Sqrt(sq / inner + epsilon);
            var yr = y.Slice(o * inner, inner);
            for (int i = 0; i < inner; i++) yr[i] = (float)(row[i] * inv * scale[i]);
        }
    }
}
