using System.Globalization;
using System.Text;
using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.IR;
using EdgeCompile.Compiler.Quantization;
using EdgeCompile.Compiler.Reference;

namespace EdgeCompile.Compiler.Lowering.Int8;

/// <summary>Error of one int8 tensor against the float reference, over the evaluation set.</summary>
public sealed record LayerError(string Node, string OpType, string Value, float Scale, int ZeroPoint, double MaxAbsError, double MeanAbsErrorSteps, double SqnrDb);

/// <summary>Build-time top-1 of the float model (reference executor) and of the int8 plan (real kernels).</summary>
public sealed record AccuracyReport(string DataSet, int Samples, bool HasLabels, int FloatCorrect, int Int8Correct, int Agree, IReadOnlyList<LayerError> Layers)
{
    public double FloatTop1 => 100.0 * FloatCorrect / Samples;
    public double Int8Top1 => 100.0 * Int8Correct / Samples;
    /// <summary>Top-1 lost by int8, in percentage points.</summary>
    public double Drop => FloatTop1 - Int8Top1;

    public string Summary() => string.Create(CultureInfo.InvariantCulture,
        $"top-1 on {DataSet} ({Samples} samples{(HasLabels ? "" : ", no labels: the float predictions are the labels")}): float {FloatTop1:F2}% ({FloatCorrect}/{Samples}), int8 {Int8Top1:F2}% ({Int8Correct}/{Samples}), drop {Drop:F2} points; predictions agree on {Agree}/{Samples}");

    public string LayerTable()
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine("| Node | Op | Tensor | Scale | Zero point | Max abs error | Mean abs error (steps) | SQNR (dB) |");
        sb.AppendLine("|---|---|---|---:|---:|---:|---:|---:|");
        foreach (var l in Layers)
            sb.AppendLine(string.Create(inv, $"| {l.Node} | {l.OpType} | {l.Value} | {l.Scale:G6} | {l.ZeroPoint} | {l.MaxAbsError:G4} | {l.MeanAbsErrorSteps:F3} | {l.SqnrDb:F1} |"));
        return sb.ToString();
    }

    public string Markdown() => "## Int8 accuracy (build time, real kernels)\n\n" + Summary() + "\n\n" + LayerTable();
}

/// <summary>
/// Evaluates an int8 plan at build time: the float reference executor and <see cref="PlanInterpreter"/> (the real
/// kernels over the plan's arena and weights) over the same samples; top-1 of the first output and, per int8 tensor,
/// the error of its dequantized value against the float reference.
/// </summary>
public static class Int8Accuracy
{
    public static AccuracyReport Evaluate(Model model, Int8Lowering lowering, CalibrationData data, long[]? labels, string dataSetName)
    {
        var compiled = lowering.Compiled;
        if (labels is not null && labels.Length != data.SampleCount)
            throw new EdgeException(EdgeCodes.CalibrationDataMismatch, $"ValidationLabels has {labels.Length} labels for {data.SampleCount} samples.");
        var reference = new ReferenceExecutor(model);
        var interpreter = new PlanInterpreter(compiled);
        var probes = lowering.Probes;
        var byValue = probes.ToDictionary(p => p.Value, p => p, StringComparer.Ordinal);
        var probeAt = probes.GroupBy(p => p.CallIndex).ToDictionary(g => g.Key, g => g.ToList());
        int np = probes.Count;
        var maxAbs = new double[np]; var sumSteps = new double[np]; var sumSig = new double[np]; var sumErr = new double[np]; var counts = new long[np];
        var probeIndex = probes.Select((p, i) => (p, i)).ToDictionary(t => t.p, t => t.i);
        string outName = model.Graph.Outputs[0].Name;
        int floatCorrect = 0, int8Correct = 0, agree = 0;
        var outputs = compiled.Outputs.Select(p => Array.CreateInstance(ClrType(p.Type), checked((int)Shapes.Product(p.Shape)))).ToArray();

        for (int s = 0; s < data.SampleCount; s++)
        {
            var sample = data.Sample(s);
            var observed = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            var r = reference.Run(sample, (node, name, t) => { if (byValue.ContainsKey(name)) observed[name] = t; });
            var inputs = compiled.Inputs.Select(p => sample[p.OnnxName].Data).ToArray();
            interpreter.Run(inputs, outputs, ci =>
            {
                if (!probeAt.TryGetValue(ci, out var ps)) return;
                foreach (var p in ps)
                {
                    if (!observed.TryGetValue(p.Value, out var refT) || refT.DataType != DataType.Float) continue;
                    var buf = compiled.Calls[ci].Buffers[Array.FindIndex(compiled.Calls[ci].Call.Args.ToArray(), a => a is CallArg.Value { Write: true } v && v.Name == p.QuantizedValue)];
                    if (buf is null) continue;
                    var q = interpreter.Bytes(buf, inputs, outputs);
                    var f = refT.As<float>();
                    if (q.Length != f.Length) continue;
                    int k = probeIndex[p];
                    for (int i = 0; i < f.Length; i++)
                    {
                        double deq = (q[i] - p.Param.ZeroPoint) * (double)p.Param.Scale;
                        double e = Math.Abs(deq - f[i]);
                        maxAbs[k] = Math.Max(maxAbs[k], e);
                        sumSteps[k] += e / p.Param.Scale;
                        sumErr[k] += e * e;
                        sumSig[k] += (double)f[i] * f[i];
                        counts[k]++;
                    }
                }
            });
            int fp = ArgMax(r[outName].As<float>());
            int qp = ArgMax((float[])outputs[0]);
            long label = labels is null ? fp : labels[s];
            if (fp == label) floatCorrect++;
            if (qp == label) int8Correct++;
            if (fp == qp) agree++;
        }
        var layers = probes.Select((p, k) => new LayerError(p.Node, p.OpType, p.Value, p.Param.Scale, p.Param.ZeroPoint, maxAbs[k],
            counts[k] == 0 ? 0 : sumSteps[k] / counts[k], sumErr[k] == 0 ? double.PositiveInfinity : 10 * Math.Log10(sumSig[k] / sumErr[k]))).ToList();
        return new AccuracyReport(dataSetName, data.SampleCount, labels is not null, floatCorrect, int8Correct, agree, layers);
    }

    private static int ArgMax(ReadOnlySpan<float> v)
    {
        int best = 0;
        for (int k = 1; k < v.Length; k++) if (v[k] > v[best]) best = k;
        return best;
    }

    private static Type ClrType(DataType t) => t switch
    {
        DataType.Float => typeof(float), DataType.UInt8 => typeof(byte), DataType.Int8 => typeof(sbyte),
        DataType.Int32 => typeof(int), DataType.Int64 => typeof(long),
        _ => throw new NotSupportedException($"{t} output"),
    };
}
