using System.Globalization;
using EdgeCompile.Compiler;
using EdgeCompile.Compiler.Data;
using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.IR;
using EdgeCompile.Compiler.Onnx;
using EdgeCompile.Compiler.Quantization;
using EdgeCompile.Compiler.Reference;
using EdgeCompile.Tests.OrtOracle;
using EdgeCompile.Tests.Support;
using Microsoft.ML.OnnxRuntime;
using Xunit.Abstractions;
using Tensor = EdgeCompile.Compiler.Tensor;

namespace EdgeCompile.Tests.Quantization;

public class QdqExportTests(ITestOutputHelper output)
{
    /// <summary>One ORT session for many runs (OrtRunner opens one per call); same settings as OrtRunner.</summary>
    private sealed class OrtSession : IDisposable
    {
        private readonly SessionOptions _options = new()
        {
            IntraOpNumThreads = 1, InterOpNumThreads = 1, ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL, LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
        };
        private readonly InferenceSession _session;
        private readonly string _input, _output;
        public OrtSession(Model m)
        {
            _session = new InferenceSession(OnnxWriter.Write(m), _options);
            _input = m.Graph.Inputs[0].Name; _output = m.Graph.Outputs[0].Name;
        }
        public Tensor Run(Tensor x)
        {
            using var v = OrtRunner.ToOrt(x);
            using var ro = new RunOptions();
            using var outs = _session.Run(ro, [_input], [v], [_output]);
            return OrtRunner.FromOrt(outs[0]);
        }
        public void Dispose() { _session.Dispose(); _options.Dispose(); }
    }

    private static Model ConvReluGemm()
    {
        var rng = new Random(42);
        float[] R(int n, double s) => Enumerable.Range(0, n).Select(_ => (float)((rng.NextDouble() * 2 - 1) * s)).ToArray();
        var b = new GraphBuilder().Opset(17);
        var x = b.Input("x", DataType.Float, 1, 3, 8, 8);
        var w = b.Initializer("conv_w", Tensor.FromArray(R(4 * 3 * 3 * 3, 0.5), 4, 3, 3, 3));
        var bias = b.Initializer("conv_b", Tensor.FromArray(R(4, 0.2), 4));
        var c = b.Node("Conv", [x, w, bias], 1, GraphBuilder.Ints("pads", 1, 1, 1, 1), GraphBuilder.Ints("kernel_shape", 3, 3))[0];
        var r = b.Node1("Relu", c);
        var f = b.Node1("Flatten", r);
        var gw = b.Initializer("fc_w", Tensor.FromArray(R(10 * 256, 0.1), 10, 256));
        var gb = b.Initializer("fc_b", Tensor.FromArray(R(10, 0.1), 10));
        var y = b.Node("Gemm", [f, gw, gb], 1, GraphBuilder.Int("transB", 1))[0];
        b.Output(y, DataType.Float, [1, 10]);
        var m = b.Build();
        FrontEnd.Prepare(m);
        return m;
    }

    private static CalibrationData RandomData(Model m, int n, int seed)
    {
        var rng = new Random(seed);
        var x = Enumerable.Range(0, n * 192).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        return CalibrationData.FromArrays([new("x", Tensor.FromArray(x, n, 1, 3, 8, 8))], m);
    }

