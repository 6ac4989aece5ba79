using System.Globalization;
using System.Text;
using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.IR;
using EdgeCompile.Compiler.Quantization;
using EdgeCompile.Compiler.Reference;

namespace EdgeCompile.Compiler.Lowering.Int8;

/// <summary>
/// Error of one tensor of the plan against the float reference, over the evaluation set. For a u8 tensor (static int8)
/// the error is of its dequantized value and the mean is in output steps; for a float32 tensor an int8-weight layer writes
/// (<paramref name="Float"/>: Int8Dynamic, Int8WeightOnly) Scale and ZeroPoint are 0 and the mean is absolute.
/// </summary>
public sealed record LayerError(string Node, string OpType, string Value, float Scale, int ZeroPoint, double MaxAbsError, double MeanAbsErrorSteps, double SqnrDb, bool Float = false);

/// <summary>
/// Build-time top-1 of the float model (reference executor) and of the quantized plan (real kernels), with the error of the
/// first output against float (max abs, SQNR) and per layer. <paramref name="Mode"/> names the quantized plan in the text.
/// </summary>
public sealed record AccuracyReport(string DataSet, int Samples, bool HasLabels, int FloatCorrect, int Int8Correct, int Agree, IReadOnlyList<LayerError> Layers,
    string Mode = "int8", double OutputMaxAbsError = 0, double OutputSqnrDb = double.PositiveInfinity)
{
    public double FloatTop1 => 100.0 * FloatCorrect / Samples;
    public double Int8Top1 => 100.0 * Int8Correct / Samples;
    /// <summary>Top-1 lost by the quantized plan, in percentage points.</summary>
    public double Drop => FloatTop1 - Int8Top1;

    public string Summary() => string.Create(CultureInfo.InvariantCulture,
        $"top-1 on {DataSet} ({Samples} samples{(HasLabels ? "" : ", no labels: the float predictions are the labels")}): float {FloatTop1:F2}% ({FloatCorrect}/{Samples}), {Mode} {Int8Top1:F2}% ({Int8Correct}/{Samples}), drop {Drop:F2} points; predictions agree on {Agree}/{Samples}; first output vs float: max abs error {OutputMaxAbsError:G4}, SQNR {OutputSqnrDb:F1} dB");

    public string LayerTable()
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        if (Layers.Count > 0 && Layers.All(l => l.Float))
        {
            sb.AppendLine("| Node | Op | Output (float32) | Max abs error | Mean abs error | SQNR (dB) |");
            sb.AppendLine("|---|---|---|---:|---:|---:|");
            foreach (var l in Layers)
                sb.AppendLine(string.Create(inv, $"| {l.Node} | {l.OpType} | {l.Value} | {l.MaxAbsError:G4} | {l.MeanAbsErrorSteps:G4} | {l.SqnrDb:F1} |"));
            return sb.ToString();
        }
        sb.AppendLine("| Node | Op | Tensor | Scale | Zero point | Max abs error | Mean abs error (steps) | SQNR (dB) |");
        sb.AppendLine("|---|---|---|---:|---:|---:|---:|---:|");
        foreach (var l in Layers)
            sb.AppendLine(l.Float
                ? string.Create(inv, $"| {l.Node} | {l.OpType} | {l.Value} (float32) | | | {l.MaxAbsError:G4} | {l.MeanAbsErrorSteps:G4} (abs) | {l.SqnrDb:F1} |")
                : string.Create(inv, $"| {l.Node} | {l.OpType} | {l.Value} | {l.Scale:G6} | {l.ZeroPoint} | {l.MaxAbsError:G4} | {l.MeanAbsErrorSteps:F3} | {l.SqnrDb:F1} |"));
        return sb.ToString();
    }

    public string Markdown() => $"## {char.ToUpperInvariant(Mode[0])}{Mode[1..]} accuracy (build time, real kernels)\n\n" + Summary() + "\n\n" + LayerTable();
}

