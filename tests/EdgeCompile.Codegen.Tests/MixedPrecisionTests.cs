using System.Globalization;
using System.Text.Json;
using EdgeCompile.Codegen.Tests.Support;
using EdgeCompile.Compiler;
using EdgeCompile.Compiler.Data;
using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.IR;
using EdgeCompile.Compiler.Lowering;
using EdgeCompile.Compiler.Lowering.Int8;
using EdgeCompile.Compiler.Quantization;
using Xunit.Abstractions;
using Attribute = EdgeCompile.Compiler.IR.Attribute;
using ValueType = EdgeCompile.Compiler.IR.ValueType;

namespace EdgeCompile.Codegen.Tests;

/// <summary>
/// Quantization=Auto (docs/mixed-precision.md): forced-float lowering, the search on a model with one layer made
/// quantization-sensitive, determinism, the time budget, the evaluation cache, metadata errors, and the generated class of
/// an Auto plan against the plan interpreter bit for bit.
/// </summary>
public class MixedPrecisionTests(ITestOutputHelper output)
{
    private static string Digits(string file) => Path.Combine(TestPaths.DigitsModelDir, file);

    private static string TempDir()
    {
        string d = Path.Combine(Path.GetTempPath(), "edge-auto-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(d);
        return d;
    }

    private static CompileRequest DigitsRequest(string outDir, string maxDrop = "0", string seconds = "", string layers = "") => new()
    {
        ModelPath = Digits("digits.onnx"), OutDir = outDir, Quantization = "Auto",
        CalibrationData = Digits("digits_calib_x.npy"), ValidationData = Digits("digits_test_x.npy"), ValidationLabels = Digits("digits_test_y.npy"),
        MaxAccuracyDrop = maxDrop, MaxSearchSeconds = seconds, LayerPrecision = layers,
    };

    private static JsonElement MixedSection(ArtifactWriter.Paths p) =>
        JsonDocument.Parse(File.ReadAllText(p.ReportJson)).RootElement.GetProperty("mixedPrecision");

    // ---------- forced-float lowering ----------

    [Fact]
    public void Lowerer_keeps_the_named_nodes_float_between_dequantize_and_quantize()
    {
        using var model = CodegenHarness.Load(Digits("digits.onnx"), null);
        Compiler.Passes.FoldStaticShapes.Run(model);
        var calibration = CalibrationData.Load(Digits("digits_calib_x.npy"), model);
        var q = PostTrainingQuantizer.Quantize(model, calibration, new QuantizationOptions { Mode = QuantizationMode.Int8 });
        var all = Int8Lowerer.Lower(Compiler.Pruning.Pruner.Snapshot(model), q, "D", "N");
        Assert.Empty(all.FloatNodes);
        string conv = all.Compiled.Layers.First(l => l.OpType == "Conv" && l.Macs > 100_000).Node;
        var mixed = Int8Lowerer.Lower(Compiler.Pruning.Pruner.Snapshot(model), q, "D", "N", new HashSet<string> { conv });
        Assert.Equal([conv], mixed.FloatNodes);
        Assert.Equal("float32", mixed.Compiled.Layers.Single(l => l.Node == conv).Precision);
        Assert.All(mixed.Compiled.Layers.Where(l => l.Node != conv && l.Precision != "float32"), l => Assert.Equal("int8", l.Precision));
        var methods = mixed.Compiled.Calls.Select(c => c.Call.Method).ToList();
        int at = methods.IndexOf("Conv.Conv2D");
        Assert.True(at > 0, string.Join(", ", methods));
        Assert.Equal("QLinear.Dequantize", methods[at - 1]);
        Assert.Equal("QLinear.Quantize", methods[at + 1]);
        Assert.Equal(all.Compiled.Calls.Count + 2, mixed.Compiled.Calls.Count);
    }

    // ---------- the search on a constructed sensitive model ----------

    private const int Width = 32, Classes = 10;

    /// <summary>
    /// x[1,32] → Gemm fc1 + Relu → Gemm "sensitive" + Relu → Gemm fc3 → y[1,10]. fc1's last output channel is always 0 (zero
    /// weights, bias −1, Relu). Every row of the sensitive layer's weight has a huge value (1000) on that input: it never
    /// contributes in float, but it sets the per-channel int8 weight scale (1000/127), so every ordinary weight (|w| &lt; 1)
    /// rounds to 0 in int8 and the layer outputs only its bias. fc1 and fc3 are ordinary.
    /// </summary>
    private static Model SensitiveModel()
    {
        var rng = new Random(20261123);
        float N(double std) => (float)(Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()) * std);
        var g = new Graph { Name = "sensitive" };
        g.Inputs.Add(new ValueInfo("x", ValueType.FromShape(DataType.Float, [1, Width])));
        float[] W(int rows, int cols, double std) { var w = new float[rows * cols]; for (int i = 0; i < w.Length; i++) w[i] = N(std); return w; }
        var w1 = W(Width, Width, Math.Sqrt(2.0 / Width)); var b1 = new float[Width];
        for (int k = 0; k < Width; k++) w1[(Width - 1) * Width + k] = 0;
        b1[Width - 1] = -1;
        var w2 = W(Width, Width, Math.Sqrt(2.0 / Width)); var b2 = W(1, Width, 0.05);
        for (int r = 0; r < Width; r++) w2[r * Width + Width - 1] = 1000;
        var w3 = W(Classes, Width, Math.Sqrt(1.0 / Width)); var b3 = W(1, Classes, 0.05);
        void C(string n, float[] v, params int[] s) => g.Initializers.Add(new Constant(n, Tensor.FromArray(v, s)));
        C("w1", w1, Width, Width); C("b1", b1, Width); C("w2", w2, Width, Width); C("b2", b2, Width); C("w3", w3, Classes, Width); C("b3", b3, Classes);
        Attribute TransB() => new() { Name = "transB", Kind = AttributeKind.Int, I = 1 };
        g.Nodes.Add(new Node { Name = "fc1", OpType = "Gemm", Inputs = ["x", "w1", "b1"], Outputs = ["h1"], Attributes = [TransB()] });
        g.Nodes.Add(new Node { Name = "relu1", OpType = "Relu", Inputs = ["h1"], Outputs = ["a1"] });
        g.Nodes.Add(new Node { Name = "sensitive", OpType = "Gemm", Inputs = ["a1", "w2", "b2"], Outputs = ["h2"], Attributes = [TransB()] });
        g.Nodes.Add(new Node { Name = "relu2", OpType = "Relu", Inputs = ["h2"], Outputs = ["a2"] });
        g.Nodes.Add(new Node { Name = "fc3", OpType = "Gemm", Inputs = ["a2", "w3", "b3"], Outputs = ["y"], Attributes = [TransB()] });
        g.Outputs.Add(new ValueInfo("y", ValueType.FromShape(DataType.Float, [1, Classes])));
        var m = new Model { Graph = g, IrVersion = 8, ProducerName = "MixedPrecisionTests" };
        m.Opsets[""] = 17;
        return m;
    }

