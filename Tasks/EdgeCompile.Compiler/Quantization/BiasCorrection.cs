using EdgeCompile.Compiler.IR;
using EdgeCompile.Compiler.Reference;

namespace EdgeCompile.Compiler.Quantization;

/// <summary>A corrected bias: the layer (display name), its bias initializer, the corrected values, and the mean |change|.</summary>
public sealed record BiasCorrectionEntry(string Node, string Bias, float[] Corrected, double MeanAbsChange);

/// <summary>
/// Empirical bias correction (Nagel et al. 2019, §4.2, "empirical" variant): quantizing a layer's weights to W_q changes its
/// output by (W − W_q)·x, whose mean per output channel is not zero in general (a biased error that the following layers
/// amplify). For every Conv/Gemm with a constant 1-D bias and per-channel int8 weights, this computes
/// E[(W − deq(W_q))·x] per output channel over the calibration set — x is the layer's input in the float model, the same
/// layer with weight ΔW = W − deq(W_q) and no bias run by the reference executor — and adds it to the bias, so the
/// quantized-weight layer's per-channel output mean equals the float layer's on that data.
/// <para>The float model is not changed: the corrections are returned (<see cref="QuantizationResult.BiasCorrections"/>)
/// and applied by <see cref="Apply"/> to the copy that is lowered to int8 kernels (and to the QDQ export), never to layers
/// that stay float32. Deterministic: per-sample sums are reduced in sample order.</para>
/// </summary>
public static class BiasCorrection
{
    private const string Prefix = "__edge_bias_correction_";

    /// <summary>The corrections for <paramref name="model"/> with weight parameters <paramref name="weights"/>, from up to
    /// <paramref name="maxSamples"/> calibration samples (the first ones).</summary>
    public static List<BiasCorrectionEntry> Compute(Model model, CalibrationData data, IReadOnlyDictionary<string, ChannelQuantParams> weights, int maxSamples = 256, int maxDegreeOfParallelism = -1)
    {
        var g = model.Graph;
        var readers = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var node in g.Nodes) foreach (var i in node.Inputs.Where(i => i.Length > 0).Distinct()) readers[i] = readers.GetValueOrDefault(i) + 1;
        var layers = QdqExporter.FindWeights(model)
            .Where(w => w.Bias is not null && w.Node.OpType is "Conv" or "Gemm" && weights.ContainsKey(w.Weight)
                && readers.GetValueOrDefault(w.Bias) == 1 && !g.Initializers.Contains(w.Node.Inputs[0])
                && (w.Node.OpType == "Conv" || (w.Node.GetAttribute("transA")?.I ?? 0) == 0))
            .ToList();
        if (layers.Count == 0 || data.SampleCount == 0) return [];

        // The float model plus, per layer, the same op with weight ΔW and no bias, its output a graph output.
        var probe = Pruning.Pruner.Snapshot(model);
        var pg = probe.Graph;
        var names = new List<string>();
        for (int k = 0; k < layers.Count; k++)
        {
            var l = layers[k];
            var c = g.Initializers[l.Weight];
            var w = c.Value.As<float>();
            var p = weights[l.Weight];
            var q = QuantParams.QuantizeWeights(w, c.Shape, p);
            int channels = c.Shape[p.Axis], inner = (int)Shapes.Product(c.Shape.AsSpan(p.Axis + 1));
            var dw = new float[w.Length];
            for (int i = 0; i < w.Length; i++) dw[i] = (float)(w[i] - (double)q[i] * p.Scales[i / inner % channels]);
            string dwName = Prefix + "dw_" + k, outName = Prefix + k;
            pg.Initializers.Add(new Constant(dwName, Tensor.FromArray(dw, c.Shape)));
            pg.Nodes.Add(new Node
            {
                Name = outName, OpType = l.Node.OpType, Inputs = [l.Node.Inputs[0], dwName], Outputs = [outName],
                Attributes = l.Node.Attributes.Where(a => a.Name is not ("beta")).ToList(),
            });
            pg.Outputs.Add(new ValueInfo(outName, null));
            names.Add(outName);
        }
        Passes.InferShapes.Run(probe);
        var exec = new ReferenceExecutor(probe);
        int n = Math.Min(data.SampleCount, Math.Max(1, maxSamples));
        var perSample = new double[n][][];
        var counts = new long[layers.Count];
        Parallel.For(0, n, new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism }, s =>
        {
            var outs = exec.Run(data.Sample(s));
            var sums = new double[layers.Count][];
            for (int k = 0; k < layers.Count; k++)
            {
                var t = outs[names[k]];
                var v = t.As<float>();
                // Conv [N, K, spatial...]: channel axis 1. Gemm [M, N]: channel is the last axis (= axis 1).
                int channels = t.Shape[1];
                int inner = (int)Shapes.Product(t.Shape.AsSpan(2));
                var sum = new double[channels];
                for (int i = 0; i < v.Length; i++) sum[i / inner % channels] += v[i];
                sums[k] = sum;
                if (s == 0) counts[k] = v.Length / channels;
            }
            perSample[s] = sums;
        });
        var result = new List<BiasCorrectionEntry>();
        for (int k = 0; k < layers.Count; k++)
        {
            var b = g.Initializers[layers[k].Bias!].Value.As<float>();
            var mean = new double[b.Length];
            for (int s = 0; s < n; s++)
                for (int c = 0; c < b.Length; c++) mean[c] += perSample[s][k][c];
            var corrected = new float[b.Length];
            double change = 0;
            for (int c = 0; c < b.Length; c++)
            {
                double m = mean[c] / ((double)counts[k] * n);
                corrected[c] = double.IsFinite(m) ? (float)(b[c] + m) : b[c];
                change += Math.Abs((double)corrected[c] - b[c]);
            }
            result.Add(new BiasCorrectionEntry(layers[k].Node.DisplayName, layers[k].Bias!, corrected, change / Math.Max(1, b.Length)));
        }
        return result;
    }

    /// <summary>Replaces the biases of <paramref name="model"/> (a copy being lowered) with the corrected ones, except those of
    /// layers in <paramref name="keepFloat"/> (node or output names: they run float32 and keep the float bias). Returns the model.</summary>
    public static Model Apply(Model model, IReadOnlyList<BiasCorrectionEntry> corrections, IReadOnlySet<string>? keepFloat = null)
    {
        var g = model.Graph;
        foreach (var e in corrections)
        {
            var node = g.Nodes.FirstOrDefault(n => n.DisplayName == e.Node);
            if (node is null || node.Inputs.Count < 3 || node.Inputs[2] != e.Bias || !g.Initializers.TryGet(e.Bias, out var old)) continue;
            if (keepFloat is not null && (keepFloat.Contains(node.Name) || keepFloat.Contains(node.DisplayName) || node.Outputs.Any(keepFloat.Contains))) continue;
            g.Initializers.Set(new Constant(e.Bias, Tensor.FromArray((float[])e.Corrected.Clone(), old.Shape)));
        }
        return model;
    }
}
