using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.IR;
using EdgeCompile.Compiler.Quantization;
using EdgeCompile.Compiler.Reference;

namespace EdgeCompile.Compiler.Lowering.Int8;

/// <summary>A precision a layer can be given by <c>LayerPrecision</c> or the search.</summary>
public enum LayerPrecisionKind { Int8, Float }

/// <summary>Options of the mixed-precision search (Quantization=Auto); docs/mixed-precision.md.</summary>
public sealed record MixedPrecisionOptions
{
    /// <summary>Top-1 points the plan may lose against the float model (agreement with float's top-1 without labels).</summary>
    public double MaxAccuracyDrop { get; init; } = DefaultMaxAccuracyDrop;
    /// <summary>Hard budget for the evaluations (cache hits are free).</summary>
    public double MaxSearchSeconds { get; init; } = DefaultMaxSearchSeconds;
    /// <summary>User overrides by node or output name, honored before the search.</summary>
    public IReadOnlyDictionary<string, LayerPrecisionKind> Overrides { get; init; } = new Dictionary<string, LayerPrecisionKind>();
    /// <summary>Threads for evaluation (-1 = all cores). The plan does not depend on it.</summary>
    public int MaxDegreeOfParallelism { get; init; } = -1;
    /// <summary>Evaluation cache file (<c>&lt;OutDir&gt;/&lt;stem&gt;.autoplan.cache</c>); null: no cache.</summary>
    public string? CachePath { get; init; }
    /// <summary>Hash of everything an evaluation depends on besides the assignment (model, data, calibration options, compiler).</summary>
    public string CacheKey { get; init; } = "";

    public const double DefaultMaxAccuracyDrop = 1.0;
    public const double DefaultMaxSearchSeconds = 60;

    /// <summary>Parses <c>name:Int8|Float</c> entries joined by ';' (EDGE4005 on bad syntax, EDGE4010 on names the model lacks).</summary>
    public static Dictionary<string, LayerPrecisionKind> ParseOverrides(string text, Model? model)
    {
        var result = new Dictionary<string, LayerPrecisionKind>(StringComparer.Ordinal);
        if (string.IsNullOrWhiteSpace(text)) return result;
        foreach (var part in text.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int colon = part.LastIndexOf(':');
            if (colon <= 0 || !Enum.TryParse<LayerPrecisionKind>(part[(colon + 1)..].Trim(), ignoreCase: true, out var p) || !Enum.IsDefined(p))
                throw new EdgeException(EdgeCodes.InvalidQuantizationOption, $"LayerPrecision entry '{part}' is not 'name:Int8' or 'name:Float'.");
            string name = part[..colon].Trim();
            if (result.TryGetValue(name, out var prev) && prev != p)
                throw new EdgeException(EdgeCodes.InvalidQuantizationOption, $"LayerPrecision gives '{name}' two precisions.");
            result[name] = p;
        }
        if (model is not null)
            foreach (var name in result.Keys)
                if (!model.Graph.Nodes.Any(n => n.Name == name || n.Outputs.Contains(name)))
                    throw new EdgeException(EdgeCodes.UnknownLayerPrecisionName,
                        $"LayerPrecision names '{name}', which is no node or node output of the model (nodes: {string.Join(", ", model.Graph.Nodes.Take(20).Select(n => n.DisplayName))}{(model.Graph.Nodes.Count > 20 ? ", ..." : "")}).");
        return result;
    }

    public static double ParseSeconds(string text) =>
        text is not { Length: > 0 } t ? DefaultMaxSearchSeconds
        : double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && d >= 0 && double.IsFinite(d) ? d
        : throw new EdgeException(EdgeCodes.InvalidQuantizationOption, $"MaxSearchSeconds '{t}' is not a non-negative number of seconds.");
}

/// <summary>
/// Predicted latency of a plan, in cost units (one float32 Conv/Gemm MAC = 1), from a fixed documented table
/// (docs/mixed-precision.md) rather than a build-machine measurement, so the plan is the same on every machine.
/// Conv/Gemm/MatMul cost MACs × the factor of their precision; every QLinear.Quantize/Dequantize call (the edges a float
/// layer adds between int8 neighbours, and the plan's input/output edges) costs its elements × the edge factor; other
/// layers cost about the same in both precisions and are left out.
/// </summary>
public static class LatencyModel
{
    public const double FloatCostPerMac = 1.0;
    /// <summary>The int8 kernels' design ratio: the AVX2/AdvSimd u8×s8 paths do twice the MACs per instruction of the
    /// float32 FMA paths. NOT what this repository's int8 kernels measure today on small layers (docs/mixed-precision.md).</summary>
    public const double Int8CostPerMac = 0.5;
    /// <summary>Quantize/Dequantize per element: a multiply, a rounding and a clamp (about two float32 MACs of work). The
    /// per-call timing on digits (6.3 ns per element on 64- and 10-element tensors) is dominated by call overhead and is not
    /// used (docs/mixed-precision.md).</summary>
    public const double QuantizeCostPerElement = 2;

