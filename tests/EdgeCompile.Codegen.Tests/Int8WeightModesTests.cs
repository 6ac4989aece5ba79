using System.Globalization;
using EdgeCompile.Codegen.Tests.Support;
using EdgeCompile.Compiler;
using EdgeCompile.Compiler.Data;
using EdgeCompile.Compiler.IR;
using EdgeCompile.Compiler.Lowering;
using EdgeCompile.Compiler.Lowering.Int8;
using EdgeCompile.Compiler.Quantization;
using EdgeCompile.Compiler.Reference;
using EdgeCompile.TestSupport;
using Microsoft.ML.OnnxRuntime;
using Xunit.Abstractions;
using Attribute = EdgeCompile.Compiler.IR.Attribute;
using ValueType = EdgeCompile.Compiler.IR.ValueType;

namespace EdgeCompile.Codegen.Tests;

/// <summary>
/// Int8Dynamic and Int8WeightOnly end to end: a transformer encoder layer built in code (fixed seeds) and the digits sample.
/// The generated class must equal <see cref="PlanInterpreter"/> bit for bit (so the build-time accuracy is the device's),
/// allocate nothing per Run, and stay within the quantization tolerance of the float reference.
/// </summary>
public class Int8WeightModesTests(ITestOutputHelper output)
{
    private const int Seq = 16, Hidden = 32, Ffn = 64, Heads = 2, Eval = 12;

    /// <summary>
    /// Tolerance: 8-bit symmetric per-channel weights of Gaussian-like values (max ≈ 3σ) carry ≈ 43 dB SQNR each, and a u8
    /// per-row activation ≈ 40 dB; the layer chains two of each along its paths, and LayerNorm rescales the output to unit
    /// variance. 30 dB (error energy 0.1 % of the signal) leaves margin over that estimate without hiding a broken layer
    /// (a wrong scale or transposition gives ≤ 10 dB). Max abs error: 0.1 on unit-variance outputs.
    /// </summary>
    private const double MinSqnrDb = 30, MaxAbsError = 0.1;