    private static CalibrationData RandomData(Model m, int samples, int seed)
    {
        var rng = new Random(seed);
        var x = new float[samples * Width];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()));
        return CalibrationData.FromArrays([new("x", Tensor.FromArray(x, samples, Width))], m);
    }

    private static (Model Model, QuantizationResult Quant, CalibrationData Eval) PrepareSensitive()
    {
        var m = SensitiveModel();
        Compiler.Passes.InferShapes.Run(m);
        var q = PostTrainingQuantizer.Quantize(m, RandomData(m, 64, 1), new QuantizationOptions { Mode = QuantizationMode.Int8 });
        return (m, q, RandomData(m, 300, 2));
    }

    private MixedPrecisionPlan Search(Model m, QuantizationResult q, CalibrationData eval, double drop, int threads, double seconds = 60, string? cache = null,
        IReadOnlyDictionary<string, LayerPrecisionKind>? overrides = null, AccuracyBudgetMode mode = AccuracyBudgetMode.Error, long[]? labels = null)
    {
        var plan = new MixedPrecisionSearch(m, q, eval, labels, new MixedPrecisionOptions
        {
            MaxAccuracyDrop = drop, MaxSearchSeconds = seconds, MaxDegreeOfParallelism = threads, CachePath = cache, CacheKey = "test",
            Overrides = overrides ?? new Dictionary<string, LayerPrecisionKind>(), BudgetMode = mode,
        }).Run("random");
        output.WriteLine(plan.Markdown());
        return plan;
    }

    [Fact]
    public void Search_raises_exactly_the_sensitive_layer_and_meets_the_budget()
    {
        var (m, q, eval) = PrepareSensitive();
        var plan = Search(m, q, eval, drop: 2, threads: -1);
        Assert.Equal(["fc1", "sensitive", "fc3"], plan.Candidates);
        Assert.True(plan.AllInt8Top1 < 50, $"all-int8 agreement {plan.AllInt8Top1:F2}%: the sensitive layer should break it");
        var ranked = plan.Sensitivity.OrderByDescending(s => s.Top1).First();
        Assert.Equal("sensitive", ranked.Node);
        Assert.Equal(["sensitive"], plan.FloatLayers);
        Assert.True(plan.AccuracyBudgetMet && plan.TimeBudgetMet && !plan.FellBackToFloat);
        Assert.True(plan.FloatTop1 - plan.PlanTop1 <= 2, $"plan agreement {plan.PlanTop1:F2}%");
        Assert.True(plan.PredictedCost < plan.AllFloatCost);
    }

    [Fact]
    public void Search_is_deterministic_across_runs_and_thread_counts()
    {
        var (m, q, eval) = PrepareSensitive();
        // Budget 0 is met only by the float model here: Warn builds the most accurate quantized plan, which must not depend on threads.
        var a = Search(m, q, eval, drop: 0, threads: 1, mode: AccuracyBudgetMode.Warn);
        var b = Search(m, q, eval, drop: 0, threads: 2, mode: AccuracyBudgetMode.Warn);
        var c = Search(m, q, eval, drop: 0, threads: -1, mode: AccuracyBudgetMode.Warn);
        foreach (var other in new[] { b, c })
        {
            Assert.Equal(a.FloatLayers, other.FloatLayers);
            Assert.Equal(a.Sensitivity, other.Sensitivity);
            Assert.Equal(a.PlanTop1, other.PlanTop1);
            Assert.Equal(a.PlanSqnrDb, other.PlanSqnrDb);
            Assert.Equal(a.Evaluations, other.Evaluations);
            Assert.Equal(a.Reasons.OrderBy(kv => kv.Key), other.Reasons.OrderBy(kv => kv.Key));
        }
    }

    [Fact]
    public void Overrides_are_honored_before_the_search()
    {
        var (m, q, eval) = PrepareSensitive();
        // fc3 forced float, sensitive forced int8: the search may only move fc1; the budget cannot be met (sensitive stays int8).
        var overrides = new Dictionary<string, LayerPrecisionKind> { ["fc3"] = LayerPrecisionKind.Float, ["h2"] = LayerPrecisionKind.Int8 };
        var e = Assert.Throws<EdgeException>(() => Search(m, q, eval, drop: 2, threads: -1, overrides: overrides));
        Assert.Equal(EdgeCodes.AccuracyBudgetNotMet, e.Code);
        Assert.Contains("Most sensitive layers: fc1", e.Message);
        Assert.Contains("best ", e.Message);
        Assert.Contains("AccuracyBudgetMode", e.Message);
        // Warn: the best plan is built, with the warning in the report.
        var plan = Search(m, q, eval, drop: 2, threads: -1, overrides: overrides, mode: AccuracyBudgetMode.Warn);
        Assert.Equal(["fc1"], plan.Candidates);
        Assert.Contains("fc3", plan.FloatLayers);
        Assert.DoesNotContain("sensitive", plan.FloatLayers);
        Assert.False(plan.AccuracyBudgetMet);
        Assert.Contains(plan.Warnings, w => w.Contains(EdgeCodes.AccuracyBudgetNotMet));
        Assert.Contains(EdgeCodes.AccuracyBudgetNotMet, plan.Markdown());
    }

    [Fact]
    public void A_budget_only_the_float_model_meets_is_an_error_naming_the_sensitive_layer()
    {
        var (m, q, eval) = PrepareSensitive();
        // fc1 and fc3 forced float: the only candidate is "sensitive", and keeping it float32 is the float model itself, which
        // quantizes nothing: not a plan. EDGE4012 names the layer and the best quantized plan (all int8).
        var e = Assert.Throws<EdgeException>(() => Search(m, q, eval, drop: 0, threads: -1, overrides: new Dictionary<string, LayerPrecisionKind> { ["fc1"] = LayerPrecisionKind.Float, ["fc3"] = LayerPrecisionKind.Float }));
        Assert.Equal(EdgeCodes.AccuracyBudgetNotMet, e.Code);
        Assert.Contains("sensitive (Gemm", e.Message);
    }

    [Fact]
    public void Sensitivity_is_measured_at_every_precision()
    {
        var (m, q, eval) = PrepareSensitive();
        var plan = Search(m, q, eval, drop: 2, threads: -1);
        Assert.True(plan.SensitivityComplete);
        Assert.All(plan.Sensitivity, s =>
        {
            Assert.False(double.IsNaN(s.Top1));
            Assert.False(double.IsNaN(s.Top1Int8));
            Assert.False(double.IsNaN(s.Top1WeightOnly));   // every candidate is a Gemm
        });
        var sens = plan.Sensitivity.Single(s => s.Node == "sensitive");
        var fc1 = plan.Sensitivity.Single(s => s.Node == "fc1");
        // Only "sensitive" int8 (the rest float) breaks agreement; only fc1 int8 barely changes it.
        Assert.True(sens.Top1Int8 < 70, $"only sensitive int8: {sens.Top1Int8}");
        Assert.True(fc1.Top1Int8 > 90, $"only fc1 int8: {fc1.Top1Int8}");
        // Its weights are the problem: int8 weights with float activations break it too.
        Assert.True(sens.Top1WeightOnly < 70, $"only sensitive int8 weights: {sens.Top1WeightOnly}");
        Assert.True(sens.SqnrInt8 < fc1.SqnrInt8);
        var json = System.Text.Json.JsonSerializer.Serialize(plan.Json());
        Assert.Contains("top1OnlyThisInt8", json);
        Assert.Contains("top1OnlyThisInt8WeightOnly", json);
        Assert.Contains("| Only this int8 | Only this int8 weights | Only this float32 |", plan.Markdown());
    }

    [Fact]
    public void Labels_outside_the_classes_are_a_coded_error()
    {
        var (m, q, eval) = PrepareSensitive();
        var labels = new long[eval.SampleCount];
        labels[7] = Classes;
        var e = Assert.Throws<EdgeException>(() => Search(m, q, eval, drop: 2, threads: -1, labels: labels));
        Assert.Equal(EdgeCodes.AccuracyNotMeasurable, e.Code);
        Assert.Contains("sample 7", e.Message);
    }

    [Fact]
    public void Zero_time_budget_is_an_error_or_with_Warn_the_float_fallback()
    {
        var (m, q, eval) = PrepareSensitive();
        var e = Assert.Throws<EdgeException>(() => Search(m, q, eval, drop: 2, threads: -1, seconds: 0));
        Assert.Equal(EdgeCodes.SearchTimeTooShort, e.Code);
        Assert.Contains("Raise MaxSearchSeconds", e.Message);
        var plan = Search(m, q, eval, drop: 2, threads: -1, seconds: 0, mode: AccuracyBudgetMode.Warn);
        Assert.False(plan.TimeBudgetMet);
        Assert.True(plan.FellBackToFloat);
        Assert.False(plan.AccuracyBudgetMet);
        Assert.Equal(plan.Candidates, plan.FloatLayers);
        Assert.Contains(plan.Warnings, w => w.Contains(EdgeCodes.SearchTimeTooShort));
        Assert.Contains("time budget NOT met", plan.Markdown());
    }

    // ---------- through the compile (digits): report, cache, errors, generated code ----------

    [Fact]
    public void Digits_auto_compile_reports_and_reuses_its_evaluation_cache()
    {
        string dir = TempDir();
        try
        {
            var first = Compilation.Compile(DigitsRequest(dir));
            var j1 = MixedSection(first.Paths);
            int evaluations = j1.GetProperty("evaluations").GetInt32();
            Assert.True(evaluations > 1);
            Assert.Equal(0, j1.GetProperty("cacheHits").GetInt32());
            Assert.True(j1.GetProperty("accuracyBudgetMet").GetBoolean());
            Assert.True(j1.GetProperty("timeBudgetMet").GetBoolean());
            Assert.Equal(j1.GetProperty("floatTop1").GetDouble(), j1.GetProperty("planTop1").GetDouble());
            string md = File.ReadAllText(first.Paths.ReportMarkdown);
            Assert.Contains("## Mixed precision (Quantization=Auto)", md);
            Assert.True(File.Exists(Path.Combine(dir, "Digits.autoplan.cache")));

            var second = Compilation.Compile(DigitsRequest(dir));
            var j2 = MixedSection(second.Paths);
            Assert.Equal(evaluations, j2.GetProperty("cacheHits").GetInt32());   // nothing evaluated again
            Assert.Equal(evaluations, j2.GetProperty("evaluations").GetInt32());
            Assert.Equal(File.ReadAllBytes(first.Paths.Plan).Length, File.ReadAllBytes(second.Paths.Plan).Length);
            Assert.Equal(first.Model.Layers.Select(l => l.Precision), second.Model.Layers.Select(l => l.Precision));
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"first search {j1.GetProperty("seconds").GetDouble():F2} s, cached {j2.GetProperty("seconds").GetDouble():F2} s"));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void Digits_zero_search_seconds_falls_back_to_float_and_reports_it()
    {
        string dir = TempDir();
        try
        {
            var e = Assert.Throws<EdgeException>(() => Compilation.Compile(DigitsRequest(dir, seconds: "0")));
            Assert.Equal(EdgeCodes.SearchTimeTooShort, e.Code);
            var r = Compilation.Compile(DigitsRequest(dir, seconds: "0") with { AccuracyBudgetMode = "Warn" });
            var j = MixedSection(r.Paths);
            Assert.False(j.GetProperty("timeBudgetMet").GetBoolean());
            Assert.True(j.GetProperty("fellBackToFloat").GetBoolean());
            Assert.DoesNotContain(r.Model.Layers, l => l.Precision == "int8" && l.OpType is "Conv" or "Gemm");
        }
        finally { Directory.Delete(dir, true); }
    }

    [Theory]
    [InlineData("Auto", "nosuchlayer:Float", "", EdgeCodes.UnknownLayerPrecisionName)]
    [InlineData("Auto", "/features/features.0/Conv:Half", "", EdgeCodes.InvalidQuantizationOption)]
    [InlineData("Auto", "/features/features.0/Conv", "", EdgeCodes.InvalidQuantizationOption)]
    [InlineData("Auto", "/features/features.2/Relu:Int8", "", EdgeCodes.LayerPrecisionNotPossible)]
    [InlineData("Auto", "", "-1", EdgeCodes.InvalidQuantizationOption)]
    [InlineData("Auto", "", "soon", EdgeCodes.InvalidQuantizationOption)]
    [InlineData("None", "/features/features.0/Conv:Float", "", EdgeCodes.InvalidQuantizationOption)]
    [InlineData("Int8", "", "10", EdgeCodes.InvalidQuantizationOption)]
    [InlineData("Int8Dynamic", "/features/features.0/Conv:Float", "", EdgeCodes.InvalidQuantizationOption)]
    public void Bad_metadata_is_a_coded_error(string mode, string layers, string seconds, string code)
    {
        string dir = TempDir();
        try
        {
            var e = Assert.Throws<EdgeException>(() => Compilation.Compile(DigitsRequest(dir, seconds: seconds, layers: layers) with { Quantization = mode }));
            Assert.Equal(code, e.Code);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Theory]
    [InlineData("Auto", "101", "", "", "", EdgeCodes.InvalidQuantizationOption)]
    [InlineData("Auto", "-0.5", "", "", "", EdgeCodes.InvalidQuantizationOption)]
    [InlineData("Auto", "0.5", "Sometimes", "", "", EdgeCodes.InvalidQuantizationOption)]
    [InlineData("Int8", "0.5", "Warn", "", "", EdgeCodes.InvalidQuantizationOption)]
    [InlineData("Auto", "0.5", "", "/features/features.6/MaxPool:Int8WeightOnly", "", EdgeCodes.LayerPrecisionNotPossible)]
    [InlineData("Auto", "0.5", "", "", "cortex-z99", EdgeCodes.InvalidDeviceProfile)]
    [InlineData("Auto", "0.5", "", "", "/nonexistent/profile.json", EdgeCodes.InvalidDeviceProfile)]
    [InlineData("None", "", "", "", "cortex-z99", EdgeCodes.InvalidDeviceProfile)]            // checked whatever the mode
    [InlineData("Int8", "", "", "", "arm64-dotprod@linux-x64", EdgeCodes.DeviceArchitectureMismatch)]
    [InlineData("None", "", "", "", "x64-avx2@linux-arm64", EdgeCodes.DeviceArchitectureMismatch)]
    public void Bad_budget_mode_and_device_metadata_are_coded_errors(string mode, string drop, string budgetMode, string layers, string device, string code)
    {
        string dir = TempDir();
        try
        {
            string rid = device.Contains('@') ? device[(device.IndexOf('@') + 1)..] : "";
            device = device.Contains('@') ? device[..device.IndexOf('@')] : device;
            var e = Assert.Throws<EdgeException>(() => Compilation.Compile(DigitsRequest(dir, maxDrop: drop, layers: layers) with { Quantization = mode, AccuracyBudgetMode = budgetMode, TargetDevice = device, RuntimeIdentifier = rid }));
            Assert.Equal(code, e.Code);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void A_single_value_output_has_no_top1_to_keep()
    {
        var g = new Graph { Name = "scalar" };
        g.Inputs.Add(new ValueInfo("x", ValueType.FromShape(DataType.Float, [1, Width])));
        g.Initializers.Add(new Constant("w", Tensor.FromArray(Enumerable.Range(0, Width).Select(i => 0.1f).ToArray(), 1, Width)));
        g.Nodes.Add(new Node { Name = "fc", OpType = "Gemm", Inputs = ["x", "w"], Outputs = ["y"], Attributes = [new() { Name = "transB", Kind = AttributeKind.Int, I = 1 }] });
        g.Outputs.Add(new ValueInfo("y", ValueType.FromShape(DataType.Float, [1, 1])));
        var m = new Model { Graph = g, IrVersion = 8 };
        m.Opsets[""] = 17;
        Compiler.Passes.InferShapes.Run(m);
        var q = PostTrainingQuantizer.Quantize(m, RandomData(m, 32, 1), new QuantizationOptions { Mode = QuantizationMode.Int8 });
        var e = Assert.Throws<EdgeException>(() => Search(m, q, RandomData(m, 32, 2), drop: 1, threads: -1));
        Assert.Equal(EdgeCodes.AccuracyNotMeasurable, e.Code);
    }

    [Fact]
    public void Int8WeightOnly_override_runs_that_layer_with_int8_weights_and_float_activations()
    {
        string dir = TempDir();
        try
        {
            var r = Compilation.Compile(DigitsRequest(dir, maxDrop: "1", layers: "/features/features.3/Conv:Int8WeightOnly"));
            var layer = r.Model.Layers.Single(l => l.Node == "/features/features.3/Conv");
            Assert.Equal(Int8WeightLowerer.WeightOnlyPrecision, layer.Precision);
            Assert.Contains(r.Model.Calls, c => c.Call.Method == "QLinear.DequantizeChannels" && c.Call.NodeName == "/features/features.3/Conv");
            var j = MixedSection(r.Paths);
            Assert.Contains(j.GetProperty("layers").EnumerateArray(), l => l.GetProperty("node").GetString() == "/features/features.3/Conv" && l.GetProperty("precision").GetString() == "int8 weights");
        }
        finally { Directory.Delete(dir, true); }
    }

    // ---------- the latency model ----------

    [Fact]
    public void Device_profiles_are_chosen_by_name_or_runtime_identifier_and_change_the_prediction()
    {
        Assert.Equal(["arm64", "arm64-dotprod", "cortex-a53", "cortex-a76", "x64-avx2"], DeviceProfile.BuiltIn());
        // The named cores are the generic profiles under the names users know (same costs, same instruction sets).
        Assert.Equal(DeviceProfile.Resolve("arm64", null).MacCost, DeviceProfile.Resolve("cortex-a53", "linux-arm64").MacCost);
        Assert.Equal(DeviceProfile.Resolve("arm64-dotprod", null).MacCost, DeviceProfile.Resolve("cortex-a76", "linux-arm64").MacCost);
        Assert.Equal("armv8-a", DeviceProfile.Resolve("cortex-a53", null).NativeAotInstructionSet);
        Assert.Equal("armv8.2-a,dotprod", DeviceProfile.Resolve("cortex-a76", null).NativeAotInstructionSet);
        Assert.Equal("arm64", DeviceProfile.Resolve(null, "linux-arm64").Name);
        Assert.Equal("x64-avx2", DeviceProfile.Resolve(null, "win-x64").Name);
        Assert.Equal("x64-avx2", DeviceProfile.Resolve("", "").Name);
        Assert.Equal("arm64-dotprod", DeviceProfile.Resolve("arm64-dotprod", "linux-arm64").Name);
        Assert.Equal("arm64-dotprod", DeviceProfile.Resolve("arm64-dotprod", null).Name);
        // A device of another architecture than the RuntimeIdentifier's is a mistake, not a plan.
        var mismatch = Assert.Throws<EdgeException>(() => DeviceProfile.Resolve("arm64-dotprod", "linux-x64"));
        Assert.Equal(EdgeCodes.DeviceArchitectureMismatch, mismatch.Code);
        Assert.Contains("linux-x64", mismatch.Message);
        Assert.Equal(EdgeCodes.DeviceArchitectureMismatch, Assert.Throws<EdgeException>(() => DeviceProfile.Resolve("x64-avx2", "osx-arm64")).Code);
        // Each built-in profile names its architecture and NativeAOT instruction set (build/EdgeCompile.targets passes it to ILC).
        Assert.Equal(("x64", "x86-64-v3"), (DeviceProfile.Resolve("x64-avx2", null).Architecture, DeviceProfile.Resolve("x64-avx2", null).NativeAotInstructionSet));
        Assert.Equal(("arm64", "armv8-a"), (DeviceProfile.Resolve("arm64", null).Architecture, DeviceProfile.Resolve("arm64", null).NativeAotInstructionSet));
        Assert.Equal(("arm64", "armv8.2-a,dotprod"), (DeviceProfile.Resolve("arm64-dotprod", null).Architecture, DeviceProfile.Resolve("arm64-dotprod", null).NativeAotInstructionSet));
        foreach (var name in DeviceProfile.BuiltIn())
            Assert.Contains("not a measurement", DeviceProfile.Resolve(name, null).Source);
        var (m, q, _) = PrepareSensitive();
        var plan = Int8Lowerer.Lower(Compiler.Pruning.Pruner.Snapshot(m), q, "P", "").Compiled;
        double x64 = LatencyModel.Predict(plan, DeviceProfile.Resolve("x64-avx2", null));
        double dot = LatencyModel.Predict(plan, DeviceProfile.Resolve("arm64-dotprod", null));
        long macs = plan.Layers.Where(l => l.OpType == "Gemm").Sum(l => l.Macs);
        Assert.Equal(macs * 0.25, x64 - dot, 6);   // int8 MAC 0.5 vs 0.25; the edges cost the same
        string bad = Path.Combine(TempDir(), "bad.json");
        File.WriteAllText(bad, "{\"name\": \"x\", \"macCost\": {\"*.float32\": -1}}");
        Assert.Equal(EdgeCodes.InvalidDeviceProfile, Assert.Throws<EdgeException>(() => DeviceProfile.Resolve(bad, null)).Code);
        File.WriteAllText(bad, "{\"name\": \"x\", \"source\": \"s\", \"architecture\": \"riscv\", \"macCost\": {\"*.float32\": 1}, \"quantizePerElement\": 1, \"dequantizePerElement\": 1, \"dequantizeWeightPerElement\": 1}");
        Assert.Contains("riscv", Assert.Throws<EdgeException>(() => DeviceProfile.Resolve(bad, null)).Message);
        File.WriteAllText(bad, "{\"name\": \"x\", \"source\": \"s\", \"nativeAotInstructionSet\": \"avx2 --evil\", \"macCost\": {\"*.float32\": 1}, \"quantizePerElement\": 1, \"dequantizePerElement\": 1, \"dequantizeWeightPerElement\": 1}");
        Assert.Contains("nativeAotInstructionSet", Assert.Throws<EdgeException>(() => DeviceProfile.Resolve(bad, null)).Message);
        Directory.Delete(Path.GetDirectoryName(bad)!, true);
    }

    [Fact]
    public void Measured_device_profile_round_trips_and_prices_every_term()
    {
        var p = DeviceMeasurement.Measure("test", repeats: 1);
        foreach (var key in new[] { "Conv.float32", "Conv.int8", "Conv.int8weights", "DepthwiseConv.float32", "DepthwiseConv.int8", "Gemm.float32", "Gemm.int8", "Gemm.int8weights" })
            Assert.True(p.MacCost[key] > 0 && double.IsFinite(p.MacCost[key]), key);
        Assert.True(p.QuantizeCostPerElement > 0 && p.DequantizeCostPerElement > 0 && p.DequantizeWeightCostPerElement > 0);
        Assert.Contains("Measured by `edgec measure-device", p.Source);
        var back = DeviceProfile.Parse(p.ToJson(), "round trip");
        Assert.Equal(p.Name, back.Name);
        // The document holds each cost rounded to 6 decimals, and reads back exactly that value. (Comparing the measured
        // value rounded to 5 decimals on both sides failed whenever it sat next to a rounding boundary: 0.0444948 vs 0.044495.)
        foreach (var (key, cost) in p.MacCost)
            Assert.Equal(Math.Round(cost, 6), back.MacCost[key]);
        Assert.Equal(Math.Round(p.QuantizeCostPerElement, 6), back.QuantizeCostPerElement);
        Assert.Equal("x64", p.Architecture);   // this machine; no instruction set is guessed for a measured profile
        Assert.Equal(p.Architecture, back.Architecture);
        Assert.Null(back.NativeAotInstructionSet);
        output.WriteLine(p.ToJson());
    }

    // ---------- the constructed model: naive int8 loses points; Auto with MaxAccuracyDrop 0.5 ----------

    /// <summary>
    /// <see cref="OutlierNet"/>: calibrated on 256 samples, searched on 1000 (budget 0.5 points of agreement with float), then
    /// the chosen plan measured on 2000 held-out samples the search never saw. Prints the numbers docs/mixed-precision.md
    /// quotes; asserts the deterministic ones (budget on held-out data, second search all from the cache).
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void OutlierNet_auto_meets_the_budget_on_held_out_data(bool equalization)
    {
        var inv = CultureInfo.InvariantCulture;
        var m = OutlierNet.Build();
        var q = PostTrainingQuantizer.Quantize(m, OutlierNet.Data(m, 256, 1), new QuantizationOptions { Mode = QuantizationMode.Int8, Equalization = equalization });
        var search = OutlierNet.Data(m, 1000, 2);
        var held = OutlierNet.Data(m, 2000, 3);
        string dir = TempDir();
        try
        {
            string cache = Path.Combine(dir, "outlier.autoplan.cache");
            var options = new MixedPrecisionOptions { MaxAccuracyDrop = 0.5, CachePath = cache, CacheKey = "outlier-" + equalization };
            var first = new MixedPrecisionSearch(m, q, search, null, options);
            var plan = first.Run("search");
            output.WriteLine(plan.Markdown());
            var second = new MixedPrecisionSearch(m, q, search, null, options);
            var again = second.Run("search");
            Assert.Equal(0, second.Computed);   // no evaluation ran: the second build does no search
            Assert.Equal(plan.FloatLayers, again.FloatLayers);
            Assert.Equal(plan.WeightOnlyLayers, again.WeightOnlyLayers);

            double Agreement(MixedPrecisionPlan? p, HashSet<string>? allFloat = null)
            {
                var floats = allFloat ?? (p is null ? [] : MixedPrecisionSearch.KeepFloat(p));
                var wo = p is null ? [] : MixedPrecisionSearch.WeightOnly(p);
                var compiled = Int8Lowerer.Lower(Compiler.Pruning.Pruner.Snapshot(m), q, "H", "", floats.Count > 0 ? floats : null, wo.Count > 0 ? wo : null).Compiled;
                var interp = new PlanInterpreter(compiled);
                var exec = new Compiler.Reference.ReferenceExecutor(m);
                var y = new float[OutlierNet.Classes];
                int agree = 0;
                for (int s = 0; s < held.SampleCount; s++)
                {
                    var sample = held.Sample(s);
                    interp.Run([sample["x"].Data], [y]);
                    var f = exec.Run(sample)["y"].As<float>();
                    if (ArgMax(y) == ArgMax(f)) agree++;
                }
                return 100.0 * agree / held.SampleCount;
            }
            double naive = Agreement(null), chosen = Agreement(plan);
            output.WriteLine(string.Create(inv, $"equalization {equalization}: held-out agreement all-int8 {naive:F2}%, chosen {chosen:F2}% (search set: all-int8 {plan.AllInt8Top1:F2}%, chosen {plan.PlanTop1:F2}%); int8 MACs {100 * plan.Int8MacFraction:F1}%; predicted latency {plan.PredictedCost / plan.AllInt8Cost:F3}x all-int8; weight bytes {plan.WeightBytes} (all int8 {plan.AllInt8WeightBytes}, float {plan.AllFloatWeightBytes}); {plan.Evaluations} evaluations in {plan.Seconds:F2} s; cached re-plan {again.Seconds:F3} s"));
            if (!equalization) Assert.True(naive < 97, $"naive int8 agreement {naive:F2}%: the constructed model should lose points");
            Assert.True(plan.AccuracyBudgetMet && plan.TimeBudgetMet);
            Assert.True(100 - chosen <= 0.5, $"held-out drop {100 - chosen:F2} points");
            Assert.True(plan.PredictedCost < plan.AllFloatCost);
        }
        finally { Directory.Delete(dir, true); }
    }

    private static int ArgMax(ReadOnlySpan<float> v)
    {
        int best = 0;
        for (int k = 1; k < v.Length; k++) if (v[k] > v[best]) best = k;
        return best;
    }

    [Fact]
    public void Int8_with_a_Float_override_keeps_that_layer_float32()
    {
        string dir = TempDir();
        try
        {
            var r = Compilation.Compile(DigitsRequest(dir, maxDrop: "", layers: "/features/features.3/Conv:Float") with { Quantization = "Int8" });
            Assert.Equal("float32", r.Model.Layers.Single(l => l.Node == "/features/features.3/Conv").Precision);
            Assert.Equal(["int8"], r.Model.Layers.Where(l => l.OpType == "Gemm").Select(l => l.Precision).Distinct());
            Assert.False(File.Exists(Path.Combine(dir, "Digits.autoplan.cache")));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void Auto_without_calibration_data_is_a_coded_error()
    {
        string dir = TempDir();
        try
        {
            var e = Assert.Throws<EdgeException>(() => Compilation.Compile(DigitsRequest(dir) with { CalibrationData = "" }));
            Assert.Equal(EdgeCodes.InvalidQuantizationOption, e.Code);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void Generated_auto_digit_classifier_matches_the_plan_interpreter_bit_for_bit()
    {
        var inv = CultureInfo.InvariantCulture;
        string dir = TempDir();
        try
        {
            // A Float and an Int8WeightOnly override plus the search: the plan mixes int8, int8-weight and float32 layers.
            var result = Compilation.Compile(DigitsRequest(dir, maxDrop: "1", layers: "/features/features.3/Conv:Float;/classifier/classifier.2/Gemm:Int8WeightOnly") with { ClassName = "DigitClassifierAuto", Namespace = "Codegen.Auto" });
            var compiled = result.Model;
            Assert.Contains(compiled.Layers, l => l.Precision == "int8");
            Assert.Contains(compiled.Layers, l => l.Precision == "float32" && l.Node == "/features/features.3/Conv");
            Assert.Contains(compiled.Layers, l => l.Precision == Int8WeightLowerer.WeightOnlyPrecision && l.Node == "/classifier/classifier.2/Gemm");
            string plan = ArtifactWriter.Plan(compiled, "digits.onnx", "codegen-test");
            var prepared = new PreparedModel("digits-auto", "Codegen.Auto", "DigitClassifierAuto", plan, compiled.Weights, compiled.ResourceName, compiled.Inputs, compiled.Outputs);
            using var assembly = CodegenHarness.Build([prepared], "GeneratedDigitsAuto");
            Assert.True(assembly.Failures.Count == 0, string.Join(Environment.NewLine, assembly.Failures.Values));

            var x = NpyFile.Load(Digits("digits_test_x.npy"));
            var images = x.As<float>();
            int count = x.Shape[0], length = images.Length / count;
            var interpreter = new PlanInterpreter(compiled);
            var expected = new float[10];
            for (int i = 0; i < count; i++)
            {
                float[] image = images.AsSpan(i * length, length).ToArray();
                float[] got = (float[])assembly.Run(prepared, [image])[0];
                interpreter.Run([image], [expected]);
                for (int k = 0; k < got.Length; k++)
                    Assert.True(BitConverter.SingleToInt32Bits(got[k]) == BitConverter.SingleToInt32Bits(expected[k]),
                        string.Create(inv, $"image {i}, logit {k}: generated {got[k]:R}, plan interpreter {expected[k]:R}"));
            }
            output.WriteLine(File.ReadAllText(result.Paths.ReportMarkdown));
        }
        finally { Directory.Delete(dir, true); }
    }

    /// <summary>
    /// Measures what <see cref="LatencyModel"/>'s table holds: per call of the digits plan, all int8 vs all float32 (the
    /// same lowering with every layer kept float), timed between the plan interpreter's per-call callbacks over the test set,
    /// median of 5 passes. Prints ns per MAC for Conv/Gemm per precision and ns per element of Quantize/Dequantize. No timing
    /// assertion (shared machine): the numbers are for docs/mixed-precision.md.
    /// </summary>
    [Fact]
    public void Measure_latency_model_cost_factors_on_digits()
    {
        var inv = CultureInfo.InvariantCulture;
        using var model = CodegenHarness.Load(Digits("digits.onnx"), null);
        Compiler.Passes.FoldStaticShapes.Run(model);
        var q = PostTrainingQuantizer.Quantize(model, CalibrationData.Load(Digits("digits_calib_x.npy"), model), new QuantizationOptions { Mode = QuantizationMode.Int8 });
        var int8 = Int8Lowerer.Lower(Compiler.Pruning.Pruner.Snapshot(model), q, "D", "N").Compiled;
        var allNames = model.Graph.Nodes.Select(n => n.DisplayName).ToHashSet(StringComparer.Ordinal);
        var fp32 = Int8Lowerer.Lower(Compiler.Pruning.Pruner.Snapshot(model), q, "D", "N", allNames).Compiled;
        var x = NpyFile.Load(Digits("digits_test_x.npy"));
        var images = x.As<float>();
        int count = x.Shape[0], length = images.Length / count;
        foreach (var (name, plan) in new[] { ("int8", int8), ("float32", fp32) })
        {
            var interp = new PlanInterpreter(plan);
            var outBuf = new float[10];
            var passes = new List<Dictionary<string, (double Ns, double Work)>>();
            for (int pass = 0; pass < 6; pass++)
            {
                var acc = new Dictionary<string, (double Ns, double Work)>(StringComparer.Ordinal);
                for (int i = 0; i < count; i++)
                {
                    var image = images.AsSpan(i * length, length).ToArray();
                    long last = System.Diagnostics.Stopwatch.GetTimestamp();
                    interp.Run([image], [outBuf], ci =>
                    {
                        long now = System.Diagnostics.Stopwatch.GetTimestamp();
                        var call = plan.Calls[ci];
                        string m = call.Call.Method;
                        string kind = m is "QLinear.Quantize" or "QLinear.Dequantize" ? "quantize/dequantize" : m.StartsWith("QConv", StringComparison.Ordinal) || m.StartsWith("QGemm", StringComparison.Ordinal) || m is "Conv.Conv2D" or "Gemm.Run" ? "conv/gemm" : "other";
                        double work = kind == "quantize/dequantize" ? call.Buffers[0]!.Count : 0;
                        var (ns, w) = acc.GetValueOrDefault(kind);
                        acc[kind] = (ns + (now - last) * 1e9 / System.Diagnostics.Stopwatch.Frequency, w + work);
                        last = System.Diagnostics.Stopwatch.GetTimestamp();
                    });
                }
                if (pass > 0) passes.Add(acc);   // pass 0 warms up the JIT
            }
            double macs = plan.Layers.Where(l => l.OpType is "Conv" or "Gemm").Sum(l => (double)l.Macs) * count;
            foreach (var kind in passes[0].Keys.OrderBy(k => k, StringComparer.Ordinal))
            {
                var ns = passes.Select(p => p[kind].Ns).OrderBy(v => v).ElementAt(passes.Count / 2);
                double work = kind == "conv/gemm" ? macs : passes[0][kind].Work;
                output.WriteLine(string.Create(inv, $"{name} {kind}: {ns / count:F0} ns per image{(work > 0 ? $", {ns / work:F3} ns per {(kind == "conv/gemm" ? "MAC" : "element")}" : "")}"));
            }
        }
    }
}
