using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.IR;
using EdgeCompile.Compiler.Onnx;
using EdgeCompile.Compiler.Passes;
using Attribute = EdgeCompile.Compiler.IR.Attribute;
using ValueType = EdgeCompile.Compiler.IR.ValueType;

namespace EdgeCompile.Compiler.Quantization;

/// <summary>A weight (and optional bias) of a Conv/Gemm/MatMul node that quantization turns into int8 (int32).</summary>
public sealed record QuantizableWeight(Node Node, string Weight, int Axis, string? Bias);

/// <summary>
/// Produces a standard QDQ ONNX model from a float model and quantization parameters (what ONNX Runtime's
/// quantization tool writes, and runs):
/// <list type="bullet">
/// <item>each quantized activation T gets QuantizeLinear → DequantizeLinear with a scalar scale and a
/// uint8/int8 zero point. A node output is renamed <c>T_float</c> (the QuantizeLinear reads it) and the
/// DequantizeLinear writes <c>T</c>, so every reader, graph outputs included, sees the dequantized value
/// under its old name; a graph input keeps its name and its readers read <c>T_dequantized</c>;</item>
/// <item>each weight of Conv (W, axis 0), Gemm (B, axis 0 with transB, else 1) and 2-D MatMul (B, axis 1) is an
/// int8 initializer <c>W_quantized</c> with per-output-channel scales and zero points 0, dequantized by
/// DequantizeLinear(axis) into the old name <c>W</c>;</item>
/// <item>a bias (Conv B, Gemm C when 1-D with alpha = beta = 1) whose node's input is quantized becomes an
/// int32 initializer with scale sIn·sW_c per channel, dequantized the same way.</item>
/// </list>
/// The output model needs opset ≥ 13 (per-axis DequantizeLinear); it must not go through constant folding
/// (that would fold the weight DequantizeLinear nodes back to float). Lazy initializers are shared with the
/// source model, which must stay alive until the QDQ model is written.
/// </summary>
public static class QdqExporter
{
    /// <summary>The Conv/Gemm/MatMul weights that are float constant initializers (not graph inputs, not already quantized).</summary>
    public static List<QuantizableWeight> FindWeights(Model model)
    {
        var g = model.Graph;
        var inputs = new HashSet<string>(g.Inputs.Select(i => i.Name), StringComparer.Ordinal);
        bool FloatConst(string v, int rank) => v.Length > 0 && !inputs.Contains(v) && g.Initializers.TryGet(v, out var c)
            && c.DataType == DataType.Float && (rank < 0 ? c.Shape.Length >= 3 : c.Shape.Length == rank);
        var r = new List<QuantizableWeight>();
        foreach (var n in g.Nodes)
        {
            if (n.Domain.Length > 0 || n.Inputs.Count < 2) continue;
            string? bias = n.Inputs.Count > 2 && n.Inputs[2].Length > 0 ? n.Inputs[2] : null;
            switch (n.OpType)
            {
                case "Conv" when FloatConst(n.Inputs[1], -1):
                    int k = g.Initializers[n.Inputs[1]].Shape[0];
                    r.Add(new(n, n.Inputs[1], 0, bias is not null && IsVector(g, bias, k) ? bias : null));
                    break;
                case "Gemm" when FloatConst(n.Inputs[1], 2):
                    bool transB = (n.GetAttribute("transB")?.I ?? 0) != 0;
                    int axis = transB ? 0 : 1;
                    int cols = g.Initializers[n.Inputs[1]].Shape[axis];
                    bool unit = (n.GetAttribute("alpha")?.F ?? 1f) == 1f && (n.GetAttribute("beta")?.F ?? 1f) == 1f;
                    r.Add(new(n, n.Inputs[1], axis, bias is not null && unit && IsVector(g, bias, cols) ? bias : null));
                    break;
                case "MatMul" when FloatConst(n.Inputs[1], 2):
                    r.Add(new(n, n.Inputs[1], 1, null));
                    break;
            }
        }
        // A weight shared by nodes that would quantize it along different axes is left float.
        return r.GroupBy(w => w.Weight).Where(gr => gr.Select(w => w.Axis).Distinct().Count() == 1).SelectMany(gr => gr).ToList();

        static bool IsVector(Graph g, string v, int n) => g.Initializers.TryGet(v, out var c) && c.DataType == DataType.Float
            && c.Shape.Length == 1 && c.Shape[0] == n && !g.Inputs.Any(i => i.Name == v);
    }