    public static double Predict(CompiledModel m)
    {
        double cost = 0;
        foreach (var l in m.Layers)
            if (l.OpType is "Conv" or "Gemm" or "MatMul")
                cost += l.Macs * (l.Precision == "int8" ? Int8CostPerMac : FloatCostPerMac);
        foreach (var c in m.Calls)
            if (c.Call.Method is "QLinear.Quantize" or "QLinear.Dequantize" && c.Buffers[0] is { } b)
                cost += b.Count * QuantizeCostPerElement;
        return cost;
    }
}

/// <summary>One evaluated assignment: top-1 hits against the labels (float's predictions without labels), agreement with
/// float, the first output's SQNR against float, predicted latency and weight bytes.</summary>
public sealed record PlanEvaluation(int Correct, int Agree, double OutputSqnrDb, double PredictedCost, long WeightBytes, bool Cached);

/// <summary>Sensitivity of one quantizable layer: the plan with only it (and the Float overrides) float32.</summary>
public sealed record LayerSensitivity(string Node, string OpType, long Macs, double Top1, double OutputSqnrDb);

public sealed record MixedPrecisionPlan(
    IReadOnlyList<string> FloatLayers, IReadOnlyList<string> Candidates, IReadOnlyList<LayerSensitivity> Sensitivity,
    IReadOnlyDictionary<string, string> Reasons, double FloatTop1, double AllInt8Top1, double PlanTop1, double PlanSqnrDb,
    double PredictedCost, double AllFloatCost, double AllInt8Cost, long WeightBytes,
    int Evaluations, int CacheHits, double Seconds, bool TimeBudgetMet, bool AccuracyBudgetMet, bool FellBackToFloat,
    double MaxAccuracyDrop, double MaxSearchSeconds, int Samples, bool HasLabels, string DataSet)
{
    public string Markdown()
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder("## Mixed precision (Quantization=Auto)\n\n");
        sb.Append(string.Create(inv, $"Accuracy budget: {MaxAccuracyDrop} points of top-1 on {DataSet} ({Samples} samples{(HasLabels ? "" : ", agreement with float's top-1")}); time budget {MaxSearchSeconds} s.\n\n"));
        static string P(double d) => double.IsNaN(d) ? "not measured" : d.ToString("F2", CultureInfo.InvariantCulture) + "%";
        sb.Append(string.Create(inv, $"Top-1: float {P(FloatTop1)}, all int8 {P(AllInt8Top1)}, **chosen plan {P(PlanTop1)}** (drop {(double.IsNaN(FloatTop1 - PlanTop1) ? "not measured" : (FloatTop1 - PlanTop1).ToString("F2", inv))} points, output SQNR {PlanSqnrDb:F1} dB). "));
        sb.Append($"Accuracy budget {(AccuracyBudgetMet ? "met" : "NOT met")}; time budget {(TimeBudgetMet ? "met" : "NOT met (search stopped, best plan so far kept)")}");
        sb.Append(FellBackToFloat ? "; no evaluated plan met the accuracy budget in time: every candidate layer stays float32.\n\n" : ".\n\n");
        sb.Append(string.Create(inv, $"Search: {Evaluations} evaluations ({CacheHits} from the cache), {Seconds:F2} s. Predicted latency (cost table, float32 MAC = 1): all float {AllFloatCost:F0}, all int8 {AllInt8Cost:F0}, chosen {PredictedCost:F0}; weight bytes {WeightBytes}.\n\n"));
        sb.AppendLine("| Layer | Op | MACs | Precision | Top-1 with only this layer float | Output SQNR (dB) | Why |");
        sb.AppendLine("|---|---|---:|---|---:|---:|---|");
        var floats = FloatLayers.ToHashSet(StringComparer.Ordinal);
        foreach (var c in Rows())
        {
            var s = Sensitivity.FirstOrDefault(x => x.Node == c);
            sb.AppendLine(string.Create(inv, $"| {c} | {s?.OpType} | {s?.Macs} | {(floats.Contains(c) ? "float32" : "int8")} | {(s is null || double.IsNaN(s.Top1) ? "" : s.Top1.ToString("F2", inv) + "%")} | {(s is null || double.IsNaN(s.OutputSqnrDb) ? "" : s.OutputSqnrDb.ToString("F1", inv))} | {Reasons.GetValueOrDefault(c, "")} |"));
        }
        return sb.ToString();
    }

    /// <summary>The searched layers in graph order, then the LayerPrecision overrides.</summary>
    private IEnumerable<string> Rows() => Candidates.Concat(Reasons.Keys.Where(k => !Candidates.Contains(k)).OrderBy(k => k, StringComparer.Ordinal));

    /// <summary>JSON has no NaN/Infinity: not measured (time budget) or exact (no error) become null.</summary>
    private static double? J(double d) => double.IsFinite(d) ? d : null;

    public Dictionary<string, object?> Json() => new()
    {
        ["maxAccuracyDrop"] = MaxAccuracyDrop, ["maxSearchSeconds"] = MaxSearchSeconds,
        ["dataSet"] = DataSet, ["samples"] = Samples, ["hasLabels"] = HasLabels,
        ["floatTop1"] = J(FloatTop1), ["allInt8Top1"] = J(AllInt8Top1), ["planTop1"] = J(PlanTop1), ["planOutputSqnrDb"] = J(PlanSqnrDb),
        ["accuracyBudgetMet"] = AccuracyBudgetMet, ["timeBudgetMet"] = TimeBudgetMet, ["fellBackToFloat"] = FellBackToFloat,
        ["evaluations"] = Evaluations, ["cacheHits"] = CacheHits, ["seconds"] = Seconds,
        ["predictedCost"] = PredictedCost, ["allFloatCost"] = AllFloatCost, ["allInt8Cost"] = AllInt8Cost, ["weightBytes"] = WeightBytes,
        ["layers"] = Rows().Select(c =>
        {
            var s = Sensitivity.FirstOrDefault(x => x.Node == c);
            return new Dictionary<string, object?>
            {
                ["node"] = c, ["op"] = s?.OpType, ["macs"] = s?.Macs, ["precision"] = FloatLayers.Contains(c) ? "float32" : "int8",
                ["top1OnlyThisFloat"] = s is null || double.IsNaN(s.Top1) ? null : s.Top1,
                ["outputSqnrDbOnlyThisFloat"] = s is null || !double.IsFinite(s.OutputSqnrDb) ? null : s.OutputSqnrDb,
                ["why"] = Reasons.GetValueOrDefault(c, ""),
            };
        }).ToList(),
    };
}

/// <summary>
/// Quantization=Auto: chooses, per quantizable layer, int8 or float32 so the plan meets the accuracy budget at the lowest
/// predicted latency, then weight size. Every assignment is lowered by <see cref="Int8Lowerer"/> (chosen layers kept float)
/// and run by <see cref="PlanInterpreter"/>, the kernels the generated class runs. Deterministic: the plan depends only on
/// the model, the data and the options (per-sample results are reduced in sample order; ties broken by layer order).
/// </summary>
public sealed class MixedPrecisionSearch
{
    private readonly Model _model;
    private readonly QuantizationResult _quant;
    private readonly CalibrationData _data;
    private readonly long[]? _labels;
    private readonly MixedPrecisionOptions _o;
    private readonly Action<string>? _log;
    private readonly Dictionary<string, PlanEvaluation> _cache = new(StringComparer.Ordinal);
    private readonly Dictionary<string, PlanEvaluation> _seen = new(StringComparer.Ordinal);
    private readonly Stopwatch _clock = new();
    private (int Pred, float[] Logits)[]? _float;
    private bool _cacheDirty;
    public int Evaluations { get; private set; }
    public int CacheHits { get; private set; }
    /// <summary>Assignments actually run (not from the cache).</summary>
    public int Computed { get; private set; }

    public MixedPrecisionSearch(Model model, QuantizationResult quantization, CalibrationData data, long[]? labels, MixedPrecisionOptions options, Action<string>? log = null)
    {
        if (labels is not null && labels.Length != data.SampleCount)
            throw new EdgeException(EdgeCodes.CalibrationDataMismatch, $"ValidationLabels has {labels.Length} labels for {data.SampleCount} samples.");
        _model = model; _quant = quantization; _data = data; _labels = labels; _o = options; _log = log;
        LoadCache();
    }

    private Int8Lowering Lower(IReadOnlySet<string> floats) =>
        Int8Lowerer.Lower(Pruning.Pruner.Snapshot(_model), _quant, "AutoPlan", "", floats);

    private static string Key(IEnumerable<string> floats) => string.Join("\n", floats.OrderBy(x => x, StringComparer.Ordinal));

    private string CacheEntryKey(string key) =>
        Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes("autoplan-v2\n" + _o.CacheKey + "\n" + key)));

    private sealed class OutOfTime : Exception;

    private bool OverBudget => _clock.Elapsed.TotalSeconds > _o.MaxSearchSeconds;

    /// <summary>Evaluates the plan with <paramref name="floats"/> float32; null when the time budget ran out first.</summary>
    private PlanEvaluation? Evaluate(IReadOnlySet<string> floats)
    {
        string key = Key(floats);
        if (_seen.TryGetValue(key, out var seen)) return seen;
        string ck = CacheEntryKey(key);
        if (_cache.TryGetValue(ck, out var hit))
        {
            Evaluations++; CacheHits++;
            return _seen[key] = hit with { Cached = true };
        }
        if (OverBudget) return null;
        var lowering = Lower(floats);
        var compiled = lowering.Compiled;
        if (!PlanInterpreter.CanRun(compiled))
            throw new EdgeException(EdgeCodes.AccuracyDropExceeded, "Quantization Auto needs to run the plan at build time, but it has float32 nodes the build-time evaluator cannot run yet.");
        var reference = FloatReference();
        if (reference is null) return null;
        int n = _data.SampleCount;
        var pred = new int[n];
        var sig = new double[n];
        var err = new double[n];
        bool outOfTime = false;
        var po = new ParallelOptions { MaxDegreeOfParallelism = _o.MaxDegreeOfParallelism };
        Parallel.For(0, n, po, () => (new PlanInterpreter(compiled), OutputArrays(compiled)), (s, state, local) =>
        {
            if (Volatile.Read(ref outOfTime)) { state.Stop(); return local; }
            if (OverBudget) { Volatile.Write(ref outOfTime, true); state.Stop(); return local; }
            var sample = _data.Sample(s);
            var inputs = compiled.Inputs.Select(p => sample[p.OnnxName].Data).ToArray();
            local.Item1.Run(inputs, local.Item2);
            var q = (float[])local.Item2[0];
            var f = reference[s].Logits;
            pred[s] = ArgMax(q);
            double a = 0, e = 0;
            for (int i = 0; i < f.Length && i < q.Length; i++) { a += (double)f[i] * f[i]; e += ((double)q[i] - f[i]) * ((double)q[i] - f[i]); }
            sig[s] = a; err[s] = e;
            return local;
        }, _ => { });
        if (outOfTime) return null;
        int correct = 0, agree = 0;
        double sSig = 0, sErr = 0;
        for (int s = 0; s < n; s++)
        {
            long label = _labels is null ? reference[s].Pred : _labels[s];
            if (pred[s] == label) correct++;
            if (pred[s] == reference[s].Pred) agree++;
            sSig += sig[s]; sErr += err[s];
        }
        var ev = new PlanEvaluation(correct, agree, sErr == 0 ? double.PositiveInfinity : 10 * Math.Log10(sSig / sErr),
            LatencyModel.Predict(compiled), compiled.Weights.Length, false);
        Evaluations++; Computed++;
        _cache[ck] = ev; _cacheDirty = true;
        return _seen[key] = ev;
    }

    private static Array[] OutputArrays(CompiledModel m) =>
        m.Outputs.Select(p => p.Type == DataType.Float ? (Array)new float[checked((int)Shapes.Product(p.Shape))]
            : throw new EdgeException(EdgeCodes.InvalidQuantizationOption, "Quantization Auto needs float32 model outputs.")).ToArray();

    private (int Pred, float[] Logits)[]? FloatReference()
    {
        if (_float is not null) return _float;
        int n = _data.SampleCount;
        var result = new (int, float[])[n];
        string outName = _model.Graph.Outputs[0].Name;
        bool outOfTime = false;
        // One executor shared by the workers, as the Calibrator does: its constructor validates (and may re-sort) the graph,
        // which must not run concurrently; Run itself only reads the model.
        var exec = new ReferenceExecutor(_model);
        Parallel.For(0, n, new ParallelOptions { MaxDegreeOfParallelism = _o.MaxDegreeOfParallelism }, (s, state) =>
        {
            if (OverBudget) { Volatile.Write(ref outOfTime, true); state.Stop(); return; }
            var f = exec.Run(_data.Sample(s))[outName].As<float>().ToArray();
            result[s] = (ArgMax(f), f);
        });
        if (outOfTime) return null;
        return _float = result;
    }

    private bool Meets(PlanEvaluation e, int floatCorrect) => 100.0 * (floatCorrect - e.Correct) / _data.SampleCount <= _o.MaxAccuracyDrop + 1e-9;

    public MixedPrecisionPlan Run(string dataSetName)
    {
        _clock.Restart();
        try { return Search(dataSetName); }
        finally { SaveCache(); }
    }

    private MixedPrecisionPlan Search(string dataSetName)
    {
        var inv = CultureInfo.InvariantCulture;
        int n = _data.SampleCount;
        var forcedFloat = _o.Overrides.Where(kv => kv.Value == LayerPrecisionKind.Float).Select(kv => kv.Key).ToHashSet(StringComparer.Ordinal);
        var forcedInt8 = _o.Overrides.Where(kv => kv.Value == LayerPrecisionKind.Int8).Select(kv => kv.Key).ToHashSet(StringComparer.Ordinal);

        // Candidates: layers the all-int8 plan (Float overrides applied) runs with int8 kernels (aliases excluded), in graph order.
        var allInt8Lowering = Lower(forcedFloat);
        var layers = allInt8Lowering.Compiled.Layers;
        var int8Layers = layers.Where(l => l.Precision == "int8" && l.Kernel != "(alias: no code)").ToList();
        // ONNX node names need not be unique: the first node of a display name (the layer table's key) wins.
        var nodeOf = _model.Graph.Nodes.GroupBy(n => n.DisplayName, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        bool Named(string layer, IReadOnlySet<string> names) =>
            names.Contains(layer) || (nodeOf.TryGetValue(layer, out var node) && (names.Contains(node.Name) || node.Outputs.Any(names.Contains)));
        foreach (var name in forcedInt8)
            if (!int8Layers.Any(l => l.Node == name || (nodeOf.TryGetValue(l.Node, out var node) && node.Outputs.Contains(name))))
                throw new EdgeException(EdgeCodes.LayerPrecisionNotPossible, $"LayerPrecision asks for '{name}' in Int8, but the int8 lowering keeps it float32 (no int8 kernel for it, or a Float override covers it).");
        var candidates = int8Layers.Where(l => !Named(l.Node, forcedInt8)).Select(l => l.Node).ToList();
        var macs = layers.GroupBy(l => l.Node, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Sum(l => l.Macs), StringComparer.Ordinal);
        var ops = layers.GroupBy(l => l.Node, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First().OpType, StringComparer.Ordinal);
        var reasons = new Dictionary<string, string>(StringComparer.Ordinal);
        HashSet<string> With(IEnumerable<string> extra) { var s = new HashSet<string>(forcedFloat, StringComparer.Ordinal); s.UnionWith(extra); return s; }

        var floatSet = With(candidates);
        double allFloatCost = LatencyModel.Predict(Lower(floatSet).Compiled);
        double allInt8Cost = LatencyModel.Predict(allInt8Lowering.Compiled);

        // Float top-1 (cached like the evaluations, so a cached re-plan never runs the reference executor).
        string floatKey = CacheEntryKey("<float reference>");
        int? floatCorrectOrNull = _cache.TryGetValue(floatKey, out var fc) ? fc.Correct : null;
        if (floatCorrectOrNull is null && FloatReference() is { } refs)
        {
            int c = 0;
            for (int s = 0; s < n; s++) if ((_labels is null ? refs[s].Pred : _labels[s]) == refs[s].Pred) c++;
            floatCorrectOrNull = c;
            _cache[floatKey] = new PlanEvaluation(c, n, double.PositiveInfinity, 0, 0, false); _cacheDirty = true;
        }
        var reference = floatCorrectOrNull is null ? null : new object();
        int floatCorrect = floatCorrectOrNull ?? 0;
        double Top1(PlanEvaluation e) => 100.0 * e.Correct / n;

        var meeting = new List<(HashSet<string> Floats, PlanEvaluation Eval)>();
        PlanEvaluation? Try(HashSet<string> floats)
        {
            var e = Evaluate(floats);
            if (e is not null && reference is not null && Meets(e, floatCorrect) && !meeting.Any(m => m.Floats.SetEquals(floats))) meeting.Add((floats, e));
            return e;
        }

        var sensitivity = new List<LayerSensitivity>();
        bool timeMet = reference is not null;
        var allInt8 = reference is null ? null : Try(With([]));
        if (allInt8 is null) timeMet = false;
        var current = With([]);
        if (allInt8 is not null && !Meets(allInt8, floatCorrect))
        {
            // Sensitivity: each candidate alone float32.
            foreach (var c in candidates)
            {
                var e = Try(With([c]));
                if (e is null) { timeMet = false; break; }
                sensitivity.Add(new LayerSensitivity(c, ops[c], macs[c], Top1(e), e.OutputSqnrDb));
            }
            if (timeMet)
            {
                // Most sensitive first: the most top-1 recovered, then the highest output SQNR, then graph order.
                var order = sensitivity.Select((s, i) => (s, i)).OrderByDescending(t => t.s.Top1).ThenByDescending(t => t.s.OutputSqnrDb).ThenBy(t => t.i).Select(t => t.s.Node).ToList();
                PlanEvaluation? cur = allInt8;
                var raised = new List<string>();
                foreach (var c in order)
                {
                    if (Meets(cur!, floatCorrect)) break;
                    current = With(raised.Append(c));
                    raised.Add(c);
                    cur = Try(current);
                    if (cur is null) { timeMet = false; break; }
                    reasons[c] = string.Create(inv, $"raised to float32, plan top-1 then {Top1(cur):F2}%");
                }
                if (timeMet && cur is not null && Meets(cur, floatCorrect))
                {
                    // Lower back the least sensitive raised layers that turn out not to matter.
                    foreach (var c in raised.AsEnumerable().Reverse().ToList())
                    {
                        var trial = new HashSet<string>(current, StringComparer.Ordinal);
                        trial.Remove(c);
                        var e = Try(trial);
                        if (e is null) { timeMet = false; break; }
                        if (Meets(e, floatCorrect))
                        {
                            current = trial;
                            reasons[c] = string.Create(inv, $"raised, then lowered back to int8 (the plan still met the budget, top-1 {Top1(e):F2}%)");
                        }
                    }
                }
            }
        }

        // Lowest predicted latency, then weight bytes, then fewer float layers, then name order, among plans that met the budget.
        bool fellBack = false;
        HashSet<string> chosen;
        PlanEvaluation? chosenEval;
        if (meeting.Count > 0)
        {
            var best = meeting.OrderBy(m => m.Eval.PredictedCost).ThenBy(m => m.Eval.WeightBytes).ThenBy(m => m.Floats.Count).ThenBy(m => Key(m.Floats), StringComparer.Ordinal).First();
            chosen = best.Floats; chosenEval = best.Eval;
        }
        else
        {
            chosen = floatSet; chosenEval = null; fellBack = true;
        }
        // Final reasons, from the chosen plan and what the search did with each layer.
        var rankOf = sensitivity.Count == 0 ? new Dictionary<string, int>() : sensitivity.Select((x, i) => (x, i))
            .OrderByDescending(t => t.x.Top1).ThenByDescending(t => t.x.OutputSqnrDb).ThenBy(t => t.i).Select((t, r) => (t.x.Node, r + 1)).ToDictionary(t => t.Node, t => t.Item2, StringComparer.Ordinal);
        string chosenWhy = string.Create(inv, $"the chosen plan is the lowest predicted latency (then weight bytes) of the {meeting.Count} evaluated plan(s) meeting the budget");
        foreach (var c in candidates)
        {
            string rank = rankOf.TryGetValue(c, out var rk) ? string.Create(inv, $"sensitivity rank {rk} of {rankOf.Count}") : "";
            string step = reasons.GetValueOrDefault(c, "");
            reasons[c] = fellBack ? "float32: fallback, no plan meeting the budget was found in time"
                : allInt8 is not null && Meets(allInt8, floatCorrect) ? "int8: the all-int8 plan meets the budget"
                : chosen.Contains(c) ? $"float32 ({rank}): {chosenWhy}" + (step.Length > 0 ? $"; search: {step}" : "")
                : $"int8 ({rank})" + (step.Length > 0 ? $"; search: {step}; not needed by the chosen plan ({chosenWhy})" : ": not needed to meet the budget");
        }
        foreach (var f in forcedFloat) reasons[f] = "LayerPrecision override: float32";

        double floatTop1 = reference is null ? double.NaN : 100.0 * floatCorrect / n;
        double allInt8Top1 = allInt8 is null ? double.NaN : Top1(allInt8);
        double planTop1 = chosenEval is null ? floatTop1 : Top1(chosenEval);
        double planCost = chosenEval?.PredictedCost ?? allFloatCost;
        long planBytes = chosenEval?.WeightBytes ?? Lower(chosen).Compiled.Weights.Length;
        var floatLayers = candidates.Where(chosen.Contains).Concat(forcedFloat.OrderBy(x => x, StringComparer.Ordinal)).ToList();
        // An all-float fallback meets the budget by definition (it is the float model) unless Int8 overrides are in it.
        bool accuracyMet = chosenEval is not null || forcedInt8.Count == 0;
        var plan = new MixedPrecisionPlan(floatLayers, candidates, sensitivity, reasons, floatTop1, allInt8Top1, planTop1,
            chosenEval?.OutputSqnrDb ?? double.PositiveInfinity, planCost, allFloatCost, allInt8Cost, planBytes,
            Evaluations, CacheHits, _clock.Elapsed.TotalSeconds, timeMet, accuracyMet, fellBack,
            _o.MaxAccuracyDrop, _o.MaxSearchSeconds, n, _labels is not null, dataSetName);
        _log?.Invoke(string.Create(inv, $"edgec: Quantization Auto: {floatLayers.Count} of {candidates.Count + forcedFloat.Count} layer(s) float32 ({string.Join(", ", floatLayers)}); top-1 float {floatTop1:F2}%, all int8 {allInt8Top1:F2}%, plan {planTop1:F2}%; {Evaluations} evaluations ({CacheHits} cached) in {plan.Seconds:F2} s; time budget {(timeMet ? "met" : "NOT met")}{(fellBack ? "; fell back to float32" : "")}"));
        return plan;
    }

    /// <summary>The float32 layer names of <paramref name="plan"/> as the lowerer's keep-float set.</summary>
    public static HashSet<string> KeepFloat(MixedPrecisionPlan plan) => plan.FloatLayers.ToHashSet(StringComparer.Ordinal);

    private void LoadCache()
    {
        if (_o.CachePath is not { } path || !File.Exists(path)) return;
        try
        {
            foreach (var line in File.ReadLines(path))
            {
                var f = line.Split(' ');
                if (f.Length != 6) continue;
                var inv = CultureInfo.InvariantCulture;
                _cache[f[0]] = new PlanEvaluation(int.Parse(f[1], inv), int.Parse(f[2], inv), BitConverter.Int64BitsToDouble(long.Parse(f[3], inv)),
                    BitConverter.Int64BitsToDouble(long.Parse(f[4], inv)), long.Parse(f[5], inv), true);
            }
        }
        catch (Exception e) when (e is IOException or FormatException or OverflowException or UnauthorizedAccessException)
        {
            _cache.Clear();
            _log?.Invoke($"edgec: ignoring the unreadable mixed-precision cache '{path}': {e.Message}");
        }
    }

    private void SaveCache()
    {
        if (_o.CachePath is not { } path || !_cacheDirty) return;
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        foreach (var (k, e) in _cache.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            sb.Append(k).Append(' ').Append(e.Correct.ToString(inv)).Append(' ').Append(e.Agree.ToString(inv)).Append(' ')
              .Append(BitConverter.DoubleToInt64Bits(e.OutputSqnrDb).ToString(inv)).Append(' ')
              .Append(BitConverter.DoubleToInt64Bits(e.PredictedCost).ToString(inv)).Append(' ').Append(e.WeightBytes.ToString(inv)).Append('\n');
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            string tmp = path + ".tmp" + Environment.ProcessId.ToString(inv);
            File.WriteAllText(tmp, sb.ToString());
            File.Move(tmp, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _log?.Invoke($"edgec: could not write the mixed-precision cache '{path}': {e.Message}");
        }
    }

    private static int ArgMax(ReadOnlySpan<float> v)
    {
        int best = 0;
        for (int k = 1; k < v.Length; k++) if (v[k] > v[best]) best = k;
        return best;
    }
}