/// <summary>
/// Evaluates an int8 plan at build time: the float reference executor and <see cref="PlanInterpreter"/> (the real
/// kernels over the plan's arena and weights) over the same samples; top-1 of the first output and, per int8 tensor,
/// the error of its dequantized value against the float reference.
/// </summary>
public static class Int8Accuracy
{
    public static AccuracyReport Evaluate(Model model, Int8Lowering lowering, CalibrationData data, long[]? labels, string dataSetName, string mode = "int8")
    {
        var compiled = lowering.Compiled;
        if (labels is not null && labels.Length != data.SampleCount)
            throw new EdgeException(EdgeCodes.CalibrationDataMismatch, $"ValidationLabels has {labels.Length} labels for {data.SampleCount} samples.");
        var reference = new ReferenceExecutor(model);
        var interpreter = new PlanInterpreter(compiled);
        // One list of probes: u8 tensors (static int8, Param set) and float32 outputs of int8-weight layers (Param null).
        var probes = lowering.Probes.Select(p => (p.CallIndex, p.Value, p.QuantizedValue, Param: (QuantParam?)p.Param, p.Node, p.OpType))
            .Concat(lowering.FloatProbes.Select(p => (p.CallIndex, p.Value, QuantizedValue: p.Value, Param: (QuantParam?)null, p.Node, p.OpType))).ToList();
        var wanted = new HashSet<string>(probes.Select(p => p.Value), StringComparer.Ordinal);
        var probeAt = probes.Select((p, i) => (p, i)).GroupBy(t => t.p.CallIndex).ToDictionary(g => g.Key, g => g.ToList());
        int np = probes.Count;
        var maxAbs = new double[np]; var sumSteps = new double[np]; var sumSig = new double[np]; var sumErr = new double[np]; var counts = new long[np];
        string outName = model.Graph.Outputs[0].Name;
        int floatCorrect = 0, int8Correct = 0, agree = 0;
        double outMax = 0, outSig = 0, outErr = 0;
        var outputs = compiled.Outputs.Select(p => Array.CreateInstance(ClrType(p.Type), checked((int)Shapes.Product(p.Shape)))).ToArray();

        for (int s = 0; s < data.SampleCount; s++)
        {
            var sample = data.Sample(s);
            var observed = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            var r = reference.Run(sample, (node, name, t) => { if (wanted.Contains(name)) observed[name] = t; });
            var inputs = compiled.Inputs.Select(p => sample[p.OnnxName].Data).ToArray();
            interpreter.Run(inputs, outputs, ci =>
            {
                if (!probeAt.TryGetValue(ci, out var ps)) return;
                foreach (var (p, k) in ps)
                {
                    if (!observed.TryGetValue(p.Value, out var refT) || refT.DataType != DataType.Float) continue;
                    var buf = compiled.Calls[ci].Buffers[Array.FindIndex(compiled.Calls[ci].Call.Args.ToArray(), a => a is CallArg.Value { Write: true } v && v.Name == p.QuantizedValue)];
                    if (buf is null) continue;
                    var bytes = interpreter.Bytes(buf, inputs, outputs);
                    var f = refT.As<float>();
                    var fq = p.Param is null ? System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(bytes) : default;
                    if ((p.Param is null ? fq.Length : bytes.Length) != f.Length) continue;
                    double step = p.Param?.Scale ?? 1;
                    for (int i = 0; i < f.Length; i++)
                    {
                        double deq = p.Param is { } q ? (bytes[i] - q.ZeroPoint) * (double)q.Scale : fq[i];
                        double e = Math.Abs(deq - f[i]);
                        maxAbs[k] = Math.Max(maxAbs[k], e);
                        sumSteps[k] += e / step;
                        sumErr[k] += e * e;
                        sumSig[k] += (double)f[i] * f[i];
                        counts[k]++;
                    }
                }
            });
            var fOut = r[outName].As<float>();
            var qOut = (float[])outputs[0];
            for (int i = 0; i < fOut.Length && i < qOut.Length; i++)
            {
                double e = Math.Abs((double)qOut[i] - fOut[i]);
                outMax = Math.Max(outMax, e);
                outErr += e * e;
                outSig += (double)fOut[i] * fOut[i];
            }
            int fp = ArgMax(fOut);
            int qp = ArgMax(qOut);
            long label = labels is null ? fp : labels[s];
            if (fp == label) floatCorrect++;
            if (qp == label) int8Correct++;
            if (fp == qp) agree++;
        }
        var layers = probes.Select((p, k) => new LayerError(p.Node, p.OpType, p.Value, p.Param?.Scale ?? 0, p.Param?.ZeroPoint ?? 0, maxAbs[k],
            counts[k] == 0 ? 0 : sumSteps[k] / counts[k], Sqnr(sumSig[k], sumErr[k]), p.Param is null)).ToList();
        return new AccuracyReport(dataSetName, data.SampleCount, labels is not null, floatCorrect, int8Correct, agree, layers, mode, outMax, Sqnr(outSig, outErr));
    }

    private static double Sqnr(double signal, double error) => error == 0 ? double.PositiveInfinity : 10 * Math.Log10(signal / error);

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
