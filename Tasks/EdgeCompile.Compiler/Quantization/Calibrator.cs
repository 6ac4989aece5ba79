using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.IR;
using EdgeCompile.Compiler.Reference;

namespace EdgeCompile.Compiler.Quantization;

/// <summary>
/// What calibration learned about one tensor over the whole calibration set: the finite min/max, how many
/// values were exactly 0 and how many were NaN/±Inf (left out of everything else), and a histogram of |x|
/// with <see cref="Histogram"/>.Length equal bins over [0, <see cref="AbsMax"/>] (bin b holds
/// b·w ≤ |x| &lt; (b+1)·w, w = AbsMax / bins; |x| = AbsMax goes to the last bin; with AbsMax = 0 everything is
/// in bin 0). Counts are integers, so merging is exact and order-independent.
/// </summary>
public sealed class TensorStatistics
{
    public required string Name { get; init; }
    public double Min { get; init; }
    public double Max { get; init; }
    public double AbsMax => Math.Max(Math.Abs(Min), Math.Abs(Max));
    /// <summary>Finite values seen.</summary>
    public long Count { get; init; }
    public long ZeroCount { get; init; }
    public long NonFiniteCount { get; init; }
    public required long[] Histogram { get; init; }
    public double BinWidth => AbsMax / Histogram.Length;
}

/// <summary>Statistics per tensor plus the warnings calibration raised.</summary>
public sealed class CalibrationResult
{
    public required IReadOnlyDictionary<string, TensorStatistics> Tensors { get; init; }
    public required IReadOnlyList<QuantWarning> Warnings { get; init; }
    public int SampleCount { get; init; }
}

/// <summary>
/// Runs the float reference executor over the calibration set and collects <see cref="TensorStatistics"/>
/// for the tensors that will be quantized. Two passes: the first finds each tensor's min/max, the second
/// histograms |x| over the range the first fixed. Samples are split into fixed chunks (their size depends only
/// on the sample count); chunks run in parallel (<see cref="QuantizationOptions.MaxDegreeOfParallelism"/>), each
/// accumulating its samples in order, and chunk results are merged in chunk order. Only exact operations (min,
/// max, integer counts) are merged, so the result is bit-identical for any degree of parallelism.
/// </summary>
public static class Calibrator
{
    /// <summary>
    /// Tensors quantized by default: every float value that is a fed graph input or a node output, except the
    /// values a pre-quantized model already quantizes (inputs of QuantizeLinear, outputs of DequantizeLinear),
    /// which keep their scales. Types come from shape inference; values of unknown type are included and
    /// filtered at run time (only float tensors are recorded).
    /// </summary>
    public static IReadOnlySet<string> DefaultTensors(Model model)
    {
        var g = model.Graph;
        var set = new SortedSet<string>(StringComparer.Ordinal);
        bool IsFloat(string v) => g.TypeOf(v) is not { } t || t.ElemType == DataType.Float;
        foreach (var i in CalibrationData.FeedInputs(model)) if (IsFloat(i.Name)) set.Add(i.Name);
        foreach (var n in g.Nodes)
        {
            if (n.Domain.Length == 0 && n.OpType is "DequantizeLinear" or "QuantizeLinear") continue;
            foreach (var o in n.Outputs) if (o.Length > 0 && IsFloat(o)) set.Add(o);
        }
        var quantizedByModel = new HashSet<string>(StringComparer.Ordinal);
        foreach (var n in g.Nodes)
            if (n.Domain.Length == 0 && n.OpType == "QuantizeLinear") quantizedByModel.Add(n.Inputs[0]);
        set.ExceptWith(quantizedByModel);
        // A QDQ model has no Q/DQ between a Conv/Gemm/MatMul/Add/AveragePool and the Relu/Clip fused into it (the
        // activation's QuantizeLinear quantizes both): that value is already quantized too.
        if (quantizedByModel.Count > 0)
            foreach (var t in QdqExporter.FusedActivationInputs(model, quantizedByModel.ToDictionary(v => v, _ => default(QuantParam), StringComparer.Ordinal)))
                set.Remove(t);
        return set;
    }

    /// <summary>Chunk size for <paramref name="samples"/> samples: a function of the count only (never of the thread count).</summary>
    public static int ChunkSize(int samples) => Math.Max(4, (samples + 63) / 64);

    public static CalibrationResult Run(Model model, CalibrationData data, QuantizationOptions? options = null, IReadOnlySet<string>? tensors = null)
    {
        options ??= new QuantizationOptions();
        options.Validate();
        tensors ??= DefaultTensors(model);
        var executor = new ReferenceExecutor(model);
        int n = data.SampleCount, chunk = ChunkSize(n), chunks = (n + chunk - 1) / chunk;
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = options.MaxDegreeOfParallelism };

