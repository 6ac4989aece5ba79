namespace EdgeCompile.Kernels;

public static partial class Normalization
{
    /// <summary>
    /// Softmax / LogSoftmax of float64 data over the middle axis of x viewed as [outer, axis, inner] (scalar, System.Math):
    /// the lane maximum is subtracted before exp, as the reference executor and the float32 kernel do.
    /// </summary>
    public static void Softmax(ReadOnlySpan<double> x, Span<double> y, int outer, int axis, int inner, bool log)
    {
        if (outer < 0 || axis < 0 || inner < 0) throw new ArgumentException("Softmax: negative size.", nameof(axis));
        long count = (long)outer * axis * inner;
        if (x.Length != count) throw new ArgumentException($"Softmax: x has {x.Length} elements, expected {count}.", nameof(x));
        if (y.Length != count) throw new ArgumentException($"Softmax: y has {y.Length} elements, expected {count}.", nameof(y));
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                int at = o * axis * inner + i;
                double m = double.NegativeInfinity;
                for (int k = 0; k < axis; k++) m = Math.Max(m, x[at + k * inner]);
                double sum = 0;
                for (int k = 0; k < axis; k++) sum += Math.Exp(x[at + k * inner] - m);
                double logSum = Math.Log(sum);
                for (int k = 0; k < axis; k++)
                {
                    double v = x[at + k * inner];
                    y[at + k * inner] = log ? v - m - logSum : Math.Exp(v - m) / sum;
                }
            }
    }
}