    [Fact]
    public void ConvReluGemmQdqStructureAndOrtAgreement()
    {
        using var model = ConvReluGemm();
        var r = PostTrainingQuantizer.Quantize(model, RandomData(model, 64, 1), new QuantizationOptions { Method = CalibrationMethod.MinMax });
        var g = r.QdqModel.Graph;
        // Weights int8 per output channel, biases int32 with scale sIn·sW.
        Assert.Equal(DataType.Int8, g.Initializers["conv_w_quantized"].DataType);
        Assert.Equal(DataType.Int32, g.Initializers["conv_b_quantized"].DataType);
        Assert.Equal(DataType.Int8, g.Initializers["fc_w_quantized"].DataType);
        Assert.Equal(DataType.Int32, g.Initializers["fc_b_quantized"].DataType);
        Assert.False(g.Initializers.Contains("conv_w"));
        Assert.All(g.Initializers["conv_w_quantized"].Value.As<sbyte>(), v => Assert.InRange(v, (sbyte)-127, (sbyte)127));
        var convW = g.Nodes.Single(n => n.OpType == "DequantizeLinear" && n.Outputs[0] == "conv_w");
        Assert.Equal(0, convW.GetAttribute("axis")!.I);
        var sIn = r.Activations["x"].Scale;
        var biasScales = g.Initializers["conv_b_scale"].Value.As<float>();
        Assert.Equal(r.Weights["conv_w"].Scales.Select(s => (float)((double)sIn * s)), biasScales);
        Assert.Equal(4, g.Initializers["conv_w_scale"].Value.Length);
        Assert.Equal(10, g.Initializers["fc_w_scale"].Value.Length);
        // Every float activation is quantized, graph input and output included; names are kept for readers.
        Assert.Equal(["x", .. model.Graph.Nodes.SelectMany(n => n.Outputs)], r.Activations.Keys.OrderBy(k => k == "x" ? 0 : 1).ThenBy(k => model.Graph.Nodes.FindIndex(n => n.Outputs.Contains(k))));
        Assert.Equal(model.Graph.Outputs[0].Name, g.Outputs[0].Name);
        Assert.Equal(2, r.Layers.Count);
        Assert.All(r.Layers.SelectMany(l => l.Multipliers), m => Assert.InRange(m.Multiplier, 1 << 30, int.MaxValue));

        // Ours and ORT agree within one output quantization step; both are close to float.
        var outName = model.Graph.Outputs[0].Name;
        double step = r.Activations[outName].Scale;
        var exec = new ReferenceExecutor(r.QdqModel);
        var floatExec = new ReferenceExecutor(model);
        using var ort = new OrtSession(r.QdqModel);
        var test = RandomData(model, 30, 2);
        double worstOrt = 0, worstFloat = 0;
        for (int i = 0; i < test.SampleCount; i++)
        {
            var inputs = test.Sample(i);
            var ours = exec.Run(inputs)[outName].As<float>();
            var theirs = ort.Run(inputs["x"]).As<float>();
            var fl = floatExec.Run(inputs)[outName].As<float>();
            for (int k = 0; k < ours.Length; k++)
            {
                worstOrt = Math.Max(worstOrt, Math.Abs(ours[k] - theirs[k]));
                worstFloat = Math.Max(worstFloat, Math.Abs(ours[k] - fl[k]));
            }
        }
        output.WriteLine($"max |ours - ORT| = {worstOrt} (step {step}); max |qdq - float| = {worstFloat}");
        Assert.True(worstOrt <= step * 1.0001, $"ours vs ORT differ by {worstOrt}, over one step {step}");
        Assert.True(worstFloat <= 20 * step, $"QDQ vs float differ by {worstFloat} ({worstFloat / step} steps)");
    }

    [Fact]
    public void PreQuantizedModelsKeepTheirScales()
    {
        using var model = ConvReluGemm();
        var first = PostTrainingQuantizer.Quantize(model, RandomData(model, 32, 3), new QuantizationOptions());
        // Read back the written QDQ file (no constant folding: it would fold the weight DequantizeLinear nodes).
        using var reloaded = ModelFile.Load(WriteTemp(first.QdqModel));
        FrontEnd.Prepare(reloaded, new FrontEndOptions { Optimize = false });
        var second = PostTrainingQuantizer.Quantize(reloaded, RandomData(reloaded, 32, 4), new QuantizationOptions { Method = CalibrationMethod.MinMax });
        Assert.Empty(second.Activations);
        Assert.Empty(second.Weights);
        Assert.Equal(first.QdqModel.Graph.Nodes.Count, second.QdqModel.Graph.Nodes.Count);
        foreach (var c in first.QdqModel.Graph.Initializers.Where(c => c.Name.EndsWith("_scale", StringComparison.Ordinal)))
            Assert.Equal(c.Value.As<float>(), second.QdqModel.Graph.Initializers[c.Name].Value.As<float>());

        // A zero scale in a pre-quantized model is EDGE4006.
        var bad = first.QdqModel;
        bad.Graph.Initializers.Set(new Constant("x_scale", Tensor.Scalar(0f)));
        Assert.Equal(EdgeCodes.InvalidQuantParams, Assert.Throws<EdgeException>(() => PostTrainingQuantizer.CheckPreQuantized(bad)).Code);
    }

