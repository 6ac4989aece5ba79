using System.Globalization;
using EdgeCompile.Compiler;
using EdgeCompile.Compiler.Data;
using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.IR;
using EdgeCompile.Compiler.Pruning;
using EdgeCompile.Compiler.Quantization;
using EdgeCompile.Compiler.Reference;
using EdgeCompile.Tests.Support;
using Xunit.Abstractions;

namespace EdgeCompile.Tests.Pruning;

public class PruningTests(ITestOutputHelper output)
{
    // ------------------------------------------------------------------ options

    [Theory]
    [InlineData("Channels:0.3", 0.3, 0.0, false)]
    [InlineData("Magnitude:0.5", 0.0, 0.5, false)]
    [InlineData("Channels:0.3; Magnitude:0.5", 0.3, 0.5, false)]
    [InlineData("channels:0;GlobalMagnitude:0.25", 0.0, 0.25, true)]
    public void Pruning_metadata_parses(string text, double channels, double magnitude, bool global)
    {
        var o = PruningOptions.Parse(text, "conv1:0.5; conv2:0.2", "fc", "4", "l1")!;
        Assert.Equal(channels, o.ChannelRate);
        Assert.Equal(magnitude, o.MagnitudeRate);
        Assert.Equal(global, o.GlobalMagnitude);
        Assert.Equal(0.5, o.LayerRates["conv1"]);
        Assert.Equal(0.2, o.LayerRates["conv2"]);
        Assert.Contains("fc", o.Exclude);
        Assert.Equal(4, o.Steps);
        Assert.Equal(PruningCriterion.L1, o.Criterion);
    }

    [Theory]
    [InlineData("Channels:1", "", "", "", "")]
    [InlineData("Channels:-0.1", "", "", "", "")]
    [InlineData("Channels:abc", "", "", "", "")]
    [InlineData("Channels", "", "", "", "")]
    [InlineData("Filters:0.3", "", "", "", "")]
    [InlineData("Channels:0.3;Channels:0.2", "", "", "", "")]
    [InlineData("Magnitude:0.3;GlobalMagnitude:0.2", "", "", "", "")]
    [InlineData("Channels:0.3", "conv1", "", "", "")]
    [InlineData("Channels:0.3", "conv1:2", "", "", "")]
    [InlineData("Channels:0.3", "conv1:0.1;conv1:0.2", "", "", "")]
    [InlineData("Channels:0.3", "conv1:0.1", "conv1", "", "")]
    [InlineData("Channels:0.3", "", "", "0", "")]
    [InlineData("Channels:0.3", "", "", "101", "")]
    [InlineData("Channels:0.3", "", "", "", "Random")]
    [InlineData("Channels:0.3", "", "", "", "1")]
    [InlineData("", "conv1:0.5", "", "", "")]
    [InlineData("", "", "", "3", "")]
    [InlineData("Channels:0.3", "", "", "", "", "Sometimes")]
    [InlineData("", "", "", "", "", "None")]
    public void Bad_pruning_metadata_is_EDGE5001(string pruning, string layers, string exclude, string steps, string criterion, string recovery = "")
    {
        var e = Assert.Throws<EdgeException>(() => PruningOptions.Parse(pruning, layers, exclude, steps, criterion, recovery));
        Assert.Equal(EdgeCodes.InvalidPruningOption, e.Code);
    }

    [Fact]
    public void No_pruning_metadata_is_no_pruning() => Assert.Null(PruningOptions.Parse(""));

    // ------------------------------------------------------------------ surgery is exact on dead channels