    [Theory]
    [InlineData(QuantizationMode.Int8Dynamic)]
    [InlineData(QuantizationMode.Int8WeightOnly)]
    public void Transformer_layer_matches_the_interpreter_bit_for_bit_and_float_within_tolerance(QuantizationMode mode)
    {
        var inv = CultureInfo.InvariantCulture;
        string ns = "Codegen.WeightModes", cls = "Encoder" + mode;
        using var floatModel = TransformerLayer();
        var floatPrepared = CodegenHarness.Lower("enc-f32-" + mode, floatModel, "encoder.onnx", ns, "EncoderF32" + mode);

        using var model = TransformerLayer();
        var rng = new Random(5);
        var inputs = Enumerable.Range(0, Eval).Select(_ => Enumerable.Range(0, Seq * Hidden).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray()).ToList();
        var reference = new ReferenceExecutor(model);
        var expected = inputs.Select(v => reference.Run(new Dictionary<string, Tensor> { ["x"] = Tensor.FromArray(v, 1, Seq, Hidden) })["y"].As<float>().ToArray()).ToList();

        var quantization = PostTrainingQuantizer.Quantize(model, null, new QuantizationOptions { Mode = mode });
        var lowering = Int8WeightLowerer.Lower(model, quantization, mode, cls, ns);
        var compiled = lowering.Compiled;
        string precision = mode == QuantizationMode.Int8Dynamic ? Int8WeightLowerer.DynamicPrecision : Int8WeightLowerer.WeightOnlyPrecision;
        // The six dense layers (q, k, v, output projection, two FFN) are quantized; the two activation × activation MatMuls stay float.
        var matmuls = compiled.Layers.Where(l => l.OpType == "MatMul").ToList();
        Assert.Equal(8, matmuls.Count);
        Assert.Equal(6, matmuls.Count(l => l.Precision == precision));
        Assert.Equal(2, matmuls.Count(l => l.Precision == "float32"));
        Assert.All(compiled.Layers.Where(l => l.OpType is not "MatMul"), l => Assert.Equal("float32", l.Precision));
        var methods = compiled.Calls.Select(c => c.Call.Method).ToHashSet();
        if (mode == QuantizationMode.Int8Dynamic)
        {
            Assert.Equal(6, compiled.Calls.Count(c => c.Call.Method == "QGemm.RunDequantized"));
            Assert.Equal(6, compiled.Calls.Count(c => c.Call.Method == "QLinear.QuantizeRowsDynamic"));
            Assert.DoesNotContain("QLinear.DequantizeChannels", methods);
            // The bias Adds were fused into the dynamic GEMM (the float plan fuses them into Gemm.Run the same way).
            Assert.Equal(floatPrepared.Plan.Split('\n').Count(l => l.Contains("Elementwise.Binary", StringComparison.Ordinal)),
                ArtifactWriter.Plan(compiled, "encoder.onnx", "codegen-test").Split('\n').Count(l => l.Contains("Elementwise.Binary", StringComparison.Ordinal)));
        }
        else
        {
            Assert.Equal(6, compiled.Calls.Count(c => c.Call.Method == "QLinear.DequantizeChannels"));
            Assert.DoesNotContain("QGemm.RunDequantized", methods);
        }
        Assert.Equal(6, lowering.FloatProbes.Count);
        Assert.True(PlanInterpreter.CanRun(compiled));

        string plan = ArtifactWriter.Plan(compiled, "encoder.onnx", "codegen-test");
        var prepared = new PreparedModel("enc-" + mode, ns, cls, plan, compiled.Weights, compiled.ResourceName, compiled.Inputs, compiled.Outputs);
        using var assembly = CodegenHarness.Build([floatPrepared, prepared], "GeneratedWeightModes" + mode);
        Assert.True(assembly.Failures.Count == 0, string.Join(Environment.NewLine, assembly.Failures.Values));

        var interpreter = new PlanInterpreter(compiled);
        var fromInterpreter = new float[Seq * Hidden];
        double signal = 0, error = 0, worst = 0, floatPlanWorst = 0;
        for (int i = 0; i < Eval; i++)
        {
            var q = (float[])assembly.Run(prepared, [inputs[i]])[0];
            var f = (float[])assembly.Run(floatPrepared, [inputs[i]])[0];
            interpreter.Run([inputs[i]], [fromInterpreter]);
            for (int k = 0; k < q.Length; k++)
            {
                Assert.True(BitConverter.SingleToInt32Bits(q[k]) == BitConverter.SingleToInt32Bits(fromInterpreter[k]),
                    string.Create(inv, $"sample {i}, element {k}: generated {q[k]:R}, plan interpreter {fromInterpreter[k]:R}"));
                double e = q[k] - (double)expected[i][k];
                signal += (double)expected[i][k] * expected[i][k];
                error += e * e;
                worst = Math.Max(worst, Math.Abs(e));
                floatPlanWorst = Math.Max(floatPlanWorst, Math.Abs(f[k] - (double)expected[i][k]));
            }
        }
        double sqnr = 10 * Math.Log10(signal / error);
        long allocated = assembly.AllocatedBytes(prepared, [inputs[0]], 20);
        double ratio = (double)compiled.Weights.Length / floatPrepared.Weights.Length;
        output.WriteLine(string.Create(inv,
            $"{mode}: SQNR vs float reference {sqnr:F1} dB, max abs error {worst:G4} (float plan vs reference: {floatPlanWorst:G3}); weight bytes {compiled.Weights.Length} vs float {floatPrepared.Weights.Length} ({ratio:F3}x); quantized layers {lowering.QuantizedWeightBytes} vs {lowering.FloatWeightBytes} float bytes; arena {compiled.ArenaBytes}; allocated over 20 runs: {allocated} B"));
        Assert.Equal(0, allocated);
        Assert.True(sqnr >= MinSqnrDb, $"SQNR {sqnr:F1} dB < {MinSqnrDb} dB");
        Assert.True(worst <= MaxAbsError, $"max abs error {worst} > {MaxAbsError}");
        // Bytes of the six dense layers, from the kernels' layouts: Dynamic packs [n, k] as n8k4 (QGemm.PackedLength), WeightOnly
        // stores [k, n] int8; both add one float32 scale per output channel.
        (int In, int Out)[] dense = [(Hidden, Hidden), (Hidden, Hidden), (Hidden, Hidden), (Hidden, Hidden), (Hidden, Ffn), (Ffn, Hidden)];
        Assert.Equal(dense.Sum(d => 4L * d.In * d.Out), lowering.FloatWeightBytes);
        Assert.Equal(dense.Sum(d => (mode == QuantizationMode.Int8Dynamic ? Kernels.QGemm.PackedLength(d.Out, d.In) : (long)d.In * d.Out) + 4L * d.Out), lowering.QuantizedWeightBytes);
        // The dense layers are 96 % of this layer's float bytes (biases and LayerNorm stay float). At k = 32, n8k4 adds 32 B of
        // weight sums per 8 channels (12.5 %) and the scales another 12.5 %: about (1 + 0.125 + 0.125) / 4 = 0.31x for them.
        Assert.True(ratio < 0.35, $"weight blob is {ratio:F3}x the float one");
    }

