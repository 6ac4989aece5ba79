using System.Globalization;
using System.Text;
using EdgeCompile.Compiler.Data;
using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.Lowering;
using EdgeCompile.Compiler.Lowering.Int8;
using EdgeCompile.Compiler.Onnx;
using EdgeCompile.Compiler.Pruning;
using EdgeCompile.Compiler.Quantization;

namespace EdgeCompile.Compiler;

/// <summary>What <c>edgec compile</c> is asked to do (one <c>&lt;EdgeModel&gt;</c> item).</summary>
public sealed record CompileRequest
{
    public required string ModelPath { get; init; }
    public required string OutDir { get; init; }
    /// <summary>Empty: the file name in PascalCase.</summary>
    public string ClassName { get; init; } = "";
    public string Namespace { get; init; } = "";
    /// <summary>The InputShapes metadata text: <c>in:1x3x224x224;mask:1x128</c>.</summary>
    public string InputShapes { get; init; } = "";
    /// <summary>How diagnostics and the plan name the model (the item as written); default the model path.</summary>
    public string? SourceDisplay { get; init; }
    public string? PlanName { get; init; }
    public string? ResourceName { get; init; }
    /// <summary>File size, nesting depth and tensor-element caps (docs/security.md).</summary>
    public ReaderLimits Limits { get; init; } = ReaderLimits.Default;
    public int MaxNodes { get; init; } = new FrontEndOptions().MaxNodes;
    /// <summary>None (float32) or Int8 (static, calibrated); empty means None.</summary>
    public string Quantization { get; init; } = "";
    public string CalibrationData { get; init; } = "";
    public string CalibrationMethod { get; init; } = "";
    public string ValidationData { get; init; } = "";
    public string ValidationLabels { get; init; } = "";
    /// <summary>Percentage points of top-1 the int8 model may lose against float; empty means no gate.</summary>
    public string MaxAccuracyDrop { get; init; } = "";
    /// <summary>Pruning metadata (docs/pruning.md): <c>Channels:0.3;Magnitude:0.5</c>; empty means no pruning.</summary>
    public string Pruning { get; init; } = "";
    public string PruningLayers { get; init; } = "";
    public string PruningExclude { get; init; } = "";
    public string PruningSteps { get; init; } = "";
    public string PruningCriterion { get; init; } = "";
    /// <summary>LeastSquares (default: re-fit the layers after removed channels on the calibration data) or None.</summary>
    public string PruningRecovery { get; init; } = "";
    /// <summary>Per-layer overrides <c>name:Int8|Float</c> joined by ';' (Quantization Auto, and Float overrides for Int8).</summary>
    public string LayerPrecision { get; init; } = "";
    /// <summary>Quantization Auto: hard time budget of the search in seconds; empty means 60.</summary>
    public string MaxSearchSeconds { get; init; } = "";
    /// <summary>Static int8 (Int8, Auto): cross-layer equalization before calibration; empty means true (docs/quantization.md).</summary>
    public string Equalization { get; init; } = "";
    /// <summary>Static int8 (Int8, Auto): empirical bias correction of the int8 layers; empty means true.</summary>
    public string BiasCorrection { get; init; } = "";
    /// <summary>Quantization Auto: <c>Error</c> (default) or <c>Warn</c> when no plan meets MaxAccuracyDrop.</summary>
    public string AccuracyBudgetMode { get; init; } = "";
    /// <summary>EdgeTargetDevice: a device profile name (build/devices) or a path to a profile .json; empty: from the RuntimeIdentifier.</summary>
    public string TargetDevice { get; init; } = "";
    /// <summary>Threads metadata: the threads one Run may use (empty or 1: the calling thread alone; docs/benchmarks.md "Multi-threaded Run").</summary>
    public string Threads { get; init; } = "";
    /// <summary>The project's RuntimeIdentifier (picks the device profile when TargetDevice is empty).</summary>
    public string RuntimeIdentifier { get; init; } = "";
    /// <summary>Quantization Auto: threads for the evaluations (-1 = all cores); the plan does not depend on it.</summary>
    public int MaxDegreeOfParallelism { get; init; } = -1;
    /// <summary>Also write the quantized model as a QDQ ONNX file, <see cref="Compilation.QuantizedOnnxPath"/> (Int8 modes only).</summary>
    public bool ExportQuantizedOnnx { get; init; }
    /// <summary>Progress and warning lines (edgec prints them).</summary>
    public Action<string>? Log { get; init; }
}

