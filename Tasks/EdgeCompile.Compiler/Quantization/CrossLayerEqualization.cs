using EdgeCompile.Compiler.IR;

namespace EdgeCompile.Compiler.Quantization;

/// <summary>One equalized pair: the first layer, the second, and the spread of the first layer's per-channel weight ranges
/// (largest / smallest non-zero max |w| over output channels) before and after.</summary>
public sealed record EqualizedPair(string First, string Second, int Channels, double SpreadBefore, double SpreadAfter);

/// <summary>
/// Cross-layer equalization (Nagel et al., "Data-Free Quantization", 2019) before calibration: for a layer A whose output
/// channel i feeds input channel i of a layer B only through positively homogeneous per-channel ops (f(x/s) = f(x)/s for
/// s &gt; 0: Relu, LeakyRelu, MaxPool, AveragePool, or nothing), A's output channel i (weights and bias) is divided by s_i and
/// B's input channel i multiplied by s_i, with s_i = sqrt(r1_i · r2_i) / r2_i, r1_i = max |A's weights of output channel i|,
/// r2_i = max |B's weights reading input channel i|. Both then have range sqrt(r1_i · r2_i) on channel i. The float model
/// computes the same function (up to float32 rounding); the per-channel weight ranges, and so the spread of the
/// intermediate activation's channels that a per-tensor activation scale must cover, become even.
/// <para>A: Conv (any group) or Gemm (transA 0) with a constant float weight (and constant 1-D bias, if any) no other node
/// reads. B: Conv with group 1 or depthwise (group = input channels), or Gemm (transA 0), constant weight read by it alone.
/// Relu6/Clip are not homogeneous (the clip bound does not scale): pairs through them are skipped, as are values that are
/// graph outputs or read by more than one node. Pairs are swept in graph order until the scales settle (chains A→B→C).</para>
/// </summary>
public static class CrossLayerEqualization
{
    private sealed record Pair(Node A, int AxisA, Node B, bool BDepthwise, int AxisB, int Channels);

    /// <summary>Equalizes <paramref name="model"/> in place (constants are replaced, never mutated) and lists the pairs.</summary>
    public static List<EqualizedPair> Run(Model model, int maxSweeps = 20, double tolerance = 1e-4)
    {
        var g = model.Graph;
        var pairs = FindPairs(model);
        var before = pairs.ToDictionary(p => p.A, p => Spread(Ranges(Weight(g, p.A), p.AxisA, p.Channels)));
        for (int sweep = 0; sweep < maxSweeps; sweep++)
        {
            double largest = 0;
            foreach (var p in pairs) largest = Math.Max(largest, Equalize(g, p));
            if (largest < tolerance) break;
        }
        return pairs.Select(p => new EqualizedPair(p.A.DisplayName, p.B.DisplayName, p.Channels, before[p.A], Spread(Ranges(Weight(g, p.A), p.AxisA, p.Channels)))).ToList();
    }

    /// <summary>Largest / smallest non-zero value (1 when there is at most one).</summary>
    public static double Spread(double[] ranges)
    {
        var nz = ranges.Where(r => r > 0).ToList();
        return nz.Count == 0 ? 1 : nz.Max() / nz.Min();
    }

    /// <summary>max |w| per index along <paramref name="axis"/> (channels = shape[axis]).</summary>
    public static double[] Ranges(Tensor w, int axis, int channels)
    {
        var v = w.As<float>();
        int inner = (int)Shapes.Product(w.Shape.AsSpan(axis + 1));
        var r = new double[channels];
        for (int i = 0; i < v.Length; i++)
        {
            int c = i / inner % channels;
            r[c] = Math.Max(r[c], Math.Abs((double)v[i]));
        }
        return r;
    }

    private static Tensor Weight(Graph g, Node n) => g.Initializers[n.Inputs[1]].Value;

    /// <summary>One equalization step on a pair; returns max |log s_i| (0 when already equal).</summary>
    private static double Equalize(Graph g, Pair p)
    {
        var wa = Weight(g, p.A);
        var wb = Weight(g, p.B);
        var r1 = Ranges(wa, p.AxisA, p.Channels);
        var r2 = p.BDepthwise ? Ranges(wb, 0, p.Channels) : Ranges(wb, p.AxisB, p.Channels);
        var s = new double[p.Channels];
        double largest = 0;
        for (int i = 0; i < p.Channels; i++)
        {
            s[i] = r1[i] > 0 && r2[i] > 0 && double.IsFinite(r1[i] * r2[i]) ? Math.Sqrt(r1[i] * r2[i]) / r2[i] : 1;
            if (!(s[i] > 0) || !double.IsFinite(s[i])) s[i] = 1;
            largest = Math.Max(largest, Math.Abs(Math.Log(s[i])));
        }
        if (largest == 0) return 0;
        g.Initializers.Set(new Constant(p.A.Inputs[1], Scale(wa, p.AxisA, p.Channels, s, invert: true)));
        if (p.A.Inputs.Count > 2 && p.A.Inputs[2].Length > 0)
            g.Initializers.Set(new Constant(p.A.Inputs[2], Scale(g.Initializers[p.A.Inputs[2]].Value, 0, p.Channels, s, invert: true)));
        g.Initializers.Set(new Constant(p.B.Inputs[1], Scale(wb, p.BDepthwise ? 0 : p.AxisB, p.Channels, s, invert: false)));
        return largest;
    }

