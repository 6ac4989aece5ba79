using EdgeCompile.Compiler;
using EdgeCompile.Compiler.IR;
using EdgeCompile.Compiler.Lowering.Int8;
using EdgeCompile.Compiler.Quantization;
using EdgeCompile.Compiler.Reference;
using Attribute = EdgeCompile.Compiler.IR.Attribute;
using ValueType = EdgeCompile.Compiler.IR.ValueType;

namespace EdgeCompile.Tests.Quantization;

/// <summary>
/// Graph preparation before quantization: cross-layer equalization keeps the float model's outputs (relative error at most
/// 1e-5 of the output range: float32 rounding of the rescaled weights) and evens the per-channel weight ranges; pairs through a
/// non-homogeneous op (Clip/Relu6) or an intermediate that is also a graph output are left alone; empirical bias correction
/// cuts the int8 plan's per-channel output mean error on a layer whose weights all round the same way.
/// </summary>
public class GraphPreparationTests
{
    private static Attribute Ints(string n, params long[] v) => new() { Name = n, Kind = AttributeKind.Ints, Ints = v };
    private static Attribute Int(string n, long v) => new() { Name = n, Kind = AttributeKind.Int, I = v };

    /// <summary>
    /// x[1,8,10,10] → depthwise 3x3 (8 channels, channel c's weights scaled by 4^(c−4): ranges 1/256 … 64) + bias → act →
    /// pointwise 1x1 8→6 (input channel c's weights divided by the same factor) → y. In float the scaling cancels exactly.
    /// </summary>
    private static Model DepthwisePointwise(string activation = "Relu", bool intermediateIsOutput = false)
    {
        var rng = new Random(42);
        float R() => (float)(rng.NextDouble() * 2 - 1);
        var g = new Graph { Name = "dwpw" };
        g.Inputs.Add(new ValueInfo("x", ValueType.FromShape(DataType.Float, [1, 8, 10, 10])));
        var dw = new float[8 * 9]; var db = new float[8]; var pw = new float[6 * 8]; var pb = new float[6];
        for (int c = 0; c < 8; c++)
        {
            double k = Math.Pow(4, c - 4);
            for (int i = 0; i < 9; i++) dw[c * 9 + i] = (float)(R() * k);
            db[c] = (float)(0.1 * R() * k);
            for (int o = 0; o < 6; o++) pw[o * 8 + c] = (float)(R() / k);
        }
        for (int o = 0; o < 6; o++) pb[o] = 0.1f * R();
        g.Initializers.Add(new Constant("dw", Tensor.FromArray(dw, 8, 1, 3, 3)));
        g.Initializers.Add(new Constant("db", Tensor.FromArray(db, 8)));
        g.Initializers.Add(new Constant("pw", Tensor.FromArray(pw, 6, 8, 1, 1)));
        g.Initializers.Add(new Constant("pb", Tensor.FromArray(pb, 6)));
        g.Nodes.Add(new Node { Name = "depthwise", OpType = "Conv", Inputs = ["x", "dw", "db"], Outputs = ["h"], Attributes = [Ints("pads", 1, 1, 1, 1), Int("group", 8), Ints("kernel_shape", 3, 3)] });
        string pwIn = "h";
        if (activation == "Relu6")
        {
            g.Initializers.Add(new Constant("lo", Tensor.FromArray(new[] { 0f })));
            g.Initializers.Add(new Constant("hi", Tensor.FromArray(new[] { 6f })));
            g.Nodes.Add(new Node { Name = "clip", OpType = "Clip", Inputs = ["h", "lo", "hi"], Outputs = ["a"] });
            pwIn = "a";
        }
        else if (activation == "Relu")
        {
            g.Nodes.Add(new Node { Name = "relu", OpType = "Relu", Inputs = ["h"], Outputs = ["a"] });
            pwIn = "a";
        }
        g.Nodes.Add(new Node { Name = "pointwise", OpType = "Conv", Inputs = [pwIn, "pw", "pb"], Outputs = ["y"], Attributes = [Ints("kernel_shape", 1, 1)] });
        g.Outputs.Add(new ValueInfo("y", ValueType.FromShape(DataType.Float, [1, 6, 10, 10])));
        if (intermediateIsOutput) g.Outputs.Add(new ValueInfo(pwIn, ValueType.FromShape(DataType.Float, [1, 8, 10, 10])));
        var m = new Model { Graph = g, IrVersion = 8, ProducerName = "GraphPreparationTests" };
        m.Opsets[""] = 17;
        Compiler.Passes.InferShapes.Run(m);
        return m;
    }

    private static Dictionary<string, Tensor> Input(int seed)
    {
        var rng = new Random(seed);
        var x = new float[800];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
        return new() { ["x"] = Tensor.FromArray(x, 1, 8, 10, 10) };
    }

