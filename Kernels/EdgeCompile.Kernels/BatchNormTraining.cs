namespace EdgeCompile.Kernels;

/// <summary>
/// ONNX BatchNormalization with training_mode=1 (opset 14+): normalizes with the batch's own statistics per
/// channel (mean and biased variance over N and the spatial positions, two passes in double) and writes the
/// updated running statistics runningMean = inputMean · momentum + batchMean · (1 - momentum) (and likewise the
/// variance). x and y are [n, c, spatial]; the parameters have c elements. Allocation-free.
/// </summary>
public static class BatchNormTraining
{
    /// <summary>y = (x - batchMean) / sqrt(batchVar + epsilon) · scale + bias, and the running statistics.</summary>
    public static void Run(ReadOnlySpan<float> x, ReadOnlySpan<float> scale, ReadOnlySpan<float> bias, ReadOnlySpan<float> inputMean, ReadOnlySpan<float> inputVar,
        Span<float> y, Span<float> runningMean, Span<float> runningVar, int n, int c, int spatial, float epsilon, float momentum)
    {
        if (n < 0 || c < 1 || spatial < 0) throw new ArgumentException($"BatchNormTraining: invalid n={n}, c={c}, spatial={spatial}.", nameof(c));
        long count = (long)n * c * spatial;
        if (x.Length != count) throw new ArgumentException($"BatchNormTraining: x has {x.Length} elements, expected {count}.", nameof(x));
        if (y.Length != count) throw new ArgumentException($"BatchNormTraining: y has {y.Length} elements, expected {count}.", nameof(y));
        if (scale.Length != c || bias.Length != c || inputMean.Length != c || inputVar.Length != c || runningMean.Length != c || runningVar.Length != c)
            throw new ArgumentException($"BatchNormTraining: every parameter and statistic needs {c} elements.", nameof(scale));
        long perChannel = (long)n * spatial;
        for (int ch = 0; ch < c; ch++)
        {
            double sum = 0;
            for (int b = 0; b < n; b++)
            {
                var row = x.Slice((b * c + ch) * spatial, spatial);
                for (int s = 0; s < row.Length; s++) sum += row[s];
            }
            double mean = sum / perChannel;
            double squares = 0;
            for (int b = 0; b < n; b++)
            {
                var row = x.Slice((b * c + ch) * spatial, spatial);
                for (int s = 0; s < row.Length; s++) { double d = row[s] - mean; squares += d * d; }
            }
            double variance = squares / perChannel;
            double m = momentum;
            runningMean[ch] = (float)(inputMean[ch] * m + mean * (1 - m));
            runningVar[ch] = (float)(inputVar[ch] * m + variance * (1 - m));
            double invStd = 1.0 / Math.Sqrt(variance + epsilon);
            for (int b = 0; b < n; b++)
            {
                int at = (b * c + ch) * spatial;
                for (int s = 0; s < spatial; s++)
                    y[at + s] = (float)((x[at + s] - mean) * invStd * scale[ch] + bias[ch]);
            }
        }
    }
}
