using EdgeCompile.Compiler;
using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.IR;
using EdgeCompile.Compiler.Quantization;
using EdgeCompile.Tests.Support;

namespace EdgeCompile.Tests.Quantization;

public class CalibratorTests
{
    internal static string DigitsDir => Path.Combine(TestPaths.RepoRoot, "Samples", "DigitRecognizer", "model");

    [Fact]
    public void ResultsDoNotDependOnTheDegreeOfParallelism()
    {
        foreach (var method in Enum.GetValues<CalibrationMethod>())
        {
            string? first = null;
            foreach (int dop in new[] { 1, 2 })
            {
                using var model = FrontEnd.Load(Path.Combine(DigitsDir, "digits.onnx"));
                var data = CalibrationData.Load(Path.Combine(DigitsDir, "digits_calib_x.npy"), model);
                var r = PostTrainingQuantizer.Quantize(model, data, new QuantizationOptions { Method = method, MaxDegreeOfParallelism = dop });
                var bytes = Convert.ToHexString(Compiler.Onnx.OnnxWriter.Write(r.QdqModel));
                var stats = string.Join(";", r.Calibration!.Tensors.Values.Select(s => $"{s.Name}:{s.Min:R}:{s.Max:R}:{s.Count}:{string.Join(",", s.Histogram)}"));
                string all = bytes + "|" + stats + "|" + string.Join(";", r.Activations.Select(a => $"{a.Key}:{BitConverter.SingleToInt32Bits(a.Value.Scale)}:{a.Value.ZeroPoint}"));
                if (first is null) first = all;
                else Assert.True(first == all, $"{method}: MaxDegreeOfParallelism 1 and 2 differ");
            }
        }
    }

    private static TensorStatistics Stats(float[] values, int bins = 2048)
    {
        double min = values.Min(), max = values.Max();
        var h = new long[bins];
        Calibrator.Histogram(values, Math.Max(Math.Abs(min), Math.Abs(max)), h);
        return new TensorStatistics { Name = "t", Min = min, Max = max, Count = values.Length, ZeroCount = values.Count(v => v == 0), Histogram = h };
    }

    [Fact]
    public void EstimatorsClipOutliersButMinMaxDoesNot()
    {
        var rng = new Random(5);
        // ReLU-like: many zeros, a half-normal body and one far outlier.
        var v = Enumerable.Range(0, 20000).Select(_ => (float)Math.Max(0, Normal(rng))).Append(40f).ToArray();
        var s = Stats(v);
        Assert.Equal((0.0, 40.0), RangeEstimators.Estimate(s, CalibrationMethod.MinMax));
        foreach (var m in new[] { CalibrationMethod.Percentile, CalibrationMethod.Entropy })
        {
            var (lo, hi) = RangeEstimators.Estimate(s, m);
            Assert.Equal(0.0, lo);
            Assert.True(hi >= 2.0 && hi <= 10.0, $"{m}: {hi}");
        }
        // Mse weighs clipping against rounding: one value at 40 costs more clipped than 20000 values' rounding noise...
        Assert.True(RangeEstimators.Estimate(s, CalibrationMethod.Mse).Max > 35);
        // ...but a long tail of many values is clipped.
        var e = Enumerable.Range(0, 200000).Select(_ => (float)-Math.Log(1 - rng.NextDouble())).ToArray();
        var es = Stats(e);
        var mse = RangeEstimators.Estimate(es, CalibrationMethod.Mse).Max;
        Assert.True(mse > 3 && mse < 0.9 * es.Max, $"Mse {mse}, max {es.Max}");
        // Two-sided: both tails clipped at the same magnitude.
        var w = Enumerable.Range(0, 20000).Select(_ => (float)Normal(rng)).Append(-30f).Append(25f).ToArray();
        var (a, b) = RangeEstimators.Estimate(Stats(w), CalibrationMethod.Percentile, 99.9);
        Assert.Equal(-a, b, 6);
        Assert.InRange(b, 2.5, 4.5);
    }

    private static double Normal(Random r) => Math.Sqrt(-2 * Math.Log(1 - r.NextDouble())) * Math.Cos(2 * Math.PI * r.NextDouble());