    /// <summary>
    /// The scale of a node's activation input: ours if we quantize it, else the constant scalar scale of the
    /// DequantizeLinear that produces it in a pre-quantized model, else null.
    /// </summary>
    public static float? InputScale(Model model, string value, IReadOnlyDictionary<string, QuantParam> activations)
    {
        if (activations.TryGetValue(value, out var p)) return p.Scale;
        var producer = model.Graph.Nodes.FirstOrDefault(n => n.Outputs.Contains(value));
        if (producer is { OpType: "DequantizeLinear", Domain: "" } && model.Graph.Initializers.TryGet(producer.Inputs[1], out var s) && s.ElementCount == 1)
        {
            double v = Operators.Common.MatMulHelpers.DoubleValues(s.Value)[0];
            QuantParams.CheckScales([v], $"DequantizeLinear '{producer.DisplayName}'");
            return (float)v;
        }
        return null;
    }

    /// <summary>Per-channel parameters for every quantizable weight (biases, when their input scale is known, bound the scales).</summary>
    public static Dictionary<string, ChannelQuantParams> WeightParams(Model model, IReadOnlyDictionary<string, QuantParam> activations)
    {
        var g = model.Graph;
        var result = new Dictionary<string, ChannelQuantParams>(StringComparer.Ordinal);
        foreach (var w in FindWeights(model))
        {
            var c = g.Initializers[w.Weight];
            float[]? bias = null; float sIn = 0;
            if (w.Bias is not null && InputScale(model, w.Node.Inputs[0], activations) is { } s) { bias = g.Initializers[w.Bias].Value.As<float>(); sIn = s; }
            var p = QuantParams.PerChannel(c.Value.As<float>(), c.Shape, w.Axis, bias, sIn);
            if (result.TryGetValue(w.Weight, out var prev)) // shared weight: keep the larger scale per channel
                p = p with { Scales = p.Scales.Zip(prev.Scales, Math.Max).ToArray() };
            result[w.Weight] = p;
        }
        return result;
    }

    /// <summary>
    /// Activation parameters as the int8 plan uses them: a MaxPool output keeps its input's parameters (max commutes
    /// with quantization: no requantization), and so do Flatten/Reshape/Squeeze/Unsqueeze/Identity (the plan aliases the
    /// u8 buffer) and a Concat whose inputs all share one scale and zero point (a u8 copy). Applied in graph order, so a
    /// chain (MaxPool → Flatten) inherits the first input's parameters. Idempotent.
    /// </summary>
    public static Dictionary<string, QuantParam> PlanActivations(Model model, IReadOnlyDictionary<string, QuantParam> activations)
    {
        var r = new Dictionary<string, QuantParam>(activations, StringComparer.Ordinal);
        foreach (var n in model.Graph.Nodes)
        {
            if (n.Domain.Length > 0 || n.Outputs.Count == 0 || n.Outputs[0].Length == 0 || !r.ContainsKey(n.Outputs[0]) || n.Inputs.Count == 0) continue;
            switch (n.OpType)
            {
                case "MaxPool" when (n.Outputs.Count == 1 || n.Outputs[1].Length == 0) && r.TryGetValue(n.Inputs[0], out var p):
                    r[n.Outputs[0]] = p;
                    break;
                case "Flatten" or "Reshape" or "Squeeze" or "Unsqueeze" or "Identity" when n.Outputs.Count == 1 && r.TryGetValue(n.Inputs[0], out var p):
                    r[n.Outputs[0]] = p;
                    break;
                case "Concat" when n.Outputs.Count == 1:
                    var ins = n.Inputs.Where(i => i.Length > 0).ToList();
                    if (ins.Count > 0 && ins.All(r.ContainsKey) && ins.Select(i => r[i]).Distinct().Count() == 1) r[n.Outputs[0]] = r[ins[0]];
                    break;
            }
        }
        return r;
    }

