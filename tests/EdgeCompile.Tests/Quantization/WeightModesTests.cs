using EdgeCompile.Compiler;
using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.IR;
using EdgeCompile.Compiler.Lowering;
using EdgeCompile.Compiler.Lowering.Int8;
using EdgeCompile.Compiler.Onnx;
using EdgeCompile.Compiler.Quantization;
using EdgeCompile.Tests.Support;

namespace EdgeCompile.Tests.Quantization;

/// <summary>
/// Int8Dynamic / Int8WeightOnly: which layers each mode lowers to which kernels, the plan's weights against the QDQ
/// definition, and the coded errors and warnings of the compile (EDGE4005, EDGE4008), through Compilation and edgec.
/// </summary>
public class WeightModesTests
{
    private static string TempDir()
    {
        var d = Path.Combine(Path.GetTempPath(), "edge-weightmodes-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(d);
        return d;
    }

    private static Tensor Random(int seed, params int[] shape)
    {
        var r = new Random(seed);
        var v = new float[shape.Aggregate(1, (a, b) => a * b)];
        for (int i = 0; i < v.Length; i++) v[i] = (float)(r.NextDouble() * 2 - 1);
        return Tensor.FromArray(v, shape);
    }

    /// <summary>
    /// x[2, 8, 12] → MatMul(W1 [12, 16]) + b1 → Relu → MatMul(W2 [16, 6]) (no bias) → y; also x → Gemm-able 2-D path:
    /// z[3, 12] → Gemm(transB, W3 [5, 12], c [5]) → zy; z → Gemm(transA = 1) stays float; a Conv on img.
    /// </summary>
    private static Model Mixed()
    {
        var b = new GraphBuilder();
        string x = b.Input("x", DataType.Float, 2, 8, 12);
        string w1 = b.Initializer("W1", Random(1, 12, 16)), b1 = b.Initializer("b1", Random(2, 16)), w2 = b.Initializer("W2", Random(3, 16, 6));
        string h = b.Node1("Relu", b.Node1("Add", b.Node1("MatMul", x, w1), b1));
        string y = b.Node1("MatMul", h, w2);
        b.Output(y, DataType.Float);
        string z = b.Input("z", DataType.Float, 3, 12);
        string w3 = b.Initializer("W3", Random(4, 5, 12)), c3 = b.Initializer("c3", Random(5, 5));
        string zy = b.Node("Gemm", [z, w3, c3], 1, GraphBuilder.Int("transB", 1))[0];
        b.Output(zy, DataType.Float);
        string zt = b.Input("zt", DataType.Float, 12, 3);
        string w4 = b.Initializer("W4", Random(6, 12, 4));
        string zty = b.Node("Gemm", [zt, w4], 1, GraphBuilder.Int("transA", 1))[0];
        b.Output(zty, DataType.Float);
        string img = b.Input("img", DataType.Float, 1, 2, 5, 5);
        string wc = b.Initializer("Wc", Random(7, 3, 2, 3, 3));
        string conv = b.Node("Conv", [img, wc], 1, GraphBuilder.Ints("pads", 1, 1, 1, 1))[0];
        b.Output(conv, DataType.Float);
        var m = b.Build();
        FrontEnd.Prepare(m);
        return m;
    }

    private static Int8Lowering Lower(Model m, QuantizationMode mode)
    {
        var q = PostTrainingQuantizer.Quantize(m, null, new QuantizationOptions { Mode = mode });
        return Int8WeightLowerer.Lower(m, q, mode, "Mixed", "T");
    }

    [Fact]
    public void Dynamic_lowers_constant_weight_MatMul_and_Gemm_and_leaves_the_rest_float()
    {
        using var m = Mixed();
        var l = Lower(m, QuantizationMode.Int8Dynamic);
        var byOp = l.Compiled.Layers.ToLookup(x => x.OpType);
        Assert.All(byOp["MatMul"], x => Assert.Equal(Int8WeightLowerer.DynamicPrecision, x.Precision));
        // The bias Add is fused into the first MatMul's QGemm.RunDequantized: no layer of its own.
        Assert.DoesNotContain(l.Compiled.Layers, x => x.OpType == "Add");
        var gemms = byOp["Gemm"].ToList();
        Assert.Equal(2, gemms.Count);
        Assert.Equal(Int8WeightLowerer.DynamicPrecision, gemms[0].Precision);
        Assert.Equal("float32", gemms[1].Precision);        // transA = 1
        Assert.Equal("float32", byOp["Conv"].Single().Precision);
        Assert.Equal(["n5_Gemm", "n6_Conv"], l.FloatNodes);
        Assert.Equal(3, l.Compiled.Calls.Count(c => c.Call.Method == "QGemm.RunDequantized"));
        Assert.Equal(3, l.FloatProbes.Count);
        // Per-row activation quantization: rows = 2 * 8 for x (batch dims folded into M).
        var rows = l.Compiled.Calls.First(c => c.Call.Method == "QLinear.QuantizeRowsDynamic").Call.Args;
        Assert.Equal(16L, ((CallArg.Int)rows[4]).V);
        Assert.Equal(12L, ((CallArg.Int)rows[5]).V);
    }

    [Fact]
    public void WeightOnly_stores_every_conv_gemm_matmul_weight_int8_and_dequantizes_into_the_arena()
    {
        using var m = Mixed();
        var l = Lower(m, QuantizationMode.Int8WeightOnly);
        Assert.All(l.Compiled.Layers.Where(x => x.OpType is "MatMul" or "Gemm" or "Conv"), x => Assert.Equal(Int8WeightLowerer.WeightOnlyPrecision, x.Precision));
        Assert.Empty(l.FloatNodes);
        var deq = l.Compiled.Calls.Where(c => c.Call.Method == "QLinear.DequantizeChannels").ToList();
        Assert.Equal(5, deq.Count);
        // Scratch is arena, the int8 values and scales are weights; each dequantization directly precedes its layer's kernel.
        foreach (var (call, bufs) in deq)
        {
            Assert.IsType<BufferRef.Weight>(bufs[0]);
            Assert.Equal(DataType.Int8, bufs[0]!.Type);
            Assert.IsType<BufferRef.Arena>(bufs[2]);
            int at = l.Compiled.Calls.Select((c, i) => (c, i)).First(t => ReferenceEquals(t.c.Call, call)).i;
            Assert.Equal(call.NodeName, l.Compiled.Calls[at + 1].Call.NodeName);
        }
        // Axis: Conv and transB Gemm per row (0), MatMul and plain Gemm per column (1).
        Assert.Equal([1L, 1L, 0L, 1L, 0L], deq.Select(c => ((CallArg.Int)c.Call.Args[5]).V));
        // No float32 copy of a quantized weight is left in the blob: weights are 1 byte per element plus scales and biases.
        long quantizedElements = 12 * 16 + 16 * 6 + 5 * 12 + 12 * 4 + 3 * 2 * 9;
        Assert.Equal(quantizedElements, l.QuantizedWeightBytes - 4 * (16 + 6 + 5 + 4 + 3));
        Assert.Equal(4 * quantizedElements, l.FloatWeightBytes);
    }

    [Fact]
    public void WeightOnly_plan_equals_the_float_model_with_the_QDQ_weights()
    {
        // The QDQ export's weights (DequantizeLinear of the int8 initializers) run by the reference executor must agree with
        // the plan run by the real kernels up to float summation order.
        using var m = Mixed();
        var q = PostTrainingQuantizer.Quantize(m, null, new QuantizationOptions { Mode = QuantizationMode.Int8WeightOnly });
        var reference = new Compiler.Reference.ReferenceExecutor(q.QdqModel);
        var feeds = new Dictionary<string, Tensor>
        {
            ["x"] = Random(10, 2, 8, 12), ["z"] = Random(11, 3, 12), ["zt"] = Random(12, 12, 3), ["img"] = Random(13, 1, 2, 5, 5),
        };
        var expected = reference.Run(feeds);
        var l = Int8WeightLowerer.Lower(m, q, QuantizationMode.Int8WeightOnly, "Mixed", "T");
        var interp = new PlanInterpreter(l.Compiled);
        var outs = l.Compiled.Outputs.Select(p => (Array)new float[(int)Shapes.Product(p.Shape)]).ToArray();
        interp.Run(l.Compiled.Inputs.Select(p => feeds[p.OnnxName].Data).ToArray(), outs);
        for (int o = 0; o < outs.Length; o++)
        {
            var e = expected[l.Compiled.Outputs[o].OnnxName].As<float>();
            var a = (float[])outs[o];
            for (int i = 0; i < a.Length; i++) Assert.True(Math.Abs(a[i] - e[i]) <= 1e-5 * (1 + Math.Abs(e[i])), $"{l.Compiled.Outputs[o].OnnxName}[{i}]: {a[i]} vs {e[i]}");
        }
    }

    [Fact]
    public void Compile_errors_and_warnings_are_coded()
    {
        string dir = TempDir();
        var b = new GraphBuilder();
        string x = b.Input("x", DataType.Float, 1, 4);
        string y = b.Node1("Relu", x);
        b.Output(y, DataType.Float);
        string reluOnly = Path.Combine(dir, "relu.onnx");
        OnnxWriter.WriteFile(b.Build(), reluOnly);
        string digits = Path.Combine(TestPaths.RepoRoot, "Samples", "DigitRecognizer", "model", "digits.onnx");

        // MaxAccuracyDrop with nothing to measure on.
        var e = Assert.Throws<EdgeException>(() => Compilation.Compile(new CompileRequest { ModelPath = digits, OutDir = dir, Quantization = "Int8Dynamic", MaxAccuracyDrop = "1" }));
        Assert.Equal(EdgeCodes.InvalidQuantizationOption, e.Code);
        // ExportQuantizedOnnx without quantization.
        e = Assert.Throws<EdgeException>(() => Compilation.Compile(new CompileRequest { ModelPath = digits, OutDir = dir, ExportQuantizedOnnx = true }));
        Assert.Equal(EdgeCodes.InvalidQuantizationOption, e.Code);
        // Nothing to quantize: a warning, and the model still compiles (float32).
        var log = new List<string>();
        var r = Compilation.Compile(new CompileRequest { ModelPath = reluOnly, OutDir = dir, Quantization = "Int8WeightOnly", Log = log.Add });
        Assert.Contains(log, l => l.Contains("warning " + EdgeCodes.NothingQuantized, StringComparison.Ordinal));
        Assert.All(r.Model.Layers, l => Assert.Equal("float32", l.Precision));
        // Without data the accuracy is skipped, not guessed.
        Assert.Null(r.Accuracy);
        Assert.Contains(log, l => l.Contains("accuracy skipped", StringComparison.Ordinal));
        Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public void Edgec_exports_the_QDQ_model_and_removes_a_stale_export()
    {
        string dir = TempDir();
        string digits = Path.Combine(TestPaths.RepoRoot, "Samples", "DigitRecognizer", "model", "digits.onnx");
        var r = Edgec.Run(["compile", "--model", digits, "--out-dir", dir, "--quantization", "Int8WeightOnly", "--export-quantized-onnx", "true", "--plan-name", "digits"]);
        Assert.True(r.ExitCode == 0, r.All);
        string onnx = Path.Combine(dir, "digits.quantized.onnx");
        Assert.True(File.Exists(onnx), r.All);
        using (var exported = FrontEnd.Load(onnx, new FrontEndOptions { Optimize = false }))
            Assert.Equal(5, exported.Graph.Nodes.Count(n => n.OpType == "DequantizeLinear"));
        var bytes = File.ReadAllBytes(onnx);
        // Deterministic: the same compile writes the same bytes.
        r = Edgec.Run(["compile", "--model", digits, "--out-dir", dir, "--quantization", "Int8WeightOnly", "--export-quantized-onnx", "true", "--plan-name", "digits"]);
        Assert.Equal(bytes, File.ReadAllBytes(onnx));
        r = Edgec.Run(["compile", "--model", digits, "--out-dir", dir, "--quantization", "Int8WeightOnly", "--export-quantized-onnx", "false", "--plan-name", "digits"]);
        Assert.True(r.ExitCode == 0, r.All);
        Assert.False(File.Exists(onnx));
        r = Edgec.Run(["compile", "--model", digits, "--out-dir", dir, "--quantization", "Int8WeightOnly", "--export-quantized-onnx", "yes"]);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("error " + EdgeCodes.InvalidMetadata, r.All);
        Directory.Delete(dir, recursive: true);
    }
}