    [Fact]
    public void ZeroAndNonFiniteRangesNeverDivideByZero()
    {
        var warnings = new List<QuantWarning>();
        var zero = Stats(new float[100]);
        foreach (var m in Enum.GetValues<CalibrationMethod>())
        {
            var (lo, hi) = RangeEstimators.Estimate(zero, m);
            var p = QuantParams.Asymmetric(lo, hi, ActivationType.UInt8, "z", warnings);
            Assert.Equal(new QuantParam(1f, 0, DataType.UInt8), p);
        }
        Assert.All(warnings, w => Assert.Equal(EdgeCodes.DegenerateRange, w.Code));
        Assert.Equal(4, warnings.Count);
        Assert.Equal(1f, QuantParams.Asymmetric(double.NaN, 1, ActivationType.Int8, "n", warnings).Scale);
        Assert.Equal(1f, QuantParams.Asymmetric(1e-45, 1e-45, ActivationType.Int8, "tiny", warnings).Scale);
        // A constant non-zero tensor has a range (0 is always included).
        var c = QuantParams.Asymmetric(3, 3, ActivationType.UInt8);
        Assert.Equal(3f / 255, c.Scale);
        Assert.Equal(0, c.ZeroPoint);
        var neg = QuantParams.Asymmetric(-2, -2, ActivationType.Int8);
        Assert.Equal(127, neg.ZeroPoint);
        // Weights: an all-zero channel gets scale 1; quantized values stay in [-127, 127].
        var wp = QuantParams.PerChannel([0, 0, 1, -2, 0.5f, 4], [3, 2], 0);
        Assert.Equal(new[] { 1f, 2f / 127, 4f / 127 }, wp.Scales);
        Assert.Equal(new sbyte[] { 0, 0, 64, -127, 16, 127 }, QuantParams.QuantizeWeights([0, 0, 1, -2, 0.5f, 4], [3, 2], wp));
    }

    [Fact]
    public void AsymmetricParamsAreQuantizeLinearCompatible()
    {
        var p = QuantParams.Asymmetric(-1, 3, ActivationType.UInt8);
        Assert.Equal(4f / 255, p.Scale);
        Assert.Equal(64, p.ZeroPoint); // round_half_even(0 + 1 / (4/255)) = round(63.75)
        var q = QuantParams.Asymmetric(-1, 3, ActivationType.Int8);
        Assert.Equal(-64, q.ZeroPoint);
        // Ties go to even, saturating like QuantizeLinear.
        Assert.Equal(2, QuantParams.Quantize(2.5, 1f, 0, -128, 127));
        Assert.Equal(-2, QuantParams.Quantize(-2.5, 1f, 0, -128, 127));
        Assert.Equal(127, QuantParams.Quantize(1e30, 1f, 0, -128, 127));
        Assert.Equal(0, QuantParams.Quantize(-1e30, 1f, 3, 0, 255));
    }

    [Fact]
    public void BiasThatWouldOverflowInt32RaisesTheWeightScale()
    {
        var wp = QuantParams.PerChannel([1e-9f, 1e-9f], [2, 1], 0, bias: [1000f, 0f], inputScale: 1e-3f);
        var q = QuantParams.QuantizeBias([1000f, 0f], 1e-3f, wp);
        Assert.True(q[0] < int.MaxValue);
        Assert.Equal(1e-9f / 127, wp.Scales[1]);
    }

    [Fact]
    public void TensorsProducingNaNAreWarnedAndLeftOut()
    {
        var b = new GraphBuilder();
        var x = b.Input("x", DataType.Float, 1, 2);
        var l = b.Node1("Log", x); // log(0) = -inf, log(-1) = NaN
        b.Output(l, DataType.Float, [1, 2]);
        using var model = b.Build();
        var arrays = new List<KeyValuePair<string, Tensor>> { new("x", Tensor.FromArray(Enumerable.Range(0, 40).Select(i => (float)(i % 4 - 1)).ToArray(), 20, 2)) };
        var data = CalibrationData.FromArrays(arrays, model);
        var r = Calibrator.Run(model, data);
        Assert.Equal(20, r.Tensors[l].NonFiniteCount);
        Assert.Contains(r.Warnings, w => w.Code == EdgeCodes.DegenerateRange && w.Tensor == l);
        Assert.Equal(Math.Log(2), r.Tensors[l].Max, 6);
    }
}