    [Fact]
    public void WeightOnlyAndDynamicNeedNoCalibration()
    {
        foreach (var mode in new[] { QuantizationMode.Int8WeightOnly, QuantizationMode.Int8Dynamic })
        {
            using var model = ConvReluGemm();
            var r = PostTrainingQuantizer.Quantize(model, null, new QuantizationOptions { Mode = mode });
            Assert.Empty(r.Activations);
            Assert.Equal(2, r.Weights.Count);
            Assert.DoesNotContain(r.QdqModel.Graph.Nodes, n => n.OpType == "QuantizeLinear");
            Assert.True(r.QdqModel.Graph.Initializers.Contains("conv_b")); // float bias: no input scale
            var x = RandomData(model, 1, 9).Sample(0);
            OracleAssert.SameAsOrt(r.QdqModel, x, rtol: 1e-4, atol: 1e-5);
        }
        using var m2 = ConvReluGemm();
        Assert.Equal(EdgeCodes.InvalidQuantizationOption, Assert.Throws<EdgeException>(() => PostTrainingQuantizer.Quantize(m2, null, new QuantizationOptions())).Code);
        Assert.Equal(EdgeCodes.InvalidQuantizationOption, Assert.Throws<EdgeException>(() => new QuantizationOptions { Percentile = 0 }.Validate()).Code);
        Assert.Equal(EdgeCodes.InvalidQuantizationOption, Assert.Throws<EdgeException>(() => QuantizationOptions.ParseMethod("kl")).Code);
    }

    private static string WriteTemp(Model m)
    {
        var p = Path.Combine(Path.GetTempPath(), $"edge-qdq-{Guid.NewGuid():N}.onnx");
        QdqExporter.WriteFile(m, p);
        return p;
    }

    /// <summary>
    /// The digits sample: calibrate on digits_calib_x.npy (200 samples) with each method, export QDQ, classify the
    /// 450 held-out digits with our reference executor and with ONNX Runtime. Prints the table in docs/quantization.md.
    /// </summary>
    [Fact]
    public void DigitsAccuracyPerCalibrationMethod()
    {
        string dir = CalibratorTests.DigitsDir;
        var x = NpyFile.Load(Path.Combine(dir, "digits_test_x.npy"));
        var y = NpyFile.Load(Path.Combine(dir, "digits_test_y.npy")).ToInt64s();
        int n = x.Shape[0], per = x.Length / n;
        Tensor Sample(int i) => Tensor.FromArray(x.As<float>().AsSpan(i * per, per).ToArray(), 1, 1, 8, 8);
        var inv = CultureInfo.InvariantCulture;

        int floatCorrect;
        using (var fm = FrontEnd.Load(Path.Combine(dir, "digits.onnx")))
        {
            var fe = new ReferenceExecutor(fm);
            floatCorrect = Enumerable.Range(0, n).Count(i => ArgMax(fe.Run(new Dictionary<string, Tensor> { ["image"] = Sample(i) })["logits"].As<float>()) == y[i]);
        }
        output.WriteLine($"| float (reference executor) | {100.0 * floatCorrect / n:F2}% ({floatCorrect}/{n}) | | |");
        output.WriteLine("| Method | QDQ top-1 (ours) | QDQ top-1 (ORT) | max abs(ours - ORT) / output step |");
        foreach (var method in Enum.GetValues<CalibrationMethod>())
        {
            using var model = FrontEnd.Load(Path.Combine(dir, "digits.onnx"));
            var data = CalibrationData.Load(Path.Combine(dir, "digits_calib_x.npy"), model);
            var r = PostTrainingQuantizer.Quantize(model, data, new QuantizationOptions { Method = method });
            var exec = new ReferenceExecutor(r.QdqModel);
            using var ort = new OrtSession(r.QdqModel);
            double step = r.Activations["logits"].Scale, worst = 0;
            int ours = 0, theirs = 0;
            for (int i = 0; i < n; i++)
            {
                var a = exec.Run(new Dictionary<string, Tensor> { ["image"] = Sample(i) })["logits"].As<float>();
                var b = ort.Run(Sample(i)).As<float>();
                for (int k = 0; k < a.Length; k++) worst = Math.Max(worst, Math.Abs(a[k] - b[k]));
                if (ArgMax(a) == y[i]) ours++;
                if (ArgMax(b) == y[i]) theirs++;
            }
            output.WriteLine(string.Create(inv, $"| {method} | {100.0 * ours / n:F2}% ({ours}/{n}) | {100.0 * theirs / n:F2}% ({theirs}/{n}) | {worst / step:F3} |"));
            Assert.True(worst <= step * 1.0001, $"{method}: ours vs ORT differ by {worst / step} output steps");
            Assert.True(ours >= n * 0.95, $"{method}: QDQ accuracy {ours}/{n}");
            Assert.Empty(r.Warnings);
        }
    }

    private static int ArgMax(float[] v)
    {
        int best = 0;
        for (int k = 1; k < v.Length; k++) if (v[k] > v[best]) best = k;
        return best;
    }
}