    /// <summary>
    /// Values with no Q/DQ in the export: a Conv/Gemm/MatMul/Add/AveragePool output whose only reader is a Relu, or a Clip
    /// with constant bounds, whose output is quantized. The int8 plan fuses the activation and requantizes the accumulator
    /// once, straight into the activation's parameters (clamped), which is what float → Relu/Clip → QuantizeLinear computes
    /// (ONNX Runtime's quantization tool does the same). A graph output is always quantized.
    /// </summary>
    public static HashSet<string> FusedActivationInputs(Model model, IReadOnlyDictionary<string, QuantParam> activations)
    {
        var g = model.Graph;
        var outputs = new HashSet<string>(g.Outputs.Select(o => o.Name), StringComparer.Ordinal);
        var readers = new Dictionary<string, List<Node>>(StringComparer.Ordinal);
        foreach (var n in g.Nodes)
            foreach (var i in n.Inputs)
                if (i.Length > 0) { if (!readers.TryGetValue(i, out var l)) readers[i] = l = new(); l.Add(n); }
        var r = new HashSet<string>(StringComparer.Ordinal);
        foreach (var n in g.Nodes)
        {
            if (n.Domain.Length > 0 || n.OpType is not ("Conv" or "Gemm" or "MatMul" or "Add" or "AveragePool") || n.Outputs.Count != 1) continue;
            string t = n.Outputs[0];
            if (t.Length == 0 || outputs.Contains(t) || !readers.TryGetValue(t, out var rd) || rd.Count != 1) continue;
            var next = rd[0];
            if (next.Domain.Length > 0 || next.Outputs.Count != 1 || !activations.ContainsKey(next.Outputs[0])) continue;
            bool constantBounds = next.OpType == "Clip" && next.Inputs.Skip(1).All(b => b.Length == 0 || g.Initializers.Contains(b));
            if (next.OpType == "Relu" || constantBounds) r.Add(t);
        }
        return r;
    }

    /// <summary>
    /// A GlobalAveragePool the int8 plan runs as QPool.GlobalAveragePool (u8 in and out): the kernel rounds the integer
    /// mean first (half to even, in the input's parameters), then requantizes it into the output's, so the export
    /// writes two Q/DQ pairs. AveragePool is left with one pair: with a second pair, ONNX Runtime's float mean misses
    /// exact ties (windows of 4 or 6 taps at the borders) and a one-input-step flip becomes up to 2 output steps
    /// (measured, docs/quantization.md); with one pair the difference stays within one step.
    /// </summary>
    private static bool IsInt8GlobalAveragePool(Graph g, Node n, IReadOnlyDictionary<string, QuantParam> activations)
    {
        if (n.Domain.Length > 0 || n.OpType != "GlobalAveragePool" || n.Outputs.Count != 1 || n.Inputs.Count != 1) return false;
        if (!activations.TryGetValue(n.Inputs[0], out var pin) || pin.Type != DataType.UInt8) return false;
        if (!activations.TryGetValue(n.Outputs[0], out var pout) || pout.Type != DataType.UInt8) return false;
        // Shapes may not be inferred yet (the plan folds them first): an unknown spatial size counts as small enough.
        if (g.TypeOf(n.Inputs[0])?.Shape is not { } shape) return true;
        if (shape.Length < 3) return false;
        long spatial = 1;
        foreach (var d in shape.Skip(2)) { if (d.Value <= 0) return true; spatial *= d.Value; }
        return spatial <= EdgeCompile.Kernels.QPool.MaxWindow;
    }

    /// <summary>
    /// Builds the QDQ model (a new <see cref="Model"/>; the source is not modified). It describes the int8 plan's
    /// arithmetic: parameters from <see cref="PlanActivations"/>, no Q/DQ before a fused Relu/Clip
    /// (<see cref="FusedActivationInputs"/>), and an int8 GlobalAveragePool's two roundings as two Q/DQ pairs (the input's
    /// parameters, then the output's).
    /// </summary>
    public static Model Export(Model model, IReadOnlyDictionary<string, QuantParam> activations, IReadOnlyDictionary<string, ChannelQuantParams> weights)
    {
        activations = PlanActivations(model, activations);
        var fusedInputs = FusedActivationInputs(model, activations);
        if (model.OpsetFor("") < 13 && (weights.Count > 0 || activations.Count > 0))
            throw new EdgeException(EdgeCodes.InvalidQuantizationOption,
                $"Quantized export needs ai.onnx opset 13 or newer (per-channel DequantizeLinear); the model uses opset {model.OpsetFor("")}. Re-export the model with opset ≥ 13.", model.SourcePath);
        var src = model.Graph;
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var i in src.Inputs) names.Add(i.Name);
        foreach (var c in src.Initializers) names.Add(c.Name);
        foreach (var n in src.Nodes) { names.Add(n.Name); foreach (var o in n.Outputs) names.Add(o); }
        string Fresh(string wanted)
        {
            string s = wanted;
            for (int k = 1; !names.Add(s); k++) s = $"{wanted}_{k}";
            return s;
        }