        // Pass 1: finite min / max / counts.
        var ranges = new Dictionary<string, RangeAcc>[chunks];
        Parallel.For(0, chunks, parallel, c =>
        {
            var acc = new Dictionary<string, RangeAcc>(StringComparer.Ordinal);
            for (int s = c * chunk; s < Math.Min(n, (c + 1) * chunk); s++)
                Observe(executor, data.Sample(s), tensors, (name, v) =>
                {
                    if (!acc.TryGetValue(name, out var a)) acc[name] = a = new RangeAcc();
                    a.Add(v);
                });
            ranges[c] = acc;
        });
        var total = new Dictionary<string, RangeAcc>(StringComparer.Ordinal);
        foreach (var acc in ranges)
            foreach (var (name, a) in acc)
            {
                if (!total.TryGetValue(name, out var t)) total[name] = t = new RangeAcc();
                t.Merge(a);
            }

        // Pass 2: histograms of |x| over [0, absmax].
        int bins = options.Bins;
        var absMax = total.ToDictionary(p => p.Key, p => p.Value.Count == 0 ? 0.0 : Math.Max(Math.Abs(p.Value.Min), Math.Abs(p.Value.Max)), StringComparer.Ordinal);
        var hists = new Dictionary<string, long[]>[chunks];
        Parallel.For(0, chunks, parallel, c =>
        {
            var acc = new Dictionary<string, long[]>(StringComparer.Ordinal);
            for (int s = c * chunk; s < Math.Min(n, (c + 1) * chunk); s++)
                Observe(executor, data.Sample(s), tensors, (name, v) =>
                {
                    if (!acc.TryGetValue(name, out var h)) acc[name] = h = new long[bins];
                    Histogram(v, absMax[name], h);
                });
            hists[c] = acc;
        });

        var warnings = new List<QuantWarning>(data.Warnings);
        var stats = new SortedDictionary<string, TensorStatistics>(StringComparer.Ordinal);
        foreach (var (name, r) in total.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            var h = new long[bins];
            foreach (var acc in hists)
                if (acc.TryGetValue(name, out var part))
                    for (int b = 0; b < bins; b++) h[b] += part[b];
            if (r.NonFinite > 0)
                warnings.Add(new QuantWarning(EdgeCodes.DegenerateRange, $"{r.NonFinite} NaN/Inf value(s) during calibration were left out of the tensor's range.", name));
            stats[name] = new TensorStatistics
            {
                Name = name,
                Min = r.Count == 0 ? 0 : r.Min,
                Max = r.Count == 0 ? 0 : r.Max,
                Count = r.Count,
                ZeroCount = r.Zeros,
                NonFiniteCount = r.NonFinite,
                Histogram = h,
            };
        }
        return new CalibrationResult { Tensors = stats, Warnings = warnings, SampleCount = n };
    }

    private static void Observe(ReferenceExecutor executor, Dictionary<string, Tensor> inputs, IReadOnlySet<string> tensors, Action<string, float[]> record)
    {
        foreach (var (name, t) in inputs)
            if (tensors.Contains(name) && t.DataType == DataType.Float) record(name, t.As<float>());
        executor.Run(inputs, (_, name, t) =>
        {
            if (tensors.Contains(name) && t.DataType == DataType.Float) record(name, t.As<float>());
        });
    }

    /// <summary>Adds |v| of every finite element to histogram <paramref name="h"/> over [0, <paramref name="absMax"/>].</summary>
    internal static void Histogram(float[] v, double absMax, long[] h)
    {
        int bins = h.Length;
        double perUnit = absMax > 0 ? bins / absMax : 0;
        foreach (float x in v)
        {
            if (!float.IsFinite(x)) continue;
            double b = Math.Abs((double)x) * perUnit;
            h[b >= bins ? bins - 1 : (int)b]++;
        }
    }

    private sealed class RangeAcc
    {
        public double Min = double.PositiveInfinity, Max = double.NegativeInfinity;
        public long Count, Zeros, NonFinite;

        public void Add(float[] v)
        {
            foreach (float x in v)
            {
                if (!float.IsFinite(x)) { NonFinite++; continue; }
                Count++;
                if (x == 0) Zeros++;
                if (x < Min) Min = x;
                if (x > Max) Max = x;
            }
        }

        public void Merge(RangeAcc o)
        {
            Min = Math.Min(Min, o.Min); Max = Math.Max(Max, o.Max);
            Count += o.Count; Zeros += o.Zeros; NonFinite += o.NonFinite;
        }
    }
}