    /// <summary>
    /// The digits sample through <see cref="Compilation.Compile"/> (what edgec runs) with ValidationData/Labels and
    /// ExportQuantizedOnnx: the build-time report, and ONNX Runtime on the exported QDQ model against the plan.
    /// </summary>
    [Theory]
    [InlineData("Int8Dynamic")]
    [InlineData("Int8WeightOnly")]
    public void Digits_compile_reports_accuracy_and_exports_a_QDQ_model_ORT_agrees_with(string mode)
    {
        var inv = CultureInfo.InvariantCulture;
        string dir = TestPaths.DigitsModelDir;
        string outDir = Path.Combine(Path.GetTempPath(), $"edge-weightmodes-{mode}-{Environment.ProcessId}");
        var log = new List<string>();
        var result = Compilation.Compile(new CompileRequest
        {
            ModelPath = Path.Combine(dir, "digits.onnx"),
            OutDir = outDir,
            ClassName = "Digits" + mode,
            Quantization = mode,
            ValidationData = Path.Combine(dir, "digits_test_x.npy"),
            ValidationLabels = Path.Combine(dir, "digits_test_y.npy"),
            MaxAccuracyDrop = "1",
            ExportQuantizedOnnx = true,
            Log = log.Add,
        });
        foreach (var l in log) output.WriteLine(l);
        var acc = result.Accuracy!;
        Assert.Equal(450, acc.Samples);
        Assert.Equal(mode, acc.Mode);
        Assert.True(acc.Drop <= 1.0, acc.Summary());
        Assert.True(acc.Agree >= 445, acc.Summary());
        string report = File.ReadAllText(result.Paths.ReportMarkdown);
        Assert.Contains($"## {mode} accuracy (build time, real kernels)", report);
        Assert.Contains(mode == "Int8Dynamic" ? "| int8 dynamic |" : "| int8 weights |", report);
        Assert.Contains("float32 bytes", report);

        // ONNX Runtime on the exported QDQ model: its weights are the plan's (DequantizeLinear gives the same floats), so
        // Int8WeightOnly agrees to float rounding; Int8Dynamic's activations are quantized only by our kernels at run time.
        string onnx = Compilation.QuantizedOnnxPath(outDir, "Digits" + mode);
        Assert.True(File.Exists(onnx));
        using var session = new InferenceSession(onnx, new SessionOptions { IntraOpNumThreads = 1, LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR });
        var x = NpyFile.Load(Path.Combine(dir, "digits_test_x.npy"));
        var images = x.As<float>();
        int count = x.Shape[0], length = images.Length / count;
        var interpreter = new PlanInterpreter(result.Model);
        var ours = new float[10];
        double worst = 0, scale = 0;
        int agreeOrt = 0;
        for (int i = 0; i < count; i++)
        {
            float[] image = images.AsSpan(i * length, length).ToArray();
            interpreter.Run([image], [ours]);
            using var input = OrtValue.CreateTensorValueFromMemory(image, [1, 1, 8, 8]);
            using var outs = session.Run(new RunOptions(), [session.InputNames[0]], [input], session.OutputNames);
            var theirs = outs[0].GetTensorDataAsSpan<float>();
            for (int k = 0; k < 10; k++) { worst = Math.Max(worst, Math.Abs(theirs[k] - ours[k])); scale = Math.Max(scale, Math.Abs(theirs[k])); }
            if (ArgMax(theirs) == ArgMax(ours)) agreeOrt++;
        }
        output.WriteLine(string.Create(inv, $"{mode}: ORT on the QDQ export vs the plan: max abs difference {worst:G4} (largest |logit| {scale:G4}); predictions agree on {agreeOrt}/{count}"));
        // The export quantizes exactly the weights the plan stores int8: Gemm weights (Dynamic), every Conv/Gemm weight (WeightOnly).
        using var exported = FrontEnd.Load(onnx, new FrontEndOptions { Optimize = false });
        Assert.Equal(result.Model.Layers.Count(l => l.Precision != "float32"), exported.Graph.Nodes.Count(n => n.OpType == "DequantizeLinear"));
        Assert.DoesNotContain(exported.Graph.Nodes, n => n.OpType == "QuantizeLinear");
        if (mode == "Int8WeightOnly")
            // Same weights, float compute on both sides: only summation order differs.
            Assert.True(worst <= 1e-4 * scale, string.Create(inv, $"ORT vs plan: {worst:G4}"));
        else
            // The export carries no activation quantization (Int8Dynamic measures activations at run time): ORT runs the dense
            // layers in float on the same int8 weights, so the outputs differ by the run-time activation rounding only.
            Assert.True(agreeOrt >= count - 2, $"ORT on the export and the plan agree on {agreeOrt}/{count} predictions");
        Directory.Delete(outDir, recursive: true);
    }