    /// <summary>
    /// x[1,2,6,6] → conv1 (2→4) → Relu → conv2 (4→6) → BatchNorm → Relu → depthwise 3x3 → Mul by a per-channel constant
    /// → conv3 (6→5, 1x1) → Relu → GlobalAveragePool → Flatten → fc1 (Gemm 5→8, transB) → Relu → fc2 (Gemm 8→3).
    /// Channels listed in <paramref name="dead"/> have all-zero filters and biases, so they are 0 after the Relu and
    /// removing them must not change the output at all.
    /// </summary>
    private static Model Cnn(int seed, IReadOnlyDictionary<string, int[]>? dead = null, bool residual = false)
    {
        var rng = new Random(seed);
        float[] R(int n, float scale = 0.5f) => Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1) * scale).ToArray();
        float[] Kill(string layer, float[] w, int channels)
        {
            if (dead?.GetValueOrDefault(layer) is not { } d) return w;
            int per = w.Length / channels;
            foreach (int c in d) Array.Clear(w, c * per, per);
            return w;
        }
        var b = new GraphBuilder();
        var x = b.Input("x", DataType.Float, 1, 2, 6, 6);
        string W(string name, float[] v, params int[] shape) => b.Initializer(name, new Tensor(DataType.Float, shape, v));
        var pad1 = GraphBuilder.Ints("pads", 1, 1, 1, 1);
        var c1 = b.Node("Conv", [x, W("w1", R(4 * 2 * 9), 4, 2, 3, 3), W("b1", R(4), 4)], 1, pad1)[0];
        var r1 = b.Node1("Relu", c1);
        var c2 = b.Node("Conv", [r1, W("w2", Kill("conv2", R(6 * 4 * 9), 6), 6, 4, 3, 3), W("b2", Kill("conv2", R(6), 6), 6)], 1, pad1)[0];
        // BatchNorm with beta = 0 and mean = 0 keeps a dead channel at 0 (folded into conv2 before pruning).
        var bn = b.Node1("BatchNormalization", c2, W("g", R(6).Select(v => 1 + v).ToArray(), 6), W("beta", Kill("conv2", R(6), 6), 6),
            W("mean", Kill("conv2", R(6), 6), 6), W("var", R(6).Select(v => 1 + Math.Abs(v)).ToArray(), 6));
        var r2 = b.Node1("Relu", bn);
        var dw = b.Node("Conv", [r2, W("wd", R(6 * 9), 6, 1, 3, 3), W("bd", Kill("conv2", R(6), 6), 6)], 1, pad1, GraphBuilder.Int("group", 6))[0];
        var mul = b.Node1("Mul", dw, W("scale", R(6).Select(v => 1 + v).ToArray(), 1, 6, 1, 1));
        string afterDw = mul;
        if (residual) afterDw = b.Node1("Add", mul, b.Node("Conv", [r1, W("wr", R(6 * 4), 6, 4, 1, 1)], 1)[0]);
        var c3 = b.Node("Conv", [afterDw, W("w3", Kill("conv3", R(5 * 6), 5), 5, 6, 1, 1), W("b3", Kill("conv3", R(5), 5), 5)], 1)[0];
        var r3 = b.Node1("Relu", c3);
        var gap = b.Node1("GlobalAveragePool", r3);
        var flat = b.Node("Flatten", [gap], 1, GraphBuilder.Int("axis", 1))[0];
        var fc1 = b.Node("Gemm", [flat, W("wf1", Kill("fc1", R(8 * 5), 8), 8, 5), W("bf1", Kill("fc1", R(8), 8), 8)], 1, GraphBuilder.Int("transB", 1))[0];
        var r4 = b.Node1("Relu", fc1);
        var fc2 = b.Node1("Gemm", r4, W("wf2", R(8 * 3), 8, 3), W("bf2", R(3), 3));
        b.Output(fc2, DataType.Float, [1, 3]);
        var m = b.Build();
        FrontEnd.Prepare(m);
        return m;
    }

    private static CalibrationData Samples(Model m, int count, int seed)
    {
        var rng = new Random(seed);
        var shape = m.Graph.Inputs[0].Type!.StaticShape!;
        int per = shape.Aggregate(1, (a, d) => a * d);
        var data = Enumerable.Range(0, count * per).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        return CalibrationData.FromArrays([new(m.Graph.Inputs[0].Name, new Tensor(DataType.Float, [count, .. shape[1..]], data))], m);
    }

    private static float[][] Run(Model m, CalibrationData data)
    {
        var ex = new ReferenceExecutor(m);
        return Enumerable.Range(0, data.SampleCount).Select(s => ex.Run(data.Sample(s))[m.Graph.Outputs[0].Name].As<float>()).ToArray();
    }

    private static string LayerName(Model m, string weight) => m.Graph.Nodes.First(n => n.Inputs.Count > 1 && n.Inputs[1] == weight).Name;

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Removing_dead_channels_through_BatchNorm_depthwise_Mul_and_Flatten_leaves_the_output_unchanged(bool withData)
    {
        var dead = new Dictionary<string, int[]> { ["conv2"] = [1, 4], ["conv3"] = [0, 3], ["fc1"] = [2, 5] };
        var m = Cnn(1, dead);
        var names = new[] { "w2", "w3", "wf1" }.Select(w => LayerName(m, w)).ToArray();
        var data = Samples(m, 24, 7);
        var before = Run(m, data);
        var options = PruningOptions.Parse("Channels:0", $"{names[0]}:0.34;{names[1]}:0.4;{names[2]}:0.25", criterion: "L2")!;
        var report = Pruner.Prune(m, options, withData ? data : null);
        var after = Run(m, data);

        for (int s = 0; s < before.Length; s++)
            for (int k = 0; k < 3; k++)
                Assert.True(Math.Abs(before[s][k] - after[s][k]) <= 1e-5 * (1 + Math.Abs(before[s][k])), $"sample {s}, output {k}: {before[s][k]} vs {after[s][k]}");

        var g = m.Graph;
        var rows = report.Layers.ToDictionary(l => l.Layer);
        Assert.Equal((6, 4), (rows[names[0]].OutChannelsBefore, rows[names[0]].OutChannelsAfter));
        Assert.Equal((5, 3), (rows[names[1]].OutChannelsBefore, rows[names[1]].OutChannelsAfter));
        Assert.Equal((6, 4), (rows[names[1]].InChannelsBefore, rows[names[1]].InChannelsAfter));
        Assert.Equal((8, 6), (rows[names[2]].OutChannelsBefore, rows[names[2]].OutChannelsAfter));
        Assert.Equal((5, 3), (rows[names[2]].InChannelsBefore, rows[names[2]].InChannelsAfter));
        var depthwise = g.Nodes.Single(n => n.OpType == "Conv" && n.GetAttribute("group") is not null);
        Assert.Equal(4, depthwise.GetAttribute("group")!.I);
        Assert.Equal([4, 1, 3, 3], g.Initializers[depthwise.Inputs[1]].Shape);
        Assert.Equal([1, 4, 1, 1], g.Initializers[g.Nodes.Single(n => n.OpType == "Mul").Inputs[1]].Shape);
        Assert.Equal([6, 3], g.Initializers[g.Nodes.Last(n => n.OpType == "Gemm").Inputs[1]].Shape);
        Assert.Empty(report.Warnings);
        Assert.True(report.FloatWeightBytesAfter < report.FloatWeightBytesBefore);
        // The survivors are exactly the live channels: the weights of conv3 are the original ones minus the dead columns.
        Assert.Contains("first layer", rows[LayerName(m, "w1")].Note);
        Assert.Contains("last layer", rows[g.Nodes.Last(n => n.OpType == "Gemm").Name].Note);
    }

    [Fact]
    public void Channels_removed_before_a_Concat_shift_the_offsets_of_everything_after_it()
    {
        // x → convA (2→4) → Relu ┐
        // x → convB (2→3) → Relu ┴ Concat → BatchNorm (7) → depthwise (7) → conv (7→5) → Relu → GAP → Flatten → Gemm (5→3)
        // with dead channels A1 and B0, B2: removing them must not change the output.
        var rng = new Random(11);
        float[] R(int n) => Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        float[] Dead(float[] w, int channels, params int[] dead) { int per = w.Length / channels; foreach (int c in dead) Array.Clear(w, c * per, per); return w; }
        var b = new GraphBuilder();
        var x = b.Input("x", DataType.Float, 1, 2, 5, 5);
        string W(string name, float[] v, params int[] shape) => b.Initializer(name, new Tensor(DataType.Float, shape, v));
        var pad = GraphBuilder.Ints("pads", 1, 1, 1, 1);
        var a = b.Node1("Relu", b.Node("Conv", [x, W("wa", Dead(R(4 * 18), 4, 1), 4, 2, 3, 3), W("ba", Dead(R(4), 4, 1), 4)], 1, pad)[0]);
        var c = b.Node1("Relu", b.Node("Conv", [x, W("wb", Dead(R(3 * 18), 3, 0, 2), 3, 2, 3, 3), W("bb", Dead(R(3), 3, 0, 2), 3)], 1, pad)[0]);
        var cat = b.Node("Concat", [a, c], 1, GraphBuilder.Int("axis", 1))[0];
        var bn = b.Node1("BatchNormalization", cat, W("g", R(7).Select(v => 1.5f + v).ToArray(), 7), W("beta", Dead(R(7), 7, 1, 4, 6), 7),
            W("mean", Dead(R(7), 7, 1, 4, 6), 7), W("var", R(7).Select(v => 1.5f + v).ToArray(), 7));
        var dw = b.Node("Conv", [bn, W("wd", R(7 * 9), 7, 1, 3, 3)], 1, pad, GraphBuilder.Int("group", 7))[0];
        var conv = b.Node1("Relu", b.Node1("Conv", dw, W("wc", R(5 * 7), 5, 7, 1, 1), W("bc", R(5), 5)));
        var flat = b.Node("Flatten", [b.Node1("GlobalAveragePool", conv)], 1, GraphBuilder.Int("axis", 1))[0];
        b.Output(b.Node1("Gemm", flat, W("wf", R(15), 5, 3), W("bf", R(3), 3)), DataType.Float, [1, 3]);
        var m = b.Build();
        FrontEnd.Prepare(m);
        var data = Samples(m, 8, 2);
        var before = Run(m, data);
        string na = m.Graph.Nodes[0].Name, nb = m.Graph.Nodes[2].Name;
        // Exclude nothing by default-first rule: name both producers explicitly.
        var report = Pruner.Prune(m, PruningOptions.Parse("Channels:0", $"{na}:0.25;{nb}:0.67", criterion: "L1")!, data);
        var after = Run(m, data);
        Assert.Empty(report.Warnings);
        for (int s = 0; s < before.Length; s++)
            for (int k = 0; k < 3; k++)
                Assert.True(Math.Abs(before[s][k] - after[s][k]) <= 1e-5 * (1 + Math.Abs(before[s][k])), $"sample {s}, output {k}: {before[s][k]} vs {after[s][k]}");
        var g = m.Graph;
        Assert.Equal(4, g.Nodes.Single(n => n.GetAttribute("group") is not null).GetAttribute("group")!.I);
        Assert.Equal([4], g.Initializers[g.Nodes.Single(n => n.OpType == "BatchNormalization").Inputs[1]].Shape);
        Assert.Equal([5, 4, 1, 1], g.Initializers[g.Nodes.Last(n => n.OpType == "Conv").Inputs[1]].Shape);
    }

    [Fact]
    public void A_residual_Add_leaves_the_layer_unpruned_with_a_coded_warning_naming_the_Add()
    {
        var m = Cnn(2, residual: true);
        string conv2 = LayerName(m, "w2");
        var before = Run(m, Samples(m, 4, 1));
        var report = Pruner.Prune(m, PruningOptions.Parse($"Channels:0", $"{conv2}:0.5")!, null);
        var warning = Assert.Single(report.Warnings);
        Assert.Contains(EdgeCodes.LayerLeftUnpruned, warning);
        Assert.Contains(conv2, warning);
        Assert.Contains("residual", warning);
        var row = report.Layers.Single(l => l.Layer == conv2);
        Assert.Equal(row.OutChannelsBefore, row.OutChannelsAfter);
        Assert.Equal(before[0], Run(m, Samples(m, 4, 1))[0]);
    }

    [Fact]
    public void Unknown_layers_and_rates_that_remove_everything_are_coded()
    {
        var m = Cnn(3);
        Assert.Equal(EdgeCodes.UnknownPruningLayer, Assert.Throws<EdgeException>(() => Pruner.Prune(m, PruningOptions.Parse("Channels:0.3", "nope:0.5")!, null)).Code);
        Assert.Equal(EdgeCodes.UnknownPruningLayer, Assert.Throws<EdgeException>(() => Pruner.Prune(Cnn(3), PruningOptions.Parse("Channels:0.3", exclude: "nope")!, null)).Code);
        // conv3 has 5 channels: 0.95 × 5 rounds to 5.
        var m2 = Cnn(3);
        Assert.Equal(EdgeCodes.PruningRemovesEverything,
            Assert.Throws<EdgeException>(() => Pruner.Prune(m2, PruningOptions.Parse("Channels:0", $"{LayerName(m2, "w3")}:0.95")!, null)).Code);
        // A depthwise Conv is pruned with its producer, never on its own.
        var m3 = Cnn(3);
        string dw = m3.Graph.Nodes.Single(n => n.GetAttribute("group") is not null).Name;
        Assert.Equal(EdgeCodes.UnknownPruningLayer, Assert.Throws<EdgeException>(() => Pruner.Prune(m3, PruningOptions.Parse("Channels:0", $"{dw}:0.5")!, null)).Code);
    }

    // ------------------------------------------------------------------ least-squares re-fit

    /// <summary>
    /// fc1 (Gemm 6→8) → Relu → fc2 (Gemm 8→3): fc1's channels 5, 6, 7 are 0.1 × channels 0, 1, 2 (weights and bias), so
    /// after the Relu they are 0.1 × those channels, and they have the smallest L1 norms. Removing them loses their
    /// contribution, which a re-fit of fc2 can fold exactly into channels 0, 1, 2.
    /// </summary>
    private static Model Redundant()
    {
        var rng = new Random(5);
        float[] R(int n) => Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        var w1 = R(6 * 8);                       // [K=6, N=8], transB = 0
        var b1 = R(8);
        for (int c = 0; c < 5; c++) { for (int k = 0; k < 6; k++) w1[k * 8 + c] = Math.Sign(w1[k * 8 + c]) * (0.5f + Math.Abs(w1[k * 8 + c])); }
        for (int c = 5; c < 8; c++) { for (int k = 0; k < 6; k++) w1[k * 8 + c] = 0.1f * w1[k * 8 + c - 5]; b1[c] = 0.1f * b1[c - 5]; }
        var b = new GraphBuilder();
        var x = b.Input("x", DataType.Float, 1, 6);
        var h = b.Node1("Relu", b.Node1("Gemm", x, b.Initializer("w1", new Tensor(DataType.Float, [6, 8], w1)), b.Initializer("b1", new Tensor(DataType.Float, [8], b1))));
        var h2 = b.Node1("Relu", b.Node1("Gemm", h, b.Initializer("w2", new Tensor(DataType.Float, [8, 8], R(64))), b.Initializer("b2", new Tensor(DataType.Float, [8], R(8)))));
        var y = b.Node("Gemm", [h2, b.Initializer("w3", new Tensor(DataType.Float, [3, 8], R(24))), b.Initializer("b3", new Tensor(DataType.Float, [3], R(3)))], 1, GraphBuilder.Int("transB", 1))[0];
        b.Output(y, DataType.Float, [1, 3]);
        var m = b.Build();
        FrontEnd.Prepare(m);
        return m;
    }

    [Fact]
    public void The_least_squares_refit_recovers_what_removed_channels_contributed()
    {
        var m = Redundant();
        var data = Samples(m, 64, 3);
        var before = Run(m, data);
        string fc1 = m.Graph.Nodes[0].Name;
        var options = PruningOptions.Parse("Channels:0", $"{fc1}:0.375", criterion: "L1")!;

        double Error(float[][] after)
        {
            double err = 0, norm = 0;
            for (int s = 0; s < before.Length; s++)
                for (int k = 0; k < 3; k++)
                {
                    norm += before[s][k] * before[s][k];
                    err += Math.Pow(before[s][k] - after[s][k], 2);
                }
            return err / norm;
        }
        var unfitted = Redundant();
        Pruner.Prune(unfitted, options with { Refit = false }, data);
        double without = Error(Run(unfitted, data));
        // Without regularization the exact solution exists and is found (float32 storage is the only error left) ...
        var exact = Redundant();
        Pruner.Prune(exact, options with { Ridge = 1e-12 }, data);
        double unregularized = Error(Run(exact, data));
        // ... and the default ridge, which pulls toward the pruned weights, costs a little of it.
        var report = Pruner.Prune(m, options, data);
        double with = Error(Run(m, data));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"relative squared output error: without re-fit {without:E3}, re-fit (ridge 1e-12) {unregularized:E3}, re-fit (default ridge) {with:E3}"));
        Assert.True(without > 1e-3, "removing the channels without a re-fit should visibly change the output");
        Assert.True(unregularized < 1e-10, $"the unregularized re-fit should reconstruct the output exactly (relative error {unregularized:E3})");
        Assert.True(with < 1e-6, $"the default re-fit should reconstruct the output nearly exactly (relative error {with:E3})");
        var consumer = report.Layers.Single(l => l.Layer == m.Graph.Nodes[2].Name);
        Assert.True(consumer.ErrorBefore > 1e-3 && consumer.ErrorAfter < 1e-6, $"{consumer.ErrorBefore} → {consumer.ErrorAfter}");
    }

    [Fact]
    public void Pruning_is_deterministic_for_any_thread_count()
    {
        string dir = Path.Combine(TestPaths.RepoRoot, "Samples", "DigitRecognizer", "model");
        byte[][] Weights(int threads)
        {
            using var m = FrontEnd.Load(Path.Combine(dir, "digits.onnx"));
            var data = CalibrationData.Load(Path.Combine(dir, "digits_calib_x.npy"), m);
            Pruner.Prune(m, PruningOptions.Parse("Channels:0.5;Magnitude:0.3", steps: "2", criterion: "Activation")! with { MaxDegreeOfParallelism = threads }, data);
            return m.Graph.Initializers.Select(c => c.Value.As<float>().SelectMany(BitConverter.GetBytes).ToArray()).ToArray();
        }
        var one = Weights(1);
        var two = Weights(2);
        Assert.Equal(one.Length, two.Length);
        for (int i = 0; i < one.Length; i++) Assert.Equal(one[i], two[i]);
    }

    // ------------------------------------------------------------------ magnitude

    [Theory]
    [InlineData("Magnitude:0.5")]
    [InlineData("GlobalMagnitude:0.5")]
    public void Magnitude_pruning_zeroes_the_smallest_weights(string spec)
    {
        var m = Cnn(4);
        EdgeCompile.Compiler.Passes.FoldBatchNorm.Run(m);   // pruning folds BatchNorm first: compare with the folded weights
        var layers = ChannelFlowAnalysis.WeightLayers(m).Where(l => ChannelFlowAnalysis.Group(l.Node) == 1).ToList();
        var original = layers.ToDictionary(l => l.Name, l => m.Graph.Initializers[l.Node.Inputs[1]].Value.As<float>());
        var report = Pruner.Prune(m, PruningOptions.Parse(spec)!, null);
        var pruned = layers.Skip(1).SkipLast(1).ToList();   // first and last are excluded by default
        long zeros = 0, total = 0;
        var threshold = new List<float>();
        foreach (var l in pruned)
        {
            var w = m.Graph.Initializers[l.Node.Inputs[1]].Value.As<float>();
            var o = original[l.Name];
            for (int i = 0; i < w.Length; i++)
            {
                Assert.True(w[i] == 0 || w[i] == o[i]);
                if (w[i] == 0) zeros++;
            }
            total += w.Length;
            if (!spec.StartsWith("Global", StringComparison.Ordinal))
                Assert.Equal(Pruner.RemovedCount(0.5, w.Length), w.Count(v => v == 0));
            // Every zeroed weight is no larger than every kept one (per layer, or over all layers when global).
            float maxZeroed = o.Where((v, i) => w[i] == 0).Select(Math.Abs).DefaultIfEmpty(0).Max();
            float minKept = o.Where((v, i) => w[i] != 0).Select(Math.Abs).DefaultIfEmpty(float.MaxValue).Min();
            if (!spec.StartsWith("Global", StringComparison.Ordinal)) Assert.True(maxZeroed <= minKept);
        }
        Assert.Equal(Pruner.RemovedCount(0.5, (int)total), zeros);
        foreach (var l in new[] { layers[0], layers[^1] })
            Assert.Equal(original[l.Name], m.Graph.Initializers[l.Node.Inputs[1]].Value.As<float>());
        Assert.Contains(report.Layers, r => r.Sparsity > 0.4);
        Assert.Contains("dense", report.SparseStorage);
    }

    // ------------------------------------------------------------------ the whole compile

    [Fact]
    public void Pruned_digits_compile_smaller_with_a_report_and_the_accuracy_gate_covers_pruning()
    {
        string dir = Path.Combine(TestPaths.RepoRoot, "Samples", "DigitRecognizer", "model");
        string outDir = Path.Combine(Path.GetTempPath(), "edge-prune-" + Guid.NewGuid().ToString("N"));
        try
        {
            var request = new CompileRequest
            {
                ModelPath = Path.Combine(dir, "digits.onnx"), OutDir = outDir, ClassName = "Digits",
                CalibrationData = Path.Combine(dir, "digits_calib_x.npy"),
                ValidationData = Path.Combine(dir, "digits_test_x.npy"), ValidationLabels = Path.Combine(dir, "digits_test_y.npy"),
            };
            var dense = Compilation.Compile(request with { OutDir = Path.Combine(outDir, "dense") });
            var pruned = Compilation.Compile(request with { Pruning = "Channels:0.5", MaxAccuracyDrop = "1.0" });
            double ratio = (double)pruned.Model.Weights.Length / dense.Model.Weights.Length;
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"weights {dense.Model.Weights.Length} -> {pruned.Model.Weights.Length} B ({ratio:F3}x), MACs {dense.Model.Macs} -> {pruned.Model.Macs}"));
            Assert.True(ratio < 0.5, $"weight bytes {ratio:F3}x");
            Assert.True(pruned.Model.Macs < dense.Model.Macs * 0.6);
            string md = File.ReadAllText(pruned.Paths.ReportMarkdown);
            Assert.Contains("## Pruning", md);
            Assert.Contains("pruning top-1 on digits_test_x.npy", md);
            using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(pruned.Paths.ReportJson));
            var layers = json.RootElement.GetProperty("pruning").GetProperty("layers");
            Assert.Contains(layers.EnumerateArray(), l => l.GetProperty("outChannelsAfter").GetInt32() < l.GetProperty("outChannelsBefore").GetInt32());
            Assert.NotEqual(dense.InputHash, pruned.InputHash);

            // Too much pruning for the budget is EDGE4007, float or int8.
            var e = Assert.Throws<EdgeException>(() => Compilation.Compile(request with { Pruning = "Channels:0.9", MaxAccuracyDrop = "0.5", OutDir = Path.Combine(outDir, "x") }));
            Assert.Equal(EdgeCodes.AccuracyDropExceeded, e.Code);
            Assert.Contains("Pruning drops top-1", e.Message);

            // Pruning combines with static int8: the pruned model is calibrated and quantized.
            var int8 = Compilation.Compile(request with { Pruning = "Channels:0.3", Quantization = "Int8", MaxAccuracyDrop = "1.5", OutDir = Path.Combine(outDir, "int8") });
            Assert.NotNull(int8.Accuracy);
            Assert.True(int8.Model.Weights.Length < dense.Model.Weights.Length * 0.2, $"{int8.Model.Weights.Length} B");
            Assert.Contains("## Pruning", File.ReadAllText(int8.Paths.ReportMarkdown));
        }
        finally { if (Directory.Exists(outDir)) Directory.Delete(outDir, true); }
    }
}
