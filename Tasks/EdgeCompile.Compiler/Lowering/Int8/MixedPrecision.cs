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
public enum LayerPrecisionKind { Int8, Float, Int8WeightOnly }

/// <summary>What Quantization=Auto does when no plan with a quantized layer meets the accuracy budget.</summary>
public enum AccuracyBudgetMode
{
    /// <summary>A coded build error (EDGE4012/EDGE4013) naming the most sensitive layers, the best accuracy reached and its plan.</summary>
    Error,
    /// <summary>Build the best plan found (highest top-1) with a coded warning.</summary>
    Warn,
}

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
    public AccuracyBudgetMode BudgetMode { get; init; } = AccuracyBudgetMode.Error;
    /// <summary>The latency table of the target.</summary>
    public DeviceProfile? Profile { get; init; }
    /// <summary>How the plans pack int8 Conv/Gemm weights (<see cref="DeviceProfile.Int8WeightLayout"/>): the weight bytes they are compared by.</summary>
    public Kernels.QWeightLayout WeightLayout { get; init; } = Kernels.QWeightLayout.N8K4Sums;
    /// <summary>Plans whose predicted latency is within this fraction of the cheapest count as equally fast, and the fewest
    /// weight bytes wins among them (the latency model is not accurate to 2 %; size is exact).</summary>
    public double LatencyTieFraction { get; init; } = 0.02;

    public const double DefaultMaxAccuracyDrop = 1.0;
    public const double DefaultMaxSearchSeconds = 60;

    /// <summary>Parses <c>name:Int8|Int8WeightOnly|Float</c> entries joined by ';' (EDGE4005 on bad syntax, EDGE4010 on names the model lacks).</summary>
    public static Dictionary<string, LayerPrecisionKind> ParseOverrides(string text, Model? model)
    {
        var result = new Dictionary<string, LayerPrecisionKind>(StringComparer.Ordinal);
        if (string.IsNullOrWhiteSpace(text)) return result;
        foreach (var part in text.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int colon = part.LastIndexOf(':');
            if (colon <= 0 || !Enum.TryParse<LayerPrecisionKind>(part[(colon + 1)..].Trim(), ignoreCase: true, out var p) || !Enum.IsDefined(p)
                || int.TryParse(part[(colon + 1)..].Trim(), out _))
                throw new EdgeException(EdgeCodes.InvalidQuantizationOption, $"LayerPrecision entry '{part}' is not 'name:Int8', 'name:Int8WeightOnly' or 'name:Float'.");
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

    public static AccuracyBudgetMode ParseBudgetMode(string text) =>
        text is not { Length: > 0 } t ? AccuracyBudgetMode.Error
        : Enum.TryParse<AccuracyBudgetMode>(t.Trim(), ignoreCase: true, out var m) && Enum.IsDefined(m) && !int.TryParse(t, out _) ? m
        : throw new EdgeException(EdgeCodes.InvalidQuantizationOption, $"AccuracyBudgetMode '{t}' is not 'Error' or 'Warn'.");
}

/// <summary>
/// Predicted latency of a plan from the target's <see cref="DeviceProfile"/> (docs/mixed-precision.md): Conv/Gemm/MatMul cost
/// MACs × the profile's cost per MAC for their op and precision; every QLinear.Quantize/Dequantize call (the edges a float
/// layer adds between int8 neighbours, and the plan's input/output edges) costs its elements × the per-element cost, and every
/// QLinear.DequantizeChannels (an Int8WeightOnly layer rebuilding its float weight) its weight elements × its cost; other
/// layers cost about the same in both precisions and are left out.
/// </summary>
public static class LatencyModel
{
    public static double Predict(CompiledModel m, DeviceProfile? profile = null)
    {
        profile ??= DeviceProfile.Resolve(null, null);
        double cost = 0;
        var nodes = m.Model.Graph.Nodes.GroupBy(n => n.DisplayName, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        foreach (var l in m.Layers)
            if (l.OpType is "Conv" or "Gemm" or "MatMul")
                cost += l.Macs * profile.CostPerMac(l.OpType == "Conv" && nodes.TryGetValue(l.Node, out var n) && IsDepthwise(m.Model.Graph, n) ? "DepthwiseConv" : l.OpType, l.Precision);
        foreach (var c in m.Calls)
        {
            if (c.Buffers.Length == 0 || c.Buffers[0] is not { } b) continue;
            cost += c.Call.Method switch
            {
                "QLinear.Quantize" => b.Count * profile.QuantizeCostPerElement,
                "QLinear.Dequantize" => b.Count * profile.DequantizeCostPerElement,
                "QLinear.DequantizeChannels" => b.Count * profile.DequantizeWeightCostPerElement,
                _ => 0,
            };
        }
        return cost;
    }

    /// <summary>A Conv with one input channel per group and one output channel per group (group = channels).</summary>
    public static bool IsDepthwise(Graph g, Node n)
    {
        long group = n.GetAttribute("group")?.I ?? 1;
        return group > 1 && n.Inputs.Count > 1 && g.Initializers.TryGet(n.Inputs[1], out var w) && w.Shape.Length >= 3 && w.Shape[1] == 1 && w.Shape[0] == group;
    }
}

/// <summary>One evaluated assignment: top-1 hits against the labels (float's predictions without labels), agreement with
/// float, the first output's SQNR against float, predicted latency and weight bytes.</summary>
public sealed record PlanEvaluation(int Correct, int Agree, double OutputSqnrDb, double PredictedCost, long WeightBytes, bool Cached);

/// <summary>
/// Sensitivity of one quantizable layer at each precision: <see cref="Top1"/>/<see cref="OutputSqnrDb"/> with only it float32
/// (every other candidate int8), <see cref="Top1WeightOnly"/> with only it Int8WeightOnly (others int8; NaN for layers without
/// a constant weight), <see cref="Top1Int8"/> with only it int8 (every other candidate float32). NaN: not measured (time budget).
/// </summary>
public sealed record LayerSensitivity(string Node, string OpType, long Macs, double Top1, double OutputSqnrDb)
{
    public double Top1WeightOnly { get; init; } = double.NaN;
    public double SqnrWeightOnly { get; init; } = double.NaN;
    public double Top1Int8 { get; init; } = double.NaN;
    public double SqnrInt8 { get; init; } = double.NaN;
}

public sealed record MixedPrecisionPlan(
    IReadOnlyList<string> FloatLayers, IReadOnlyList<string> Candidates, IReadOnlyList<LayerSensitivity> Sensitivity,
    IReadOnlyDictionary<string, string> Reasons, double FloatTop1, double AllInt8Top1, double PlanTop1, double PlanSqnrDb,
    double PredictedCost, double AllFloatCost, double AllInt8Cost, long WeightBytes,
    int Evaluations, int CacheHits, double Seconds, bool TimeBudgetMet, bool AccuracyBudgetMet, bool FellBackToFloat,
    double MaxAccuracyDrop, double MaxSearchSeconds, int Samples, bool HasLabels, string DataSet)
{
    /// <summary>Layers the plan runs as Int8WeightOnly (int8 weights, float32 activations).</summary>
    public IReadOnlyList<string> WeightOnlyLayers { get; init; } = [];
    public long AllFloatWeightBytes { get; init; }
    public long AllInt8WeightBytes { get; init; }
    public double AllInt8SqnrDb { get; init; } = double.NaN;
    /// <summary>Fraction of the candidates' Conv/Gemm/MatMul MACs the plan runs with int8 kernels.</summary>
    public double Int8MacFraction { get; init; } = double.NaN;
    public string ProfileName { get; init; } = DeviceProfile.DefaultName;
    public string ProfileUnit { get; init; } = "float32 MAC = 1";
    public AccuracyBudgetMode BudgetMode { get; init; } = AccuracyBudgetMode.Error;
    /// <summary>Whether every sensitivity evaluation ran (the report-only ones may be cut by the time budget).</summary>
    public bool SensitivityComplete { get; init; } = true;
    /// <summary>Coded warnings (EDGE4012/EDGE4013 in Warn mode).</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];

    private string PrecisionOf(string c) => FloatLayers.Contains(c) ? "float32" : WeightOnlyLayers.Contains(c) ? "int8 weights" : "int8";

    public string Markdown()
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder("## Mixed precision (Quantization=Auto)\n\n");
        sb.Append(string.Create(inv, $"Accuracy budget: {MaxAccuracyDrop} points of top-1 on {DataSet} ({Samples} samples{(HasLabels ? "" : ", agreement with float's top-1")}); time budget {MaxSearchSeconds} s; AccuracyBudgetMode {BudgetMode}; latency profile `{ProfileName}` ({ProfileUnit}).\n\n"));
        static string P(double d) => double.IsNaN(d) ? "not measured" : d.ToString("F2", CultureInfo.InvariantCulture) + "%";
        static string Db(double d) => double.IsNaN(d) ? "" : double.IsPositiveInfinity(d) ? "exact" : d.ToString("F1", CultureInfo.InvariantCulture);
        sb.Append(string.Create(inv, $"Top-1: float {P(FloatTop1)}, all int8 {P(AllInt8Top1)}, **chosen plan {P(PlanTop1)}** (drop {(double.IsNaN(FloatTop1 - PlanTop1) ? "not measured" : (FloatTop1 - PlanTop1).ToString("F2", inv))} points, output SQNR {Db(PlanSqnrDb)} dB). "));
        sb.Append($"Accuracy budget {(AccuracyBudgetMet ? "met" : "NOT met")}; time budget {(TimeBudgetMet ? "met" : "NOT met (search stopped, best plan so far kept)")}");
        sb.Append(FellBackToFloat ? "; no plan was evaluated in time: every candidate layer stays float32.\n\n" : ".\n\n");
        foreach (var w in Warnings) sb.Append("**Warning** ").Append(w).Append("\n\n");
        sb.Append(string.Create(inv, $"Search: {Evaluations} evaluations ({CacheHits} from the cache), {Seconds:F2} s{(SensitivityComplete ? "" : "; the sensitivity table is incomplete (time budget)")}. Int8 kernels run {(double.IsNaN(Int8MacFraction) ? "n/a" : (100 * Int8MacFraction).ToString("F1", inv) + " %")} of the searched layers' MACs.\n\n"));
        sb.AppendLine("| Plan | Top-1 | Output SQNR (dB) | Predicted latency | vs all int8 | Weight bytes |");
        sb.AppendLine("|---|---:|---:|---:|---:|---:|");
        sb.AppendLine(string.Create(inv, $"| all float32 | {P(FloatTop1)} | exact | {AllFloatCost:F0} | {(AllInt8Cost > 0 ? AllFloatCost / AllInt8Cost : double.NaN):F2}x | {AllFloatWeightBytes} |"));
        sb.AppendLine(string.Create(inv, $"| all int8 | {P(AllInt8Top1)} | {Db(AllInt8SqnrDb)} | {AllInt8Cost:F0} | 1.00x | {AllInt8WeightBytes} |"));
        sb.AppendLine(string.Create(inv, $"| **chosen** | {P(PlanTop1)} | {Db(PlanSqnrDb)} | {PredictedCost:F0} | {(AllInt8Cost > 0 ? PredictedCost / AllInt8Cost : double.NaN):F2}x | {WeightBytes} |"));
        sb.AppendLine();
        sb.AppendLine("Sensitivity: top-1 (output SQNR dB) with only this layer at a precision — int8 (every other searched layer float32); int8 weights (others int8); float32 (others int8).");
        sb.AppendLine();
        sb.AppendLine("| Layer | Op | MACs | Precision | Only this int8 | Only this int8 weights | Only this float32 | Why |");
        sb.AppendLine("|---|---|---:|---|---:|---:|---:|---|");
        foreach (var c in Rows())
        {
            var s = Sensitivity.FirstOrDefault(x => x.Node == c);
            string Cell(double t, double q) => double.IsNaN(t) ? "" : $"{P(t)} ({Db(q)})";
            sb.AppendLine(string.Create(inv, $"| {c} | {s?.OpType} | {s?.Macs} | {PrecisionOf(c)} | {(s is null ? "" : Cell(s.Top1Int8, s.SqnrInt8))} | {(s is null ? "" : Cell(s.Top1WeightOnly, s.SqnrWeightOnly))} | {(s is null ? "" : Cell(s.Top1, s.OutputSqnrDb))} | {Reasons.GetValueOrDefault(c, "")} |"));
        }
        return sb.ToString();
    }

    /// <summary>The searched layers in graph order, then the LayerPrecision overrides.</summary>
    private IEnumerable<string> Rows() => Candidates.Concat(Reasons.Keys.Where(k => !Candidates.Contains(k)).OrderBy(k => k, StringComparer.Ordinal));

    /// <summary>JSON has no NaN/Infinity: not measured (time budget) or exact (no error) become null.</summary>
    private static double? J(double d) => double.IsFinite(d) ? d : null;

    public Dictionary<string, object?> Json() => new()
    {
        ["maxAccuracyDrop"] = MaxAccuracyDrop, ["maxSearchSeconds"] = MaxSearchSeconds, ["accuracyBudgetMode"] = BudgetMode.ToString(),
        ["dataSet"] = DataSet, ["samples"] = Samples, ["hasLabels"] = HasLabels,
        ["floatTop1"] = J(FloatTop1), ["allInt8Top1"] = J(AllInt8Top1), ["planTop1"] = J(PlanTop1), ["planOutputSqnrDb"] = J(PlanSqnrDb),
        ["allInt8OutputSqnrDb"] = J(AllInt8SqnrDb),
        ["accuracyBudgetMet"] = AccuracyBudgetMet, ["timeBudgetMet"] = TimeBudgetMet, ["fellBackToFloat"] = FellBackToFloat,
        ["sensitivityComplete"] = SensitivityComplete, ["warnings"] = Warnings.ToList(),
        ["evaluations"] = Evaluations, ["cacheHits"] = CacheHits, ["seconds"] = Seconds,
        ["latencyProfile"] = ProfileName, ["latencyUnit"] = ProfileUnit,
        ["predictedCost"] = PredictedCost, ["allFloatCost"] = AllFloatCost, ["allInt8Cost"] = AllInt8Cost,
        ["weightBytes"] = WeightBytes, ["allFloatWeightBytes"] = AllFloatWeightBytes, ["allInt8WeightBytes"] = AllInt8WeightBytes,
        ["int8MacFraction"] = J(Int8MacFraction),
        ["layers"] = Rows().Select(c =>
        {
            var s = Sensitivity.FirstOrDefault(x => x.Node == c);
            return new Dictionary<string, object?>
            {
                ["node"] = c, ["op"] = s?.OpType, ["macs"] = s?.Macs, ["precision"] = PrecisionOf(c),
                ["top1OnlyThisFloat"] = s is null ? null : J(s.Top1),
                ["outputSqnrDbOnlyThisFloat"] = s is null ? null : J(s.OutputSqnrDb),
                ["top1OnlyThisInt8WeightOnly"] = s is null ? null : J(s.Top1WeightOnly),
                ["outputSqnrDbOnlyThisInt8WeightOnly"] = s is null ? null : J(s.SqnrWeightOnly),
                ["top1OnlyThisInt8"] = s is null ? null : J(s.Top1Int8),
                ["outputSqnrDbOnlyThisInt8"] = s is null ? null : J(s.SqnrInt8),
                ["why"] = Reasons.GetValueOrDefault(c, ""),
            };
        }).ToList(),
    };
}

/// <summary>
/// Quantization=Auto: chooses, per quantizable layer, int8, Int8WeightOnly or float32 so the plan meets the accuracy budget at
/// the lowest predicted latency (<see cref="LatencyModel"/> with the target's <see cref="DeviceProfile"/>), then weight size.
/// Every assignment is lowered by <see cref="Int8Lowerer"/> (bias corrections applied to the quantized layers) and run by
/// <see cref="PlanInterpreter"/>, the kernels the generated class runs. Deterministic: the plan depends only on the model, the
/// data and the options (per-sample results are reduced in sample order; ties broken by layer order).
/// </summary>
public sealed class MixedPrecisionSearch
{
    private readonly Model _model;
    private readonly QuantizationResult _quant;
    private readonly CalibrationData _data;
    private readonly long[]? _labels;
    private readonly MixedPrecisionOptions _o;
    private readonly DeviceProfile _profile;
    private readonly Action<string>? _log;
    private readonly Dictionary<string, PlanEvaluation> _cache = new(StringComparer.Ordinal);
    private readonly Dictionary<string, PlanEvaluation> _seen = new(StringComparer.Ordinal);
    private readonly List<(Assignment A, PlanEvaluation E)> _evaluated = new();
    private readonly Stopwatch _clock = new();
    private (int Pred, float[] Logits)[]? _float;
    private bool _cacheDirty;
    public int Evaluations { get; private set; }
    public int CacheHits { get; private set; }
    /// <summary>Assignments actually run (not from the cache).</summary>
    public int Computed { get; private set; }

    /// <summary>The non-int8 layers of a plan: float32 ones and Int8WeightOnly ones (every other candidate is int8).</summary>
    private sealed record Assignment(HashSet<string> Floats, HashSet<string> WeightOnly)
    {
        public string Key => string.Join("\n", Floats.OrderBy(x => x, StringComparer.Ordinal))
            + (WeightOnly.Count == 0 ? "" : "\n#int8-weights\n" + string.Join("\n", WeightOnly.OrderBy(x => x, StringComparer.Ordinal)));
        public int Raised => Floats.Count + WeightOnly.Count;
    }

    public MixedPrecisionSearch(Model model, QuantizationResult quantization, CalibrationData data, long[]? labels, MixedPrecisionOptions options, Action<string>? log = null)
    {
        if (labels is not null && labels.Length != data.SampleCount)
            throw new EdgeException(EdgeCodes.CalibrationDataMismatch, $"ValidationLabels has {labels.Length} labels for {data.SampleCount} samples.");
        _model = model; _quant = quantization; _data = data; _labels = labels; _o = options; _log = log;
        _profile = options.Profile ?? DeviceProfile.Resolve(null, null);
        LoadCache();
    }

    private Int8Lowering Lower(Assignment a) =>
        Int8Lowerer.Lower(Pruning.Pruner.Snapshot(_model), _quant, "AutoPlan", "", a.Floats, a.WeightOnly.Count > 0 ? a.WeightOnly : null, _o.WeightLayout);

    private string CacheEntryKey(string key) =>
        Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes("autoplan-v3\n" + _o.CacheKey + "\nprofile=" + _profile.ToJson() + "\nweight-layout=" + _o.WeightLayout + "\n" + key)));

    private bool OverBudget => _clock.Elapsed.TotalSeconds > _o.MaxSearchSeconds;

    /// <summary>Evaluates the plan <paramref name="a"/>; null when the time budget ran out first.</summary>
    private PlanEvaluation? Evaluate(Assignment a)
    {
        string key = a.Key;
        if (_seen.TryGetValue(key, out var seen)) return seen;
        string ck = CacheEntryKey(key);
        if (_cache.TryGetValue(ck, out var hit))
        {
            Evaluations++; CacheHits++;
            _evaluated.Add((a, hit));
            return _seen[key] = hit with { Cached = true };
        }
        if (OverBudget) return null;
        var lowering = Lower(a);
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
            double sg = 0, e = 0;
            for (int i = 0; i < f.Length && i < q.Length; i++) { sg += (double)f[i] * f[i]; e += ((double)q[i] - f[i]) * ((double)q[i] - f[i]); }
            sig[s] = sg; err[s] = e;
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
            LatencyModel.Predict(compiled, _profile), compiled.Weights.Length, false);
        Evaluations++; Computed++;
        _cache[ck] = ev; _cacheDirty = true;
        _evaluated.Add((a, ev));
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
        HashSet<string> Forced(LayerPrecisionKind k) => _o.Overrides.Where(kv => kv.Value == k).Select(kv => kv.Key).ToHashSet(StringComparer.Ordinal);
        var forcedFloat = Forced(LayerPrecisionKind.Float);
        var forcedInt8 = Forced(LayerPrecisionKind.Int8);
        var forcedWeightOnly = Forced(LayerPrecisionKind.Int8WeightOnly);
        Assignment A(IEnumerable<string> floats, IEnumerable<string> weightOnly)
        {
            var f = new HashSet<string>(forcedFloat, StringComparer.Ordinal); f.UnionWith(floats);
            var w = new HashSet<string>(forcedWeightOnly, StringComparer.Ordinal); w.UnionWith(weightOnly); w.ExceptWith(f);
            return new Assignment(f, w);
        }

        // Candidates: layers the all-int8 plan (overrides applied) runs with int8 kernels (aliases excluded), in graph order.
        var allInt8Lowering = Lower(A([], []));
        var layers = allInt8Lowering.Compiled.Layers;
        var int8Layers = layers.Where(l => l.Precision == "int8" && l.Kernel != "(alias: no code)").ToList();
        // ONNX node names need not be unique: the first node of a display name (the layer table's key) wins.
        var nodeOf = _model.Graph.Nodes.GroupBy(x => x.DisplayName, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        bool Named(string layer, IReadOnlySet<string> names) =>
            names.Contains(layer) || (nodeOf.TryGetValue(layer, out var node) && (names.Contains(node.Name) || node.Outputs.Any(names.Contains)));
        foreach (var name in forcedInt8)
            if (!int8Layers.Any(l => l.Node == name || (nodeOf.TryGetValue(l.Node, out var node) && node.Outputs.Contains(name))))
                throw new EdgeException(EdgeCodes.LayerPrecisionNotPossible, $"LayerPrecision asks for '{name}' in Int8, but the int8 lowering keeps it float32 (no int8 kernel for it, or a Float override covers it).");
        foreach (var name in forcedWeightOnly)
            if (!layers.Any(l => l.Precision == Int8WeightLowerer.WeightOnlyPrecision && (l.Node == name || (nodeOf.TryGetValue(l.Node, out var node) && node.Outputs.Contains(name)))))
                throw new EdgeException(EdgeCodes.LayerPrecisionNotPossible, $"LayerPrecision asks for '{name}' in Int8WeightOnly, but it has no constant Conv/Gemm/MatMul weight to quantize (or a Float override covers it).");
        var candidates = int8Layers.Where(l => !Named(l.Node, forcedInt8)).Select(l => l.Node).ToList();
        var macs = layers.GroupBy(l => l.Node, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Sum(l => l.Macs), StringComparer.Ordinal);
        var ops = layers.GroupBy(l => l.Node, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First().OpType, StringComparer.Ordinal);
        bool WeightOnlyPossible(string c) => nodeOf.TryGetValue(c, out var node) && node.OpType is "Conv" or "Gemm" or "MatMul"
            && node.Inputs.Count > 1 && _quant.Weights.ContainsKey(node.Inputs[1]);
        var reasons = new Dictionary<string, string>(StringComparer.Ordinal);

        // Top-1 needs classes: at least 2 outputs per sample, labels within them.
        int classes = allInt8Lowering.Compiled.Outputs.Count == 0 ? 0 : (int)Shapes.Product(allInt8Lowering.Compiled.Outputs[0].Shape);
        if (classes < 2)
            throw new EdgeException(EdgeCodes.AccuracyNotMeasurable, $"Quantization Auto measures top-1 on the first output, but it has {classes} value(s) per sample: there is no top-1 {(_labels is null ? "agreement with the float model" : "accuracy")} to keep. Use Quantization Int8 (with MaxAccuracyDrop unset) or LayerPrecision to choose precisions by hand.");
        int badLabel = _labels is null ? -1 : Array.FindIndex(_labels, l => l < 0 || l >= classes);
        if (badLabel >= 0)
            throw new EdgeException(EdgeCodes.AccuracyNotMeasurable, $"ValidationLabels holds label {_labels![badLabel]} (sample {badLabel}), outside the first output's {classes} classes [0, {classes - 1}].");

        var floatModel = A(candidates, []);
        var allFloatCompiled = Lower(floatModel).Compiled;
        double allFloatCost = LatencyModel.Predict(allFloatCompiled, _profile);
        long allFloatBytes = allFloatCompiled.Weights.Length;
        double allInt8Cost = LatencyModel.Predict(allInt8Lowering.Compiled, _profile);
        long allInt8Bytes = allInt8Lowering.Compiled.Weights.Length;
        bool IsFloatModel(Assignment a) => forcedInt8.Count == 0 && a.WeightOnly.Count == 0 && candidates.All(a.Floats.Contains);

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
        bool haveReference = floatCorrectOrNull is not null;
        int floatCorrect = floatCorrectOrNull ?? 0;
        double Top1(PlanEvaluation e) => 100.0 * e.Correct / n;

        var meeting = new List<(Assignment A, PlanEvaluation Eval)>();
        PlanEvaluation? Try(Assignment a)
        {
            var e = Evaluate(a);
            if (e is not null && haveReference && Meets(e, floatCorrect) && !meeting.Any(m => m.A.Key == a.Key)) meeting.Add((a, e));
            return e;
        }
        (Assignment A, PlanEvaluation Eval)? Best(IEnumerable<(Assignment A, PlanEvaluation Eval)> plans)
        {
            var list = plans.ToList();
            if (list.Count == 0) return null;
            double min = list.Min(m => m.Eval.PredictedCost);
            return list.Where(m => m.Eval.PredictedCost <= min * (1 + _o.LatencyTieFraction) + 1e-9)
                .OrderBy(m => m.Eval.WeightBytes).ThenBy(m => m.Eval.PredictedCost).ThenBy(m => m.A.Raised).ThenBy(m => m.A.Key, StringComparer.Ordinal).First();
        }

        var sensitivity = candidates.ToDictionary(c => c, c => new LayerSensitivity(c, ops[c], macs[c], double.NaN, double.NaN), StringComparer.Ordinal);
        bool timeMet = haveReference;
        bool sensitivityComplete = true;
        var allInt8 = haveReference ? Try(A([], [])) : null;
        if (allInt8 is null) timeMet = false;
        var current = A([], []);
        bool allInt8Meets = allInt8 is not null && Meets(allInt8, floatCorrect);
        // Sensitivity, only this layer float32 (the ranking of the search).
        if (allInt8 is not null)
            foreach (var c in candidates)
            {
                var e = Try(A([c], []));
                if (e is null) { timeMet = allInt8Meets; sensitivityComplete = false; break; }
                sensitivity[c] = sensitivity[c] with { Top1 = Top1(e), OutputSqnrDb = e.OutputSqnrDb };
            }
        var order = candidates.Select((c, i) => (s: sensitivity[c], i)).Where(t => !double.IsNaN(t.s.Top1))
            .OrderByDescending(t => t.s.Top1).ThenByDescending(t => t.s.OutputSqnrDb).ThenBy(t => t.i).Select(t => t.s.Node).ToList();
        if (allInt8 is not null && !allInt8Meets && sensitivityComplete)
        {
            // Raise the most sensitive layers to float32 (the most top-1 recovered, then the highest SQNR, then graph order).
            PlanEvaluation? cur = allInt8;
            var raised = new List<string>();
            foreach (var c in order)
            {
                if (Meets(cur!, floatCorrect)) break;
                raised.Add(c);
                current = A(raised, []);
                cur = Try(current);
                if (cur is null) { timeMet = false; break; }
                reasons[c] = string.Create(inv, $"raised to float32, plan top-1 then {Top1(cur):F2}%");
            }
            if (timeMet && cur is not null && Meets(cur, floatCorrect))
            {
                // Lower back the least sensitive raised layers that turn out not to matter.
                foreach (var c in raised.AsEnumerable().Reverse().ToList())
                {
                    var trial = new Assignment(new HashSet<string>(current.Floats, StringComparer.Ordinal), current.WeightOnly);
                    trial.Floats.Remove(c);
                    var e = Try(trial);
                    if (e is null) { timeMet = false; break; }
                    if (Meets(e, floatCorrect))
                    {
                        current = trial;
                        reasons[c] = string.Create(inv, $"raised, then lowered back to int8 (the plan still met the budget, top-1 {Top1(e):F2}%)");
                    }
                }
                // Size: a float32 layer of the cheapest plan as Int8WeightOnly (int8 weights, float32 activations) when the budget
                // still holds and the predicted latency stays within the tie fraction.
                if (timeMet && Best(meeting.Where(m => !IsFloatModel(m.A))) is { } best)
                {
                    current = best.A;
                    foreach (var c in candidates.Where(c => current.Floats.Contains(c) && !forcedFloat.Contains(c) && WeightOnlyPossible(c)).ToList())
                    {
                        var trial = new Assignment(new HashSet<string>(current.Floats, StringComparer.Ordinal), new HashSet<string>(current.WeightOnly, StringComparer.Ordinal));
                        trial.Floats.Remove(c); trial.WeightOnly.Add(c);
                        var e = Try(trial);
                        if (e is null) { timeMet = false; break; }
                        if (Meets(e, floatCorrect) && e.PredictedCost <= best.Eval.PredictedCost * (1 + _o.LatencyTieFraction))
                        {
                            current = trial;
                            reasons[c] = string.Create(inv, $"float32 in the cheapest plan; Int8WeightOnly also meets the budget (top-1 {Top1(e):F2}%) at {e.PredictedCost / best.Eval.PredictedCost:F3}x its predicted latency, with fewer weight bytes");
                        }
                    }
                }
            }
        }
        // The rest of the sensitivity table (report only; cut by the time budget without failing the plan).
        if (allInt8 is not null && sensitivityComplete)
        {
            foreach (var c in candidates.Where(WeightOnlyPossible))
            {
                var e = Try(A([], [c]));
                if (e is null) { sensitivityComplete = false; break; }
                sensitivity[c] = sensitivity[c] with { Top1WeightOnly = Top1(e), SqnrWeightOnly = e.OutputSqnrDb };
            }
            if (sensitivityComplete)
                foreach (var c in candidates)
                {
                    var e = Try(A(candidates.Where(x => x != c), []));
                    if (e is null) { sensitivityComplete = false; break; }
                    sensitivity[c] = sensitivity[c] with { Top1Int8 = Top1(e), SqnrInt8 = e.OutputSqnrDb };
                }
        }

        // The plan: lowest predicted latency (within the tie fraction), then weight bytes, among plans that met the budget and
        // quantize something. None: the budget is not met (the float model alone would be needed, or time ran out).
        var warnings = new List<string>();
        bool fellBack = false, accuracyMet = true;
        Assignment chosen;
        PlanEvaluation? chosenEval;
        if (allInt8Meets)
        {
            chosen = A([], []); chosenEval = allInt8;
        }
        else if (Best(meeting.Where(m => !IsFloatModel(m.A))) is { } pick)
        {
            chosen = pick.A; chosenEval = pick.Eval;
        }
        else
        {
            accuracyMet = false;
            var ranked = order.Take(3).Select(c => string.Create(inv, $"{c} ({ops[c]}, {Top1OrNa(sensitivity[c].Top1)} with only it float32)")).ToList();
            var bestTried = _evaluated.Where(t => !IsFloatModel(t.A)).OrderByDescending(t => t.E.Correct).ThenBy(t => t.E.PredictedCost).ThenBy(t => t.A.Key, StringComparer.Ordinal)
                .Select(t => ((Assignment, PlanEvaluation)?)t).FirstOrDefault();
            string code = allInt8 is null ? EdgeCodes.SearchTimeTooShort : EdgeCodes.AccuracyBudgetNotMet;
            string message = allInt8 is null
                ? string.Create(inv, $"Quantization Auto: MaxSearchSeconds {_o.MaxSearchSeconds} ran out before even the all-int8 plan was evaluated on {dataSetName} ({n} samples, {_clock.Elapsed.TotalSeconds:F2} s spent). Raise MaxSearchSeconds (one evaluation runs the plan over every sample), or give fewer ValidationData samples.")
                : string.Create(inv, $"Quantization Auto: no plan with a quantized layer meets MaxAccuracyDrop {_o.MaxAccuracyDrop} points on {dataSetName}{(timeMet ? "" : $" within MaxSearchSeconds {_o.MaxSearchSeconds}")}: float top-1 {100.0 * floatCorrect / n:F2}%, best {(bestTried is { } b0 ? Top1(b0.Item2).ToString("F2", inv) + "%" : "n/a")} by the plan {(bestTried is { } b1 ? Describe(b1.Item1) : "n/a")}; all int8 {Top1(allInt8):F2}%. Most sensitive layers: {(ranked.Count > 0 ? string.Join(", ", ranked) : "not measured")}. Raise MaxAccuracyDrop{(timeMet ? "" : " or MaxSearchSeconds")}, set those layers with LayerPrecision, or set AccuracyBudgetMode=\"Warn\" to build the best plan.");
            if (_o.BudgetMode == AccuracyBudgetMode.Error) throw new EdgeException(code, message);
            warnings.Add($"warning {code}: {message}");
            _log?.Invoke($"edgec: warning {code}: {message}");
            if (bestTried is { } bt) { chosen = bt.Item1; chosenEval = bt.Item2; }
            else { chosen = floatModel; chosenEval = null; fellBack = true; }
        }

        // Final reasons, from the chosen plan and what the search did with each layer.
        var rankOf = order.Select((c, r) => (c, r + 1)).ToDictionary(t => t.c, t => t.Item2, StringComparer.Ordinal);
        int meetingCount = meeting.Count(m => !IsFloatModel(m.A));
        string chosenWhy = string.Create(inv, $"the chosen plan is the lowest predicted latency (within {100 * _o.LatencyTieFraction:F0} %, then fewest weight bytes) of the {meetingCount} evaluated plan(s) meeting the budget");
        foreach (var c in candidates)
        {
            string rank = rankOf.TryGetValue(c, out var rk) ? string.Create(inv, $"sensitivity rank {rk} of {rankOf.Count}") : "not ranked";
            string step = reasons.GetValueOrDefault(c, "");
            string prec = chosen.Floats.Contains(c) ? "float32" : chosen.WeightOnly.Contains(c) ? "int8 weights" : "int8";
            reasons[c] = fellBack ? "float32: no plan was evaluated in time (AccuracyBudgetMode Warn)"
                : !accuracyMet ? $"{prec} ({rank}): the most accurate plan evaluated (budget NOT met, AccuracyBudgetMode Warn)"
                : allInt8Meets ? "int8: the all-int8 plan meets the budget"
                : prec != "int8" ? $"{prec} ({rank}): {chosenWhy}" + (step.Length > 0 ? $"; search: {step}" : "")
                : $"int8 ({rank})" + (step.Length > 0 ? $"; search: {step}; not needed by the chosen plan ({chosenWhy})" : ": not needed to meet the budget");
        }
        foreach (var f in forcedFloat) reasons[f] = "LayerPrecision override: float32";
        foreach (var f in forcedWeightOnly) reasons[f] = "LayerPrecision override: int8 weights";

        double floatTop1 = haveReference ? 100.0 * floatCorrect / n : double.NaN;
        double allInt8Top1 = allInt8 is null ? double.NaN : Top1(allInt8);
        double planTop1 = chosenEval is null ? floatTop1 : Top1(chosenEval);
        double planCost = chosenEval?.PredictedCost ?? allFloatCost;
        long planBytes = chosenEval?.WeightBytes ?? allFloatBytes;
        var floatLayers = candidates.Where(chosen.Floats.Contains).Concat(forcedFloat.OrderBy(x => x, StringComparer.Ordinal)).ToList();
        var weightOnlyLayers = candidates.Where(chosen.WeightOnly.Contains).Concat(forcedWeightOnly.OrderBy(x => x, StringComparer.Ordinal)).ToList();
        double candMacs = candidates.Where(c => ops[c] is "Conv" or "Gemm" or "MatMul").Sum(c => (double)macs[c]);
        double int8Macs = candidates.Where(c => ops[c] is "Conv" or "Gemm" or "MatMul" && !chosen.Floats.Contains(c) && !chosen.WeightOnly.Contains(c)).Sum(c => (double)macs[c]);
        var plan = new MixedPrecisionPlan(floatLayers, candidates, candidates.Select(c => sensitivity[c]).ToList(), reasons, floatTop1, allInt8Top1, planTop1,
            chosenEval?.OutputSqnrDb ?? double.PositiveInfinity, planCost, allFloatCost, allInt8Cost, planBytes,
            Evaluations, CacheHits, _clock.Elapsed.TotalSeconds, timeMet, accuracyMet, fellBack,
            _o.MaxAccuracyDrop, _o.MaxSearchSeconds, n, _labels is not null, dataSetName)
        {
            WeightOnlyLayers = weightOnlyLayers, AllFloatWeightBytes = allFloatBytes, AllInt8WeightBytes = allInt8Bytes,
            AllInt8SqnrDb = allInt8?.OutputSqnrDb ?? double.NaN, Int8MacFraction = candMacs > 0 ? int8Macs / candMacs : double.NaN,
            ProfileName = _profile.Name, ProfileUnit = _profile.Unit, BudgetMode = _o.BudgetMode, SensitivityComplete = sensitivityComplete, Warnings = warnings,
        };
        _log?.Invoke(string.Create(inv, $"edgec: Quantization Auto: {floatLayers.Count} float32 and {weightOnlyLayers.Count} int8-weight layer(s) of {candidates.Count + forcedFloat.Count + forcedWeightOnly.Count} ({string.Join(", ", floatLayers.Concat(weightOnlyLayers))}); top-1 float {floatTop1:F2}%, all int8 {allInt8Top1:F2}%, plan {planTop1:F2}%; {Evaluations} evaluations ({CacheHits} cached) in {plan.Seconds:F2} s; time budget {(timeMet ? "met" : "NOT met")}{(fellBack ? "; fell back to float32" : "")}"));
        return plan;

        static string Top1OrNa(double d) => double.IsNaN(d) ? "not measured" : d.ToString("F2", CultureInfo.InvariantCulture) + "%";
        string Describe(Assignment a) => a.Raised == 0 ? "all int8" : "[" + string.Join(", ", a.Floats.OrderBy(x => x, StringComparer.Ordinal).Select(x => x + ": float32")
            .Concat(a.WeightOnly.OrderBy(x => x, StringComparer.Ordinal).Select(x => x + ": int8 weights"))) + "; the rest int8]";
    }

    /// <summary>The float32 layer names of <paramref name="plan"/> as the lowerer's keep-float set.</summary>
    public static HashSet<string> KeepFloat(MixedPrecisionPlan plan) => plan.FloatLayers.ToHashSet(StringComparer.Ordinal);

    /// <summary>The Int8WeightOnly layer names of <paramref name="plan"/> as the lowerer's weight-only set.</summary>
    public static HashSet<string> WeightOnly(MixedPrecisionPlan plan) => plan.WeightOnlyLayers.ToHashSet(StringComparer.Ordinal);
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