    private static int ArgMax(ReadOnlySpan<float> v)
    {
        int best = 0;
        for (int k = 1; k < v.Length; k++) if (v[k] > v[best]) best = k;
        return best;
    }

    /// <summary>
    /// [1, 16, 32] → post-norm encoder layer: q/k/v projections (MatMul + bias Add), two heads, softmax attention,
    /// output projection, residual + LayerNorm, FFN 32 → 64 → 32 with Relu, residual + LayerNorm. Opset 17.
    /// </summary>
    private static Model TransformerLayer()
    {
        var b = new RandomGraph("encoder", 20261124 + 3, "Int8WeightModesTests");
        string x = b.Input("x", 1, Seq, Hidden);
        string heads = b.Shape("heads", 1, Seq, Heads, Hidden / Heads), merged = b.Shape("merged", 1, Seq, Hidden);
        string Dense(string v, int fin, int fout) => b.Dense(v, fin, fout, biasStd: 0.02);
        string Split(string v, params long[] perm) => b.Node("Transpose", [b.Node("Reshape", [v, heads])], Ints("perm", perm));
        string q = Split(Dense(x, Hidden, Hidden), 0, 2, 1, 3);
        string k = Split(Dense(x, Hidden, Hidden), 0, 2, 3, 1);
        string v = Split(Dense(x, Hidden, Hidden), 0, 2, 1, 3);
        string scores = b.Node("Mul", [b.Node("MatMul", [q, k]), b.Scalar("scale", 1f / MathF.Sqrt(Hidden / Heads))]);
        string probs = b.Node("Softmax", [scores], Int("axis", -1));
        string ctx = b.Node("Transpose", [b.Node("MatMul", [probs, v])], Ints("perm", 0, 2, 1, 3));
        string attn = Dense(b.Node("Reshape", [ctx, merged]), Hidden, Hidden);
        string x1 = b.LayerNorm(b.Node("Add", [x, attn]), Hidden, biasStd: 0.02, epsilon: null);
        string ff = Dense(b.Node("Relu", [Dense(x1, Hidden, Ffn)]), Ffn, Hidden);
        string y = b.LayerNorm(b.Node("Add", [x1, ff]), Hidden, biasStd: 0.02, epsilon: null);
        var model = b.Output(y, "y", 1, Seq, Hidden).Build(17);
        FrontEnd.Prepare(model);
        return model;
    }

    private static Attribute Int(string n, long v) => new() { Name = n, Kind = AttributeKind.Int, I = v };
    private static Attribute Ints(string n, params long[] v) => new() { Name = n, Kind = AttributeKind.Ints, Ints = v };
}
