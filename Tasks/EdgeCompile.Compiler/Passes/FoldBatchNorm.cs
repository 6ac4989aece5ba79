using EdgeCompile.Compiler.IR;

namespace EdgeCompile.Compiler.Passes;

/// <summary>
/// Folds an inference-mode BatchNormalization into the Conv (or Gemm with transB... not yet) that feeds it:
/// y = s·(conv(x, W) + B − mean) + β with s = γ / √(var + ε) equals conv(x, s·W) + s·(B − mean) + β,
/// per output channel. Applies when the Conv's only reader is the BatchNormalization, all parameters are
/// constants and the BatchNormalization has a single output. Computed in double, stored as float32.
/// </summary>
public static class FoldBatchNorm
{
    public static int Run(Model model)
    {
        var g = model.Graph;
        var readers = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var n in g.Nodes) foreach (var r in GraphValidator.NodeReads(n)) readers[r] = readers.GetValueOrDefault(r) + 1;
        foreach (var o in g.Outputs) readers[o.Name] = readers.GetValueOrDefault(o.Name) + 1;
        var inputs = new HashSet<string>(g.Inputs.Select(i => i.Name), StringComparer.Ordinal);
        Tensor? Const(string v) => v.Length > 0 && !inputs.Contains(v) && g.Initializers.TryGet(v, out var c) && c.DataType == DataType.Float ? c.Value : null;

        int folded = 0;
        var producers = g.Nodes.SelectMany(n => n.Outputs.Select(o => (o, n))).Where(p => p.o.Length > 0).ToDictionary(p => p.o, p => p.n, StringComparer.Ordinal);
        foreach (var bn in g.Nodes.Where(n => n.OpType == "BatchNormalization" && n.Domain.Length == 0).ToList())
        {
            if (bn.Outputs.Count(o => o.Length > 0) != 1 || bn.Inputs.Count < 5) continue;
            if (bn.GetAttribute("training_mode")?.I == 1) continue;
            if (!producers.TryGetValue(bn.Inputs[0], out var conv) || conv.OpType != "Conv" || conv.Domain.Length > 0) continue;
            if (readers.GetValueOrDefault(bn.Inputs[0]) != 1) continue;
            var w = Const(conv.Inputs[1]);
            var b = conv.Inputs.Count > 2 ? Const(conv.Inputs[2]) : null;
            if (w is null || (conv.Inputs.Count > 2 && conv.Inputs[2].Length > 0 && b is null)) continue;
            var gamma = Const(bn.Inputs[1]); var beta = Const(bn.Inputs[2]); var mean = Const(bn.Inputs[3]); var variance = Const(bn.Inputs[4]);
            if (gamma is null || beta is null || mean is null || variance is null) continue;
            int k = w.Shape[0];
            if (gamma.Length != k || beta.Length != k || mean.Length != k || variance.Length != k) continue;
            double eps = bn.GetAttribute("epsilon")?.F ?? 1e-5f;

            var wv = w.As<float>(); var gv = gamma.As<float>(); var bv = beta.As<float>(); var mv = mean.As<float>(); var vv = variance.As<float>();
            var bias0 = b?.As<float>();
            int per = w.Length / k;
            var w2 = new float[w.Length];
            var b2 = new float[k];
            for (int c = 0; c < k; c++)
            {
                double s = gv[c] / Math.Sqrt(vv[c] + eps);
                for (int i = 0; i < per; i++) w2[c * per + i] = (float)(wv[c * per + i] * s);
                b2[c] = (float)(((bias0?[c] ?? 0) - mv[c]) * s + bv[c]);
            }
            string wName = Fresh(g, conv.Inputs[1] + "_bnfolded");
            string bName = Fresh(g, (conv.Inputs.Count > 2 && conv.Inputs[2].Length > 0 ? conv.Inputs[2] : conv.DisplayName + "_bias") + "_bnfolded");
            g.Initializers.Add(new Constant(wName, new Tensor(DataType.Float, w.Shape, w2)));
            g.Initializers.Add(new Constant(bName, new Tensor(DataType.Float, [k], b2)));
            conv.Inputs[1] = wName;
            while (conv.Inputs.Count < 3) conv.Inputs.Add("");
            conv.Inputs[2] = bName;
            g.ValueTypes.Remove(conv.Outputs[0]);
            conv.Outputs[0] = bn.Outputs[0];
            g.Nodes.Remove(bn);
            folded++;
        }
        if (folded > 0) RemoveDeadCode.Run(model);
        return folded;
    }

    private static string Fresh(Graph g, string name)
    {
        string n = name;
        for (int i = 1; g.Initializers.Contains(n) || g.ValueTypes.ContainsKey(n); i++) n = name + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return n;
    }
}