        var g = new Graph
        {
            Name = src.Name, DocString = src.DocString,
            Inputs = src.Inputs.ToList(), Outputs = src.Outputs.ToList(),
            ValueTypes = new Dictionary<string, ValueType>(src.ValueTypes, StringComparer.Ordinal),
            QuantizationAnnotations = src.QuantizationAnnotations.ToList(), Metadata = src.Metadata.ToList(),
        };
        foreach (var c in src.Initializers) g.Initializers.Add(c);

        var nodes = new List<Node>();
        var inputRename = new Dictionary<string, string>(StringComparer.Ordinal);
        var producedQuantized = new HashSet<string>(StringComparer.Ordinal);
        foreach (var n in src.Nodes) foreach (var o in n.Outputs) if (o.Length > 0 && activations.ContainsKey(o) && !fusedInputs.Contains(o)) producedQuantized.Add(o);

        (string Scale, string Zero) ActivationParams(string t, QuantParam p)
        {
            string scale = Fresh(t + "_scale"), zero = Fresh(t + "_zero_point");
            g.Initializers.Add(new Constant(scale, Tensor.Scalar(p.Scale)));
            g.Initializers.Add(new Constant(zero, p.Type == DataType.UInt8 ? Tensor.Scalar((byte)p.ZeroPoint) : Tensor.Scalar((sbyte)p.ZeroPoint)));
            return (scale, zero);
        }
        void AddQdq(string from, string to, string t, QuantParam p)
        {
            var (scale, zero) = ActivationParams(t, p);
            string q = Fresh(t + "_quantized");
            nodes.Add(new Node { Name = Fresh(t + "_QuantizeLinear"), OpType = "QuantizeLinear", Inputs = [from, scale, zero], Outputs = [q] });
            nodes.Add(new Node { Name = Fresh(t + "_DequantizeLinear"), OpType = "DequantizeLinear", Inputs = [q, scale, zero], Outputs = [to] });
            var type = src.TypeOf(t);
            if (type?.Shape is not null)
            {
                g.ValueTypes[q] = type with { ElemType = p.Type };
                g.ValueTypes[from] = type;
                g.ValueTypes[to] = type;
            }
        }

        // Graph inputs: Q/DQ first, readers renamed.
        foreach (var input in src.Inputs)
            if (activations.TryGetValue(input.Name, out var p) && !src.Initializers.Contains(input.Name))
            {
                string dq = Fresh(input.Name + "_dequantized");
                AddQdq(input.Name, dq, input.Name, p);
                inputRename[input.Name] = dq;
            }

        // Weights and biases: int8 / int32 initializers with per-channel DequantizeLinear, at the top of the graph.
        var emitted = new HashSet<string>(StringComparer.Ordinal);
        foreach (var w in FindWeights(model).Where(w => weights.ContainsKey(w.Weight)))
        {
            var wp = weights[w.Weight];
            if (emitted.Add(w.Weight)) EmitWeight(w.Weight, wp);
            if (w.Bias is not null && !emitted.Contains(w.Bias) && InputScale(model, w.Node.Inputs[0], activations) is { } sIn)
            {
                EmitBias(w.Bias, sIn, wp);
                emitted.Add(w.Bias);
            }
        }
        foreach (var n in src.Nodes)
        {
            bool avgPool = IsInt8GlobalAveragePool(src, n, activations);
            var copy = new Node
            {
                Name = n.Name, OpType = n.OpType, Domain = n.Domain, DocString = n.DocString,
                Inputs = n.Inputs.Select(i => inputRename.GetValueOrDefault(i, i)).ToList(),
                Outputs = n.Outputs.Select(o => o.Length > 0 && (producedQuantized.Contains(o) || avgPool) ? Fresh(o + "_float") : o).ToList(),
                Attributes = n.Attributes.ToList(),
            };
            nodes.Add(copy);
            for (int i = 0; i < n.Outputs.Count; i++)
            {
                string o = n.Outputs[i], from = copy.Outputs[i];
                if (o.Length == 0) continue;
                if (avgPool)
                {
                    // First rounding: the integer mean, in the input's parameters.
                    string mean = producedQuantized.Contains(o) ? Fresh(o + "_mean") : o;
                    AddQdq(from, mean, o, activations[n.Inputs[0]]);
                    from = mean;
                }
                if (producedQuantized.Contains(o)) AddQdq(from, o, o, activations[o]);
            }
        }
        g.Nodes.AddRange(nodes);