    /// <summary>A copy of <paramref name="t"/> with index c along <paramref name="axis"/> multiplied by s_c (or divided).</summary>
    private static Tensor Scale(Tensor t, int axis, int channels, double[] s, bool invert)
    {
        var v = t.As<float>();
        var r = new float[v.Length];
        int inner = (int)Shapes.Product(t.Shape.AsSpan(axis + 1));
        for (int i = 0; i < v.Length; i++)
        {
            double k = s[i / inner % channels];
            r[i] = (float)(invert ? v[i] / k : v[i] * k);
        }
        return Tensor.FromArray(r, t.Shape);
    }

    private static List<Pair> FindPairs(Model model)
    {
        var g = model.Graph;
        var readers = new Dictionary<string, List<Node>>(StringComparer.Ordinal);
        foreach (var n in g.Nodes)
            foreach (var i in n.Inputs.Where(i => i.Length > 0).Distinct())
                (readers.TryGetValue(i, out var l) ? l : readers[i] = []).Add(n);
        var outputs = g.Outputs.Select(o => o.Name).ToHashSet(StringComparer.Ordinal);
        var inputs = g.Inputs.Select(i => i.Name).ToHashSet(StringComparer.Ordinal);
        bool OwnConst(string v, Node n, int rank) => v.Length > 0 && !inputs.Contains(v) && g.Initializers.TryGet(v, out var c)
            && c.DataType == DataType.Float && (rank < 0 || c.Shape.Length == rank) && readers.TryGetValue(v, out var r) && r.Count == 1 && r[0] == n;
        Node? Sole(string v) => !outputs.Contains(v) && readers.TryGetValue(v, out var r) && r.Count == 1 ? r[0] : null;
        long Int(Node n, string a, long d) => n.GetAttribute(a)?.I ?? d;

        var pairs = new List<Pair>();
        foreach (var a in g.Nodes)
        {
            if (a.Domain.Length > 0 || a.Outputs.Count != 1 || a.Inputs.Count < 2) continue;
            int axisA, channels;
            if (a.OpType == "Conv" && OwnConst(a.Inputs[1], a, -1) && g.Initializers[a.Inputs[1]].Shape.Length >= 3)
            { axisA = 0; channels = g.Initializers[a.Inputs[1]].Shape[0]; }
            else if (a.OpType == "Gemm" && OwnConst(a.Inputs[1], a, 2) && Int(a, "transA", 0) == 0)
            { axisA = Int(a, "transB", 0) != 0 ? 0 : 1; channels = g.Initializers[a.Inputs[1]].Shape[axisA]; }
            else continue;
            if (a.Inputs.Count > 2 && a.Inputs[2].Length > 0 && !(OwnConst(a.Inputs[2], a, 1) && g.Initializers[a.Inputs[2]].Shape[0] == channels)) continue;
            if (a.OpType == "Gemm" && (a.GetAttribute("alpha")?.F ?? 1f) <= 0) continue;
            // Through positively homogeneous per-channel ops, each read only by the next.
            string v = a.Outputs[0];
            Node? b = Sole(v);
            while (b is { Domain: "", OpType: "Relu" or "LeakyRelu" or "MaxPool" or "AveragePool" } && b.Outputs.Count == 1
                   && (a.OpType == "Conv" || b.OpType is "Relu" or "LeakyRelu"))
            {
                v = b.Outputs[0];
                b = Sole(v);
            }
            if (b is null || b.Domain.Length > 0 || b.Inputs.Count < 2 || b.Inputs[0] != v) continue;
            if (b.OpType == "Conv" && a.OpType == "Conv" && OwnConst(b.Inputs[1], b, -1))
            {
                var ws = g.Initializers[b.Inputs[1]].Shape;
                long group = Int(b, "group", 1);
                if (group == 1 && ws[1] == channels) pairs.Add(new Pair(a, axisA, b, false, 1, channels));
                else if (group == channels && ws[1] == 1 && ws[0] == channels) pairs.Add(new Pair(a, axisA, b, true, 0, channels));
            }
            else if (b.OpType == "Gemm" && a.OpType == "Gemm" && OwnConst(b.Inputs[1], b, 2) && Int(b, "transA", 0) == 0)
            {
                int axisB = Int(b, "transB", 0) != 0 ? 1 : 0;
                if (g.Initializers[b.Inputs[1]].Shape[axisB] == channels) pairs.Add(new Pair(a, axisA, b, false, axisB, channels));
            }
        }
        return pairs;
    }
}