    [Fact]
    public void Equalization_keeps_the_float_outputs_and_evens_the_weight_ranges()
    {
        var m = DepthwisePointwise();
        var before = Enumerable.Range(0, 5).Select(s => new ReferenceExecutor(m).Run(Input(s))["y"].As<float>().ToArray()).ToList();
        double dwSpread = CrossLayerEqualization.Spread(CrossLayerEqualization.Ranges(m.Graph.Initializers["dw"].Value, 0, 8));
        var pairs = CrossLayerEqualization.Run(m);
        var pair = Assert.Single(pairs);
        Assert.Equal(("depthwise", "pointwise"), (pair.First, pair.Second));
        Assert.True(dwSpread > 1000, $"constructed spread {dwSpread}");
        Assert.Equal(dwSpread, pair.SpreadBefore, 6);
        // Both layers' per-channel ranges become sqrt(r1 r2): the depthwise spread drops to that of the product ranges.
        Assert.True(pair.SpreadAfter < 20, $"spread after {pair.SpreadAfter}");
        var r1 = CrossLayerEqualization.Ranges(m.Graph.Initializers["dw"].Value, 0, 8);
        var r2 = CrossLayerEqualization.Ranges(m.Graph.Initializers["pw"].Value, 1, 8);
        for (int c = 0; c < 8; c++) Assert.Equal(1.0, r1[c] / r2[c], 4);
        for (int s = 0; s < 5; s++)
        {
            var after = new ReferenceExecutor(m).Run(Input(s))["y"].As<float>();
            double range = before[s].Max(Math.Abs);
            for (int i = 0; i < after.Length; i++)
                Assert.True(Math.Abs(after[i] - before[s][i]) <= 1e-5 * range, $"sample {s}, element {i}: {after[i]} vs {before[s][i]}");
        }
    }

    [Fact]
    public void Equalization_runs_through_nothing_and_gemm_relu_gemm()
    {
        Assert.Single(CrossLayerEqualization.Run(DepthwisePointwise("None")));
        // Gemm → Relu → Gemm (transB): the hidden channel axis is Gemm 1's output row and Gemm 2's input column.
        var g = new Graph { Name = "mlp" };
        g.Inputs.Add(new ValueInfo("x", ValueType.FromShape(DataType.Float, [1, 4])));
        var w1 = new float[] { 100, 0, 0, 0, 0, 0.01f, 0, 0, 0, 0, 1, 1 };   // rows: ranges 100, 0.01, 1
        var w2 = new float[] { 0.01f, 100, 1, 0.02f, 50, 1 };               // 2 x 3, columns: 0.02, 100, 1
        g.Initializers.Add(new Constant("w1", Tensor.FromArray(w1, 3, 4)));
        g.Initializers.Add(new Constant("w2", Tensor.FromArray(w2, 2, 3)));
        g.Nodes.Add(new Node { Name = "fc1", OpType = "Gemm", Inputs = ["x", "w1"], Outputs = ["h"], Attributes = [Int("transB", 1)] });
        g.Nodes.Add(new Node { Name = "relu", OpType = "Relu", Inputs = ["h"], Outputs = ["a"] });
        g.Nodes.Add(new Node { Name = "fc2", OpType = "Gemm", Inputs = ["a", "w2"], Outputs = ["y"], Attributes = [Int("transB", 1)] });
        g.Outputs.Add(new ValueInfo("y", ValueType.FromShape(DataType.Float, [1, 2])));
        var m = new Model { Graph = g, IrVersion = 8 };
        m.Opsets[""] = 17;
        var x = new Dictionary<string, Tensor> { ["x"] = Tensor.FromArray(new[] { 0.3f, 0.7f, -0.2f, 0.5f }, 1, 4) };
        var y0 = new ReferenceExecutor(m).Run(x)["y"].As<float>().ToArray();
        var pair = Assert.Single(CrossLayerEqualization.Run(m));
        Assert.True(pair.SpreadBefore >= 10_000 && pair.SpreadAfter < 10, $"{pair.SpreadBefore} → {pair.SpreadAfter}");
        var y1 = new ReferenceExecutor(m).Run(x)["y"].As<float>();
        for (int i = 0; i < 2; i++) Assert.Equal(y0[i], y1[i], 1e-4 * Math.Max(1, Math.Abs(y0[i])));
    }

    [Theory]
    [InlineData("Relu6", false)]
    [InlineData("Relu", true)]
    public void Equalization_skips_clips_and_shared_intermediates(string activation, bool intermediateIsOutput)
    {
        var m = DepthwisePointwise(activation, intermediateIsOutput);
        var dw = m.Graph.Initializers["dw"].Value.As<float>().ToArray();
        Assert.Empty(CrossLayerEqualization.Run(m));
        Assert.Equal(dw, m.Graph.Initializers["dw"].Value.As<float>());
    }