        var result = new Model
        {
            Graph = g, IrVersion = Math.Max(model.IrVersion, 7), ProducerName = "EdgeCompile", ProducerVersion = model.ProducerVersion,
            Domain = model.Domain, ModelVersion = model.ModelVersion, DocString = model.DocString, SourcePath = model.SourcePath,
        };
        foreach (var (d, v) in model.Opsets) result.Opsets[d] = v;
        foreach (var kv in model.Metadata) result.Metadata.Add(kv);
        GraphValidator.Validate(g);
        return result;

        void EmitWeight(string name, ChannelQuantParams wp)
        {
            var c = src.Initializers[name];
            var q = QuantParams.QuantizeWeights(c.Value.As<float>(), c.Shape, wp);
            g.Initializers.Remove(name);
            names.Remove(name);
            string qn = Fresh(name + "_quantized"), sn = Fresh(name + "_scale"), zn = Fresh(name + "_zero_point");
            g.Initializers.Add(new Constant(qn, new Tensor(DataType.Int8, c.Shape, q)));
            g.Initializers.Add(new Constant(sn, Tensor.FromArray(wp.Scales, wp.Scales.Length)));
            g.Initializers.Add(new Constant(zn, Tensor.FromArray(new sbyte[wp.Scales.Length], wp.Scales.Length)));
            nodes.Add(DqNode(Fresh(name + "_DequantizeLinear"), qn, sn, zn, name, wp.Axis));
            names.Add(name);
        }

        void EmitBias(string name, float sIn, ChannelQuantParams wp)
        {
            var c = src.Initializers[name];
            var q = QuantParams.QuantizeBias(c.Value.As<float>(), sIn, wp);
            var scales = wp.Scales.Select(s => QuantParams.BiasScale(sIn, s)).ToArray();
            g.Initializers.Remove(name);
            names.Remove(name);
            string qn = Fresh(name + "_quantized"), sn = Fresh(name + "_scale"), zn = Fresh(name + "_zero_point");
            g.Initializers.Add(new Constant(qn, new Tensor(DataType.Int32, c.Shape, q)));
            g.Initializers.Add(new Constant(sn, Tensor.FromArray(scales, scales.Length)));
            g.Initializers.Add(new Constant(zn, Tensor.FromArray(new int[scales.Length], scales.Length)));
            nodes.Add(DqNode(Fresh(name + "_DequantizeLinear"), qn, sn, zn, name, 0));
            names.Add(name);
        }

        static Node DqNode(string nodeName, string q, string s, string z, string output, int axis) => new()
        {
            Name = nodeName, OpType = "DequantizeLinear", Inputs = [q, s, z], Outputs = [output],
            Attributes = [new Attribute { Name = "axis", Kind = AttributeKind.Int, I = axis }],
        };
    }

    /// <summary>Writes the QDQ model as a self-contained <c>.onnx</c> file (atomically).</summary>
    public static void WriteFile(Model qdqModel, string path)
    {
        try { OnnxWriter.WriteFile(qdqModel, path); }
        catch (IOException e) { throw new EdgeException(EdgeCodes.OutputNotWritable, $"Cannot write the quantized model '{path}': {e.Message}", path, inner: e); }
        catch (UnauthorizedAccessException e) { throw new EdgeException(EdgeCodes.OutputNotWritable, $"Cannot write the quantized model '{path}': {e.Message}", path, inner: e); }
    }
}