/// <summary>
/// The whole compile of one model: front end, lowering, artifact. <c>edgec</c> is a thin shell over this, so tests
/// can run exactly what the build runs in process.
/// </summary>
public static class Compilation
{
    public sealed record Result(CompiledModel Model, ArtifactWriter.Paths Paths, string InputHash, AccuracyReport? Accuracy = null);

    public static Result Compile(CompileRequest r)
    {
        string className = r.ClassName is { Length: > 0 } cn ? cn : Identifiers.PascalCase(Path.GetFileNameWithoutExtension(r.ModelPath));
        if (!Identifiers.IsValid(className))
            throw new EdgeException(EdgeCodes.InvalidMetadata, $"ClassName '{className}' is not a valid C# identifier. Use letters, digits and '_', not starting with a digit, and not a keyword.");
        string ns = r.Namespace;
        if (ns.Length > 0 && !ns.Split('.').All(Identifiers.IsValid))
            throw new EdgeException(EdgeCodes.InvalidMetadata, $"Namespace '{ns}' is not a valid C# namespace.");
        var shapes = ParseShapes(r.InputShapes);
        int threads = ParallelCalls.Parse(r.Threads);
        string display = r.SourceDisplay ?? r.ModelPath;
        // A named device is checked whatever the quantization (EDGE4015 unknown or malformed, EDGE4016 another architecture
        // than the RuntimeIdentifier's): only Auto plans with its costs, but a wrong name is a wrong build either way.
        if (r.TargetDevice.Length > 0) DeviceProfile.Resolve(r.TargetDevice, r.RuntimeIdentifier);

        using var model = FrontEnd.Load(r.ModelPath, new FrontEndOptions { InputShapes = shapes, Limits = r.Limits, MaxNodes = r.MaxNodes });
        if (shapes is not null)
            foreach (var name in shapes.Keys)
                if (!model.Graph.Inputs.Any(i => i.Name == name))
                    throw new EdgeException(EdgeCodes.InvalidMetadata, $"InputShapes names '{name}', which is not an input of the model (inputs: {string.Join(", ", model.Graph.Inputs.Select(i => i.Name))}).");
        var mode = r.Quantization is { Length: > 0 } qm ? QuantizationOptions.ParseMode(qm) : QuantizationMode.None;
        var pruning = PruningOptions.Parse(r.Pruning, r.PruningLayers, r.PruningExclude, r.PruningSteps, r.PruningCriterion, r.PruningRecovery);
        double? maxDrop = ParseMaxDrop(r.MaxAccuracyDrop);
        CompiledModel compiled;
        AccuracyReport? accuracy = null;
        var dataFiles = new List<string>();
        IR.Model? qdq = null;
        var reportNotes = new List<string>();
        if (mode is not (QuantizationMode.Auto or QuantizationMode.Int8) && r.LayerPrecision.Length > 0)
            throw new EdgeException(EdgeCodes.InvalidQuantizationOption, $"LayerPrecision needs Quantization Auto (or Int8, for Float overrides); Quantization is {mode}.");
        if (mode != QuantizationMode.Auto && r.MaxSearchSeconds.Length > 0)
            throw new EdgeException(EdgeCodes.InvalidQuantizationOption, $"MaxSearchSeconds needs Quantization Auto; Quantization is {mode}.");
        if (mode != QuantizationMode.Auto && r.AccuracyBudgetMode.Length > 0)
            throw new EdgeException(EdgeCodes.InvalidQuantizationOption, $"AccuracyBudgetMode needs Quantization Auto; Quantization is {mode}.");
        if (mode is not (QuantizationMode.Auto or QuantizationMode.Int8) && (r.Equalization.Length > 0 || r.BiasCorrection.Length > 0))
            throw new EdgeException(EdgeCodes.InvalidQuantizationOption, $"Equalization and BiasCorrection apply to static int8 (Quantization Int8 or Auto); Quantization is {mode}.");
        if (mode == QuantizationMode.Auto && r.ExportQuantizedOnnx)
            throw new EdgeException(EdgeCodes.InvalidQuantizationOption, "ExportQuantizedOnnx is not supported with Quantization Auto yet (the QDQ export describes an all-int8 plan).");
        if (mode == QuantizationMode.None && r.ExportQuantizedOnnx)
            throw new EdgeException(EdgeCodes.InvalidQuantizationOption, "ExportQuantizedOnnx needs Quantization Int8, Int8Dynamic or Int8WeightOnly (Quantization is None: there is no quantized model to export).");
        PruningReport? pruned = pruning is { Enabled: true } ? Prune(model, pruning, r, dataFiles, display, mode == QuantizationMode.None ? maxDrop : null) : null;
        if (mode == QuantizationMode.None) compiled = Lowerer.Lower(model, className, ns, r.Limits.MaxTensorElements);
        else (compiled, accuracy, qdq) = CompileInt8(model, r, mode, className, ns, dataFiles, display, reportNotes, pruned?.Accuracy?.Drop ?? 0);
        if (pruned is not null)
        {
            // Magnitude pruning's zeros are stored compressed (the kernels still run dense; docs/pruning.md).
            compiled.CompressWeights = pruning!.MagnitudeRate > 0;
            compiled.Sections.Add(new ReportSection("pruning", pruned.Markdown(), pruned.Json()));
        }
        if (r.ResourceName is { Length: > 0 } rn) compiled.ResourceName = rn;
        // After the build-time accuracy check, which ran the serial plan: the parallel calls compute the same bytes.
        compiled = ParallelCalls.Apply(compiled, threads);
        string hash = ArtifactWriter.InputHash(r.ModelPath, model.ExternalDataFiles, CanonicalOptions(r, className, shapes, display, compiled.ResourceName), dataFiles);
        var paths = ArtifactWriter.Write(compiled, r.OutDir, display, hash, r.PlanName is { Length: > 0 } pn ? pn : null,
            // Relative to the model's folder (external data is confined to it), so the list is the same on every machine.
            model.ExternalDataFiles.Select(f => Path.GetRelativePath(Path.GetDirectoryName(Path.GetFullPath(r.ModelPath))!, f).Replace('\\', '/')).ToList());
        foreach (var note in reportNotes) File.AppendAllText(paths.ReportMarkdown, "\n" + note + "\n");
        if (accuracy is not null) File.AppendAllText(paths.ReportMarkdown, "\n" + accuracy.Markdown());
        string onnx = QuantizedOnnxPath(r.OutDir, r.PlanName is { Length: > 0 } stem ? stem : className);
        if (!r.ExportQuantizedOnnx && File.Exists(onnx))   // an export from an earlier build with the switch on
            try { File.Delete(onnx); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { r.Log?.Invoke($"edgec: could not delete the stale '{onnx}': {e.Message}"); }
        if (qdq is not null && r.ExportQuantizedOnnx)
        {
            try { QdqExporter.WriteFile(qdq, onnx); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new EdgeException(EdgeCodes.OutputNotWritable, $"Cannot write the quantized ONNX model '{onnx}': {e.Message}");
            }
            r.Log?.Invoke($"edgec: quantized ONNX (QDQ): {Path.GetFullPath(onnx)}");
        }
        return new Result(compiled, paths, hash, accuracy);
    }

    /// <summary>The data the build measures accuracy on: ValidationData (with ValidationLabels when given), else the
    /// calibration set (against the float model's predictions), else none. Files read are added to <paramref name="dataFiles"/>.</summary>
    private static (Quantization.CalibrationData? Data, long[]? Labels, string Name) EvaluationSet(CompileRequest r, IR.Model model, Quantization.CalibrationData? calibration, List<string> dataFiles)
    {
        if (r.ValidationData is not { Length: > 0 } vd)
            return (calibration, null, calibration is null ? "" : Path.GetFileName(r.CalibrationData));
        var data = Quantization.CalibrationData.Load(vd, model);
        if (!dataFiles.Contains(vd)) dataFiles.Add(vd);
        long[]? labels = null;
        if (r.ValidationLabels is { Length: > 0 } vl)
        {
            labels = NpyFile.Load(vl).ToInt64s();
            if (!dataFiles.Contains(vl)) dataFiles.Add(vl);
        }
        return (data, labels, Path.GetFileName(vd));
    }

    private static double? ParseMaxDrop(string text) =>
        text is not { Length: > 0 } md ? null
        : double.TryParse(md, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && d >= 0 && d <= 100 && double.IsFinite(d) ? d
        : throw new EdgeException(EdgeCodes.InvalidQuantizationOption, $"MaxAccuracyDrop '{md}' is not a number of percentage points of top-1 between 0 and 100.");

    /// <summary>
    /// Prunes the float model in place (before quantization, which then calibrates the pruned model), measures top-1 of the
    /// pruned float model against the unpruned one, and enforces <paramref name="maxDrop"/> when the model stays float.
    /// </summary>
    private static PruningReport Prune(IR.Model model, PruningOptions options, CompileRequest r, List<string> dataFiles, string display, double? maxDrop)
    {
        Passes.FoldStaticShapes.Run(model);
        Quantization.CalibrationData? calibration = null;
        if (r.CalibrationData is { Length: > 0 } calibPath)
        {
            calibration = Quantization.CalibrationData.Load(calibPath, model);
            dataFiles.Add(calibPath);
        }
        var unpruned = Pruner.Snapshot(model);
        var report = Pruner.Prune(model, options with { MaxDegreeOfParallelism = -1 }, calibration, r.Log);
        foreach (var w in report.Warnings) r.Log?.Invoke($"{display}: {w}");

        var (evalData, labels, setName) = EvaluationSet(r, unpruned, calibration, dataFiles);
        if (evalData is null)
        {
            if (maxDrop is not null)
                throw new EdgeException(EdgeCodes.AccuracyDropExceeded, "MaxAccuracyDrop is set, but there is no CalibrationData or ValidationData to measure the pruned model on.");
            r.Log?.Invoke("edgec: pruning accuracy not measured: no CalibrationData or ValidationData.");
            return report;
        }
        report.Accuracy = Pruner.Evaluate(unpruned, model, evalData, labels, setName);
        r.Log?.Invoke("edgec: " + report.Accuracy.Summary());
        if (maxDrop is { } limit && report.Accuracy.Drop > limit)
            throw new EdgeException(EdgeCodes.AccuracyDropExceeded,
                string.Create(CultureInfo.InvariantCulture, $"Pruning drops top-1 by {report.Accuracy.Drop:F2} points, more than MaxAccuracyDrop {limit}. {report.Accuracy.Summary()}.\n") + report.Markdown());
        return report;
    }

    /// <summary>Where ExportQuantizedOnnx writes: <c>&lt;OutDir&gt;/&lt;plan name, else ClassName&gt;.quantized.onnx</c>, next to the plan.</summary>
    public static string QuantizedOnnxPath(string outDir, string stem) => Path.Combine(outDir, stem + ".quantized.onnx");

    /// <summary>
    /// Int8 modes. Static <c>Int8</c>: calibrate (PostTrainingQuantizer), lower to the int8 kernels. <c>Int8Dynamic</c> /
    /// <c>Int8WeightOnly</c>: quantize the weights only (no calibration), lower with <see cref="Int8WeightLowerer"/>. Then, when
    /// there is data to evaluate on, run the plan with the real kernels against the float reference (accuracy report, MaxAccuracyDrop).
    /// </summary>
    private static (CompiledModel, AccuracyReport?, IR.Model) CompileInt8(IR.Model model, CompileRequest r, QuantizationMode mode, string className, string ns, List<string> dataFiles, string display, List<string> reportNotes, double pruningDrop = 0)
    {
        var inv = CultureInfo.InvariantCulture;
        bool isStatic = mode is QuantizationMode.Int8 or QuantizationMode.Auto;
        if (isStatic && r.CalibrationData is not { Length: > 0 })
            throw new EdgeException(EdgeCodes.InvalidQuantizationOption, $"Quantization {mode} (static int8) needs CalibrationData (a .npy or .npz of representative inputs).");
        var options = new QuantizationOptions
        {
            Mode = mode == QuantizationMode.Auto ? QuantizationMode.Int8 : mode,
            Method = r.CalibrationMethod is { Length: > 0 } cm ? QuantizationOptions.ParseMethod(cm) : QuantizationOptions.DefaultMethod,
            Equalization = QuantizationOptions.ParseSwitch(r.Equalization, "Equalization", true),
            BiasCorrection = QuantizationOptions.ParseSwitch(r.BiasCorrection, "BiasCorrection", true),
        };
        if (!isStatic && r.CalibrationMethod is { Length: > 0 })
            r.Log?.Invoke($"{display}: warning {EdgeCodes.InvalidQuantizationOption}: CalibrationMethod is ignored by Quantization {mode} (nothing is calibrated).");
        double? maxDrop = ParseMaxDrop(r.MaxAccuracyDrop);
        Passes.FoldStaticShapes.Run(model);
        CalibrationData? calibration = null;
        string? calibPath = r.CalibrationData is { Length: > 0 } cp ? cp : null;
        if (calibPath is not null)
        {
            calibration = Quantization.CalibrationData.Load(calibPath, model);
            if (!dataFiles.Contains(calibPath)) dataFiles.Add(calibPath);
        }
        var result = PostTrainingQuantizer.Quantize(model, isStatic ? calibration : null, options);
        foreach (var w in (calibration?.Warnings ?? []).Concat(result.Warnings))
            r.Log?.Invoke($"{display}: {w}");
        if (result.Equalized.Count > 0 || result.BiasCorrections.Count > 0)
        {
            string prep = string.Create(inv, $"Graph preparation: cross-layer equalization of {result.Equalized.Count} layer pair(s){(result.Equalized.Count > 0 ? " (" + string.Join(", ", result.Equalized.Select(p => $"{p.First} → {p.Second}: weight range spread {p.SpreadBefore:G3} → {p.SpreadAfter:G3}")) + ")" : "")}; bias correction of {result.BiasCorrections.Count} layer(s){(result.BiasCorrections.Count > 0 ? string.Create(inv, $" (mean |change| {result.BiasCorrections.Average(b => b.MeanAbsChange):G3})") : "")}.");
            r.Log?.Invoke("edgec: " + prep);
            reportNotes.Add(prep);
        }
        var qdq = result.QdqModel;
        if (mode == QuantizationMode.Int8Dynamic)
        {
            // Int8Dynamic quantizes MatMul/Gemm weights only: the export keeps Conv weights float, as the plan does.
            var gemmWeights = QdqExporter.FindWeights(model).Where(w => w.Node.OpType != "Conv").Select(w => w.Weight).ToHashSet(StringComparer.Ordinal);
            qdq = QdqExporter.Export(model, result.Activations, result.Weights.Where(kv => gemmWeights.Contains(kv.Key)).ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal));
        }
        var overrides = isStatic ? MixedPrecisionOptions.ParseOverrides(r.LayerPrecision, model) : [];
        HashSet<string>? keepFloat = overrides.Where(kv => kv.Value == LayerPrecisionKind.Float).Select(kv => kv.Key).ToHashSet(StringComparer.Ordinal);
        HashSet<string> weightOnly = overrides.Where(kv => kv.Value == LayerPrecisionKind.Int8WeightOnly).Select(kv => kv.Key).ToHashSet(StringComparer.Ordinal);
        if (mode == QuantizationMode.Int8 && overrides.Any(kv => kv.Value == LayerPrecisionKind.Int8))
            r.Log?.Invoke($"{display}: warning {EdgeCodes.InvalidQuantizationOption}: LayerPrecision Int8 entries have no effect under Quantization Int8 (every layer with an int8 kernel is int8).");
        MixedPrecisionPlan? autoPlan = null;
        if (mode == QuantizationMode.Auto)
        {
            // Auto searches on ValidationData (and ValidationLabels), else on the calibration set (Auto needs CalibrationData).
            var (searchSetData, searchLabels, searchSet) = EvaluationSet(r, model, calibration, dataFiles);
            var searchData = searchSetData!;
            double seconds = MixedPrecisionOptions.ParseSeconds(r.MaxSearchSeconds);
            var mpo = new MixedPrecisionOptions
            {
                // With pruning, the budget covers both (as the EDGE4007 gate below): the search gets what pruning left of it.
                MaxAccuracyDrop = Math.Max(0, (maxDrop ?? MixedPrecisionOptions.DefaultMaxAccuracyDrop) - pruningDrop),
                MaxSearchSeconds = seconds,
                Overrides = overrides,
                MaxDegreeOfParallelism = r.MaxDegreeOfParallelism,
                BudgetMode = MixedPrecisionOptions.ParseBudgetMode(r.AccuracyBudgetMode),
                Profile = DeviceProfile.Resolve(r.TargetDevice, r.RuntimeIdentifier),
                WeightLayout = DeviceProfile.Int8WeightLayout(r.TargetDevice, r.RuntimeIdentifier),
                CachePath = Path.Combine(r.OutDir, (r.PlanName is { Length: > 0 } pn ? pn : className) + ".autoplan.cache"),
                CacheKey = ArtifactWriter.InputHash(r.ModelPath, model.ExternalDataFiles,
                    $"auto-eval\ncalibration-method={r.CalibrationMethod}\nequalization={options.Equalization}\nbias-correction={options.BiasCorrection}\ninput-shapes={r.InputShapes}\npruning={r.Pruning}|{r.PruningLayers}|{r.PruningExclude}|{r.PruningSteps}|{r.PruningCriterion}|{r.PruningRecovery}\ncompiler={ArtifactWriter.CompilerVersion}\n",
                    dataFiles),
            };
            autoPlan = new MixedPrecisionSearch(model, result, searchData, searchLabels, mpo, r.Log).Run(searchSet);
            keepFloat = MixedPrecisionSearch.KeepFloat(autoPlan);
            weightOnly = MixedPrecisionSearch.WeightOnly(autoPlan);
        }
        // Conv/Gemm weights are packed for the target: with the per-block sums only where the ARM64 dot-product path can run.
        var layout = DeviceProfile.Int8WeightLayout(r.TargetDevice, r.RuntimeIdentifier);
        var lowering = isStatic ? Int8Lowerer.Lower(model, result, className, ns, keepFloat.Count > 0 ? keepFloat : null, weightOnly.Count > 0 ? weightOnly : null, layout)
            : Int8WeightLowerer.Lower(model, result, mode, className, ns, layout);
        if (autoPlan is not null) lowering.Compiled.Sections.Add(new ReportSection("mixedPrecision", autoPlan.Markdown(), autoPlan.Json()));
        if (lowering.FloatNodes.Count > 0)
            r.Log?.Invoke(isStatic
                ? $"edgec: {lowering.FloatNodes.Count} node(s) stay float32 (no int8 kernel{(keepFloat.Count > 0 ? ", or kept float" : "")}): {string.Join(", ", lowering.FloatNodes)}"
                : $"edgec: {lowering.FloatNodes.Count} Conv/Gemm/MatMul node(s) keep float32 weights under {mode}: {string.Join(", ", lowering.FloatNodes)}");
        if (!isStatic && lowering.Compiled.Layers.All(l => l.Precision == "float32"))
            r.Log?.Invoke($"{display}: warning {EdgeCodes.NothingQuantized}: Quantization {mode} found no layer to quantize ({(mode == QuantizationMode.Int8Dynamic ? "MatMul with a 2-D constant weight, or Gemm with transA 0, alpha 1, beta 1" : "Conv, Gemm or MatMul with a float32 constant weight")}); the model stays float32.");
        string modeName = mode == QuantizationMode.Auto ? "mixed int8/float32" : isStatic ? "int8" : mode.ToString();
        if (!isStatic)
        {
            string line = string.Create(inv, $"{mode}: the quantized layers' weights take {lowering.QuantizedWeightBytes} bytes (int8 + float32 scales) instead of {lowering.FloatWeightBytes} float32 bytes ({(lowering.FloatWeightBytes == 0 ? 1.0 : (double)lowering.QuantizedWeightBytes / lowering.FloatWeightBytes):F3}x); weight blob {lowering.Compiled.Weights.Length} bytes");
            r.Log?.Invoke("edgec: " + line);
            reportNotes.Add(line);
        }

        var (evalData, labels, setName) = EvaluationSet(r, model, calibration, dataFiles);
        if (evalData is null)
        {
            if (maxDrop is not null)
                throw new EdgeException(EdgeCodes.InvalidQuantizationOption, $"MaxAccuracyDrop is set, but Quantization {mode} has no data to measure accuracy on: give ValidationData (and ValidationLabels) or CalibrationData.");
            r.Log?.Invoke($"edgec: build-time {modeName} accuracy skipped: no ValidationData or CalibrationData.");
            return (lowering.Compiled, null, qdq);
        }
        if (!PlanInterpreter.CanRun(lowering.Compiled))
        {
            if (maxDrop is not null)
                throw new EdgeException(EdgeCodes.AccuracyDropExceeded, "MaxAccuracyDrop is set, but the plan has float32 nodes the build-time evaluator cannot run yet.");
            r.Log?.Invoke($"edgec: build-time {modeName} accuracy skipped: the plan has float32 nodes the build-time evaluator cannot run yet.");
            return (lowering.Compiled, null, qdq);
        }
        var accuracy = Int8Accuracy.Evaluate(model, lowering, evalData, labels, setName!, modeName);
        r.Log?.Invoke("edgec: " + accuracy.Summary());
        // With pruning, the budget covers both: the pruned float model's drop against the unpruned one plus int8's against it.
        if (maxDrop is { } limit && accuracy.Drop + pruningDrop > limit)
            throw new EdgeException(EdgeCodes.AccuracyDropExceeded,
                string.Create(inv, $"{(mode == QuantizationMode.Int8 ? "Int8" : mode.ToString())} top-1 drops {accuracy.Drop:F2} points{(pruningDrop != 0 ? $" (plus {pruningDrop:F2} from pruning)" : "")}, more than MaxAccuracyDrop {limit}. {accuracy.Summary()}.\n") + accuracy.LayerTable());
        return (lowering.Compiled, accuracy, qdq);
    }

    /// <summary>
    /// The options that shape the artifact, one <c>key=value</c> per line in a fixed order (input shapes sorted by name).
    /// Limits are left out: they decide whether a model is accepted, never what the artifact contains.
    /// </summary>
    public static string CanonicalOptions(CompileRequest r, string className, IReadOnlyDictionary<string, int[]>? shapes, string display, string resourceName)
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.Append("class=").Append(className).Append('\n');
        sb.Append("namespace=").Append(r.Namespace).Append('\n');
        sb.Append("input-shapes=");
        if (shapes is not null)
            sb.AppendJoin(';', shapes.OrderBy(kv => kv.Key, StringComparer.Ordinal)
                .Select(kv => kv.Key + ":" + string.Join("x", kv.Value.Select(d => d.ToString(inv)))));
        sb.Append('\n');
        sb.Append("source=").Append(display).Append('\n');
        sb.Append("plan-name=").Append(r.PlanName ?? "").Append('\n');
        sb.Append("resource=").Append(resourceName).Append('\n');
        sb.Append("quantization=").Append(r.Quantization).Append('\n');
        sb.Append("calibration-method=").Append(r.CalibrationMethod).Append('\n');
        sb.Append("max-accuracy-drop=").Append(r.MaxAccuracyDrop).Append('\n');
        if (r.LayerPrecision.Length > 0 || r.MaxSearchSeconds.Length > 0)
            sb.Append("layer-precision=").Append(r.LayerPrecision).Append("\nmax-search-seconds=").Append(r.MaxSearchSeconds).Append('\n');
        if (r.Equalization.Length > 0 || r.BiasCorrection.Length > 0 || r.AccuracyBudgetMode.Length > 0)
            sb.Append("equalization=").Append(r.Equalization).Append("\nbias-correction=").Append(r.BiasCorrection).Append("\naccuracy-budget-mode=").Append(r.AccuracyBudgetMode).Append('\n');
        // The device profile shapes an Auto plan (its latency table).
        if (r.Quantization.Equals("Auto", StringComparison.OrdinalIgnoreCase))
            sb.Append("device-profile=").Append(DeviceProfile.Resolve(r.TargetDevice, r.RuntimeIdentifier).ToJson().ReplaceLineEndings("")).Append('\n');
        // The target decides how int8 weights are packed (with or without the dot-product sums).
        if (r.Quantization is { Length: > 0 } q && !q.Equals("None", StringComparison.OrdinalIgnoreCase))
            sb.Append("int8-weight-layout=").Append(DeviceProfile.Int8WeightLayout(r.TargetDevice, r.RuntimeIdentifier)).Append('\n');
        if (r.Pruning.Length > 0 || r.PruningLayers.Length > 0 || r.PruningExclude.Length > 0 || r.PruningSteps.Length > 0 || r.PruningCriterion.Length > 0 || r.PruningRecovery.Length > 0)
            sb.Append("pruning=").Append(r.Pruning).Append('|').Append(r.PruningLayers).Append('|').Append(r.PruningExclude)
                .Append('|').Append(r.PruningSteps).Append('|').Append(r.PruningCriterion).Append('|').Append(r.PruningRecovery).Append('\n');
        if (r.Threads.Length > 0) sb.Append("threads=").Append(r.Threads).Append('\n');
        sb.Append("compiler=").Append(ArtifactWriter.CompilerVersion).Append('\n');
        return sb.ToString();
    }

    public static Dictionary<string, int[]>? ParseShapes(string spec)
    {
        if (string.IsNullOrWhiteSpace(spec)) return null;
        var result = new Dictionary<string, int[]>(StringComparer.Ordinal);
        foreach (var part in spec.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int colon = part.LastIndexOf(':');
            if (colon <= 0) throw new EdgeException(EdgeCodes.InvalidMetadata, $"InputShapes entry '{part}' is not 'name:1x3x224x224'.");
            var dims = part[(colon + 1)..].Split('x');
            var shape = new int[dims.Length];
            for (int i = 0; i < dims.Length; i++)
                if (!int.TryParse(dims[i], NumberStyles.None, CultureInfo.InvariantCulture, out shape[i]))
                    throw new EdgeException(EdgeCodes.InvalidMetadata, $"InputShapes entry '{part}' has dimension '{dims[i]}', which is not a non-negative integer.");
            result[part[..colon]] = shape;
        }
        return result;
    }
}
