namespace EdgeCompile.Compiler.Quantization;

/// <summary>
/// Turns a tensor's <see cref="TensorStatistics"/> into the clipping range [min, max] its quantization covers.
/// Every method picks a threshold T on |x| from the histogram and clips the observed range to it:
/// range = [max(Min, −T), min(Max, T)]. For a one-sided tensor (after ReLU: Min ≥ 0) that is [0, T]; for a
/// two-sided one it clips both tails at the same magnitude (as TensorRT does).
/// <list type="bullet">
/// <item><b>MinMax</b>: T = max |x| (no clipping).</item>
/// <item><b>Percentile</b>: T = the p-th percentile of |x| (linear inside the bin), p = 99.99 by default.</item>
/// <item><b>Entropy</b>: TensorRT's KL-divergence search: for each candidate of i bins (i from the number of
/// quantization levels to all bins), P = the first i bins with everything beyond folded into bin i−1, Q = the
/// first i bins merged into L levels (256 for a one-sided tensor, 128 per side for a two-sided one) and
/// expanded back over P's non-empty bins; T = i·w for the i minimizing KL(P‖Q).</item>
/// <item><b>Mse</b>: the T (a bin edge) minimizing the expected squared error: Σ over clipped bins of
/// count·(center − T)² plus, for every non-zero unclipped value, the rounding noise step²/12 with
/// step = (range(T)) / (levels − 1). Exact zeros cost nothing (zero is always representable).</item>
/// </list>
/// All are deterministic functions of the integer histogram.
/// </summary>
public static class RangeEstimators
{
    public static (double Min, double Max) Estimate(TensorStatistics s, CalibrationMethod method, double percentile = 99.99, int levels = 256)
    {
        if (s.Count == 0 || s.AbsMax == 0) return (Math.Min(s.Min, 0), Math.Max(s.Max, 0));
        double t = method switch
        {
            CalibrationMethod.MinMax => s.AbsMax,
            CalibrationMethod.Percentile => PercentileThreshold(s, percentile),
            CalibrationMethod.Entropy => EntropyThreshold(s, levels),
            CalibrationMethod.Mse => MseThreshold(s, levels),
            _ => throw new ArgumentOutOfRangeException(nameof(method)),
        };
        t = Math.Min(t, s.AbsMax);
        return (Math.Max(s.Min, -t), Math.Min(s.Max, t));
    }

    public static double PercentileThreshold(TensorStatistics s, double percentile)
    {
        if (percentile >= 100) return s.AbsMax;
        var h = s.Histogram;
        double target = percentile / 100 * s.Count, cum = 0;
        for (int b = 0; b < h.Length; b++)
        {
            if (h[b] > 0 && cum + h[b] >= target)
                return (b + (target - cum) / h[b]) * s.BinWidth;
            cum += h[b];
        }
        return s.AbsMax;
    }

    private static bool OneSided(TensorStatistics s) => s.Min >= 0 || s.Max <= 0;

    public static double EntropyThreshold(TensorStatistics s, int levels = 256)
    {
        var h = s.Histogram;
        int bins = h.Length;
        int nq = Math.Min(OneSided(s) ? levels : levels / 2, bins);
        var suffix = new long[bins + 1];
        for (int b = bins - 1; b >= 0; b--) suffix[b] = suffix[b + 1] + h[b];
        double best = double.PositiveInfinity;
        int bestI = bins;
        var p = new double[bins];
        var q = new double[bins];
        for (int i = nq; i <= bins; i++)
        {
            for (int b = 0; b < i; b++) p[b] = h[b];
            p[i - 1] += suffix[i];
            // Merge the first i bins (without the outliers) into nq levels, then spread each level evenly over its non-empty bins.
            int merged = i / nq;
            for (int j = 0; j < nq; j++)
            {
                int start = j * merged, stop = j == nq - 1 ? i : start + merged;
                double sum = 0; int nonzero = 0;
                for (int b = start; b < stop; b++) { sum += h[b]; if (p[b] != 0) nonzero++; }
                for (int b = start; b < stop; b++) q[b] = p[b] != 0 && nonzero > 0 ? sum / nonzero : 0;
            }
            double kl = Kl(p, q, i);
            if (kl < best) { best = kl; bestI = i; }
        }
        return bestI * s.BinWidth;
    }

    /// <summary>KL(P‖Q) over the first n entries, both normalized; Q smoothed where it is 0 and P is not.</summary>
    private static double Kl(double[] p, double[] q, int n)
    {
        double sp = 0, sq = 0;
        for (int b = 0; b < n; b++) { sp += p[b]; sq += q[b]; }
        if (sp == 0 || sq == 0) return double.PositiveInfinity;
        const double Eps = 1e-4;
        double kl = 0;
        for (int b = 0; b < n; b++)
        {
            if (p[b] == 0) continue;
            double pn = p[b] / sp, qn = q[b] / sq;
            if (qn <= 0) qn = Eps / sq;
            kl += pn * Math.Log(pn / qn);
        }
        return kl;
    }

    public static double MseThreshold(TensorStatistics s, int levels = 256)
    {
        var h = s.Histogram;
        int bins = h.Length;
        double w = s.BinWidth;
        // Suffix sums of count, count·center and count·center² give the clipping error of any threshold in O(1).
        var c0 = new double[bins + 1]; var c1 = new double[bins + 1]; var c2 = new double[bins + 1];
        for (int b = bins - 1; b >= 0; b--)
        {
            double x = (b + 0.5) * w;
            c0[b] = c0[b + 1] + h[b]; c1[b] = c1[b + 1] + h[b] * x; c2[b] = c2[b + 1] + h[b] * x * x;
        }
        double best = double.PositiveInfinity, bestT = s.AbsMax;
        for (int i = 1; i <= bins; i++)
        {
            double t = i * w;
            double clip = c2[i] - 2 * t * c1[i] + t * t * c0[i];
            double lo = Math.Min(Math.Max(s.Min, -t), 0), hi = Math.Max(Math.Min(s.Max, t), 0);
            double step = (hi - lo) / (levels - 1);
            double inRange = c0[0] - c0[i] - s.ZeroCount;
            double err = clip + Math.Max(inRange, 0) * step * step / 12;
            if (err < best) { best = err; bestT = t; }
        }
        return bestT;
    }
}