    /// <summary>
    /// x[1,64] in [0, 1) → Gemm(transB) 64 → 8 → y. Row o has one weight 1.27 (scale 0.01) and 63 weights of 0.0049: every one
    /// rounds to 0 in int8, so the int8 output is short of the float one by about 63 · 0.0049 · E[x] ≈ 0.15 on every channel — a
    /// biased error. Bias correction adds the calibration mean of (W − W_q)·x to the bias.
    /// </summary>
    [Fact]
    public void Bias_correction_removes_the_mean_output_error_of_biased_weight_rounding()
    {
        var g = new Graph { Name = "biased" };
        g.Inputs.Add(new ValueInfo("x", ValueType.FromShape(DataType.Float, [1, 64])));
        var w = new float[8 * 64];
        for (int o = 0; o < 8; o++)
            for (int i = 0; i < 64; i++) w[o * 64 + i] = i == o ? 1.27f : 0.0049f;
        g.Initializers.Add(new Constant("w", Tensor.FromArray(w, 8, 64)));
        g.Initializers.Add(new Constant("b", Tensor.FromArray(new float[8], 8)));
        g.Nodes.Add(new Node { Name = "fc", OpType = "Gemm", Inputs = ["x", "w", "b"], Outputs = ["y"], Attributes = [Int("transB", 1)] });
        g.Outputs.Add(new ValueInfo("y", ValueType.FromShape(DataType.Float, [1, 8])));
        var m = new Model { Graph = g, IrVersion = 8 };
        m.Opsets[""] = 17;
        Compiler.Passes.InferShapes.Run(m);
        CalibrationData Data(int seed, int n)
        {
            var rng = new Random(seed);
            var x = new float[n * 64];
            for (int i = 0; i < x.Length; i++) x[i] = (float)rng.NextDouble();
            return CalibrationData.FromArrays([new("x", Tensor.FromArray(x, n, 64))], m);
        }
        var q = PostTrainingQuantizer.Quantize(m, Data(1, 64), new QuantizationOptions { Mode = QuantizationMode.Int8 });
        var entry = Assert.Single(q.BiasCorrections);
        Assert.Equal("fc", entry.Node);
        Assert.All(entry.Corrected, c => Assert.InRange(c, 0.12, 0.18));
        Assert.All(m.Graph.Initializers["b"].Value.As<float>(), v => Assert.Equal(0f, v));   // the float model keeps its bias

        // Int8Lowerer applies the corrections itself (on a copy); without them: the same result with none.
        var plain = Int8Lowerer.Lower(Compiler.Pruning.Pruner.Snapshot(m), new QuantizationResult
        {
            QdqModel = q.QdqModel, Activations = q.Activations, Weights = q.Weights, Layers = q.Layers, Warnings = q.Warnings, Calibration = q.Calibration,
        }, "P", "").Compiled;
        var corrected = Int8Lowerer.Lower(Compiler.Pruning.Pruner.Snapshot(m), q, "C", "").Compiled;
        Assert.All(m.Graph.Initializers["b"].Value.As<float>(), v => Assert.Equal(0f, v));   // lowering did not touch the float model
        var held = Data(2, 200);   // not the calibration samples
        double MeanError(Compiler.Lowering.CompiledModel plan)
        {
            var interp = new PlanInterpreter(plan);
            var exec = new ReferenceExecutor(m);
            var sum = new double[8];
            var y = new float[8];
            for (int s = 0; s < held.SampleCount; s++)
            {
                var sample = held.Sample(s);
                interp.Run([sample["x"].Data], [y]);
                var f = exec.Run(sample)["y"].As<float>();
                for (int c = 0; c < 8; c++) sum[c] += y[c] - f[c];
            }
            return sum.Max(v => Math.Abs(v / held.SampleCount));
        }
        double before = MeanError(plain), after = MeanError(corrected);
        Assert.True(before > 0.1, $"uncorrected mean error {before}");
        Assert.True(after < before / 5, $"mean error {before} → {after}");
    }

    [Fact]
    public void Switches_turn_the_passes_off()
    {
        var m = DepthwisePointwise();
        var rng = new Random(3);
        var x = new float[20 * 800];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
        var data = CalibrationData.FromArrays([new("x", Tensor.FromArray(x, 20, 1, 8, 10, 10))], m);
        var off = PostTrainingQuantizer.Quantize(m, data, new QuantizationOptions { Mode = QuantizationMode.Int8, Equalization = false, BiasCorrection = false });
        Assert.Empty(off.Equalized);
        Assert.Empty(off.BiasCorrections);
        var on = PostTrainingQuantizer.Quantize(m, data, new QuantizationOptions { Mode = QuantizationMode.Int8, Equalization = true, BiasCorrection = true });
        Assert.Single(on.Equalized);
        Assert.Equal(2, on.BiasCorrections.Count);
    }
}
