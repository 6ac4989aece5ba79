using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.IR;
using EdgeCompile.Compiler.Quantization;
using EdgeCompile.Kernels;
using static EdgeCompile.Compiler.Lowering.LoweringContext;

namespace EdgeCompile.Compiler.Lowering.Int8;

/// <summary>A float32 value an int8-weight layer writes (call <paramref name="CallIndex"/>), compared with the float reference at build time.</summary>
public sealed record FloatProbe(int CallIndex, string Value, string Node, string OpType);

/// <summary>
/// The two calibration-free modes, lowered from a model run through <see cref="PostTrainingQuantizer"/> (weights only):
/// <list type="bullet">
/// <item><c>Int8Dynamic</c>: MatMul with a 2-D constant B (fusing a following bias Add, as the float lowering does) and Gemm
/// (transA = 0, alpha = 1, beta = 1, C absent or one value per output column) → <c>QLinear.QuantizeRowsDynamic</c> (u8, one
/// scale and zero point per row of A, measured at run time) + <c>QGemm.RunDequantized</c> (int8 weights packed <c>n8k4</c>
/// at build time, float32 result with the per-channel weight scale and the float bias). Conv and everything else stays float32.</item>
/// <item><c>Int8WeightOnly</c>: Conv, Gemm and MatMul weights are stored int8 per output channel with float32 scales;
/// <c>QLinear.DequantizeChannels</c> rebuilds the float32 weight into arena scratch right before the layer's float kernel,
/// which is unchanged. Activations are float32 throughout.</item>
/// </list>
/// Weights are quantized exactly as the QDQ export describes them (<see cref="QuantParams.QuantizeWeights"/>).
/// </summary>
public static class Int8WeightLowerer
{
    public const string DynamicPrecision = "int8 dynamic";
    public const string WeightOnlyPrecision = "int8 weights";

    /// <summary>Lowers the model; <see cref="Int8Lowering.FloatNodes"/> lists the Conv/Gemm/MatMul nodes with a float constant weight left float.</summary>
    public static Int8Lowering Lower(Model model, QuantizationResult quantization, QuantizationMode mode, string className, string @namespace,
        QWeightLayout layout = QWeightLayout.N8K4Sums)
    {
        if (mode is not (QuantizationMode.Int8Dynamic or QuantizationMode.Int8WeightOnly))
            throw new ArgumentOutOfRangeException(nameof(mode), mode, "Int8WeightLowerer lowers Int8Dynamic and Int8WeightOnly.");
        Passes.FoldStaticShapes.Run(model);
        Passes.FoldBatchNorm.Run(model);
        Passes.RemoveDeadCode.Run(model);
        var s = new State(new LoweringContext(model), quantization, layout);
        var g = model.Graph;
        var layers = new List<LayerReport>();
        var floatNodes = new List<string>();
        long macsTotal = 0;
        foreach (var n in g.Nodes.ToList())
        {
            if (s.Ctx.Fused.Contains(n)) continue;
            int before = s.Ctx.Calls.Count;
            bool quantized;
            try { quantized = mode == QuantizationMode.Int8Dynamic ? s.TryDynamic(n) : s.TryWeightOnly(n); }
            catch (EdgeException e) { throw e.WithNode(n.DisplayName, n.OpType); }
            if (!quantized)
            {
                if (n.Domain.Length > 0 || Lowerer.FloatLowering(n.OpType) is not { } lowering)
                    throw s.Ctx.Unsupported(n, "is not lowered");
                try { lowering.Lower(s.Ctx, n); }
                catch (EdgeException e) { throw e.WithNode(n.DisplayName, n.OpType); }
                // A layer with a float constant weight that stayed float (activation × activation MatMuls have no weight to quantize).
                if (n.OpType is "Conv" or "Gemm" or "MatMul" && n.Inputs.Count > 1 && s.Ctx.Constant(n.Inputs[1]) is { DataType: DataType.Float })
                    floatNodes.Add(n.DisplayName);
            }
            else s.ProbeLast(n);
            long macs = Lowerer.Macs(s.Ctx, n);
            macsTotal += macs;
            long parameters = n.Inputs.Where(i => i.Length > 0 && s.Ctx.Constant(i) is not null && n.OpType is "Conv" or "Gemm" or "MatMul").Sum(i => (long)s.Ctx.Constant(i)!.Length);
            string precision = !quantized ? "float32" : mode == QuantizationMode.Int8Dynamic ? DynamicPrecision : WeightOnlyPrecision;
            layers.Add(Lowerer.Layer(s.Ctx, n, before, parameters, macs, precision));
        }
        var compiled = Lowerer.Assemble(model, s.Ctx, className, @namespace, layers, macsTotal,
            c => s.ParameterCounts.TryGetValue(c.Name, out var p) ? p : c.ElementCount);
        return new Int8Lowering
        {
            Compiled = compiled, Probes = [], FloatProbes = s.FloatProbes, FloatNodes = floatNodes,
            FloatWeightBytes = s.FloatBytes, QuantizedWeightBytes = s.QuantizedBytes,
        };
    }

    /// <summary>
    /// One layer in <c>Int8WeightOnly</c> inside another lowering (Quantization=Auto, LayerPrecision <c>name:Int8WeightOnly</c>):
    /// the weight stored int8 per channel, dequantized into scratch before the layer's float kernel. Its inputs must already
    /// exist as float32. New constants' parameter counts go to <paramref name="parameterCounts"/>. False when the layer has no
    /// quantizable constant weight.
    /// </summary>
    public static bool TryWeightOnly(LoweringContext ctx, QuantizationResult quantization, Node n, IDictionary<string, long> parameterCounts)
    {
        var s = new State(ctx, quantization, QWeightLayout.N8K4Sums);   // weight-only packs no n8k4 blocks
        if (!s.TryWeightOnly(n)) return false;
        foreach (var (k, v) in s.ParameterCounts) parameterCounts[k] = v;
        return true;
    }

    private sealed class State(LoweringContext ctx, QuantizationResult q, QWeightLayout layout)
    {
        public readonly LoweringContext Ctx = ctx;
        public readonly Dictionary<string, long> ParameterCounts = new(StringComparer.Ordinal);
        public readonly List<FloatProbe> FloatProbes = new();
        public long FloatBytes, QuantizedBytes;
        private readonly HashSet<string> _counted = new(StringComparer.Ordinal);
        /// <summary>weight → (int8 constant, scales constant), shared by the nodes that read one weight.</summary>
        private readonly Dictionary<string, (string Q, string Scales)> _weightOnly = new(StringComparer.Ordinal);
        private Graph G => Ctx.Graph;

        private string Constant<T>(string hint, T[] data, int[] shape, long parameters)
        {
            string name = Ctx.AddConstant(hint, Tensor.FromArray(data, shape));
            ParameterCounts[name] = parameters;
            return name;
        }

        private string NewValue(string hint, DataType type, int[] shape)
        {
            string name = hint;
            for (int k = 2; G.ValueTypes.ContainsKey(name) || G.Initializers.Contains(name); k++) name = hint + k;
            G.ValueTypes[name] = IR.ValueType.FromShape(type, shape);
            return name;
        }

        /// <summary>Probes the float values the node's last call writes (the layer's output, after any fused bias or activation).</summary>
        public void ProbeLast(Node n)
        {
            if (Ctx.Calls.Count == 0) return;
            var last = Ctx.Calls[^1];
            foreach (var a in last.Args)
                if (a is CallArg.Value { Write: true } v && Ctx.TypeOf(v.Name) == DataType.Float && G.Nodes.Any(x => x.Outputs.Contains(v.Name)))
                    FloatProbes.Add(new FloatProbe(Ctx.Calls.Count - 1, v.Name, n.DisplayName, n.OpType));
        }

        // ------------------------------------------------------------ Int8WeightOnly

        public bool TryWeightOnly(Node n)
        {
            if (n.Domain.Length > 0 || n.OpType is not ("Conv" or "Gemm" or "MatMul") || n.Inputs.Count < 2) return false;
            string w = n.Inputs[1];
            if (Ctx.Constant(w) is not { DataType: DataType.Float } wt || !q.Weights.TryGetValue(w, out var wp)) return false;
            if (Lowerer.FloatLowering(n.OpType) is not { } lowering) return false;
            var shape = wt.Shape;
            int rows = shape[0], cols = (int)Shapes.Product(shape.AsSpan(1));
            if (wp.Axis != 0 && !(wp.Axis == 1 && shape.Length == 2)) return false;
            if (!_weightOnly.TryGetValue(w, out var stored))
            {
                var wq = QuantParams.QuantizeWeights(wt.As<float>(), shape, wp);
                stored = (Constant(w + "_quantized", wq, shape, wt.Length), Constant(w + "_scale", wp.Scales, [wp.Scales.Length], 0));
                _weightOnly[w] = stored;
                FloatBytes += 4L * wt.Length;
                QuantizedBytes += wq.Length + 4L * wp.Scales.Length;
            }
            string deq = NewValue(w + "__dequantized", DataType.Float, shape);
            Ctx.Emit(n, "QLinear.DequantizeChannels", Read(stored.Q), Read(stored.Scales), Write(deq), I(rows), I(cols), I(wp.Axis));
            // The layer's own float lowering, reading the dequantized scratch instead of the float constant.
            n.Inputs[1] = deq;
            try { lowering.Lower(Ctx, n); }
            finally { n.Inputs[1] = w; }
            return true;
        }

        // ------------------------------------------------------------ Int8Dynamic

        public bool TryDynamic(Node n)
        {
            if (n.Domain.Length > 0) return false;
            return n.OpType switch
            {
                "MatMul" => MatMul(n),
                "Gemm" => Gemm(n),
                _ => false,
            };
        }

        private bool MatMul(Node n)
        {
            string a = n.Inputs[0], b = n.Inputs[1];
            if (Ctx.TypeOf(a) != DataType.Float || Ctx.Constant(a) is not null) return false;
            if (Ctx.Constant(b) is not { DataType: DataType.Float, Rank: 2 } bt || !q.Weights.TryGetValue(b, out var wp) || wp.Axis != 1) return false;
            var aS = Ctx.Shape(n, a);
            if (aS.Length < 2) return false;
            int k = aS[^1], nn = bt.Shape[1];
            if (k < 1 || k > QGemm.MaxK || bt.Shape[0] != k) return false;
            int m = (int)(Shapes.Product(aS) / k);
            // A following Add of a constant bias along the last axis is fused, as the float lowering does.
            string output = n.Outputs[0];
            float[]? bias = null;
            long biasParameters = 0;
            var ys = Ctx.Shape(n, output);
            var add = Ctx.SoleConsumer(output);
            if (add is { OpType: "Add", Domain: "" } && add.Outputs.Count == 1 && add.Inputs.Count == 2 && add.Inputs[0] != add.Inputs[1])
            {
                string other = add.Inputs[0] == output ? add.Inputs[1] : add.Inputs[0];
                var c = Ctx.Constant(other);
                if (c is { DataType: DataType.Float } && c.Shape.Where((d, i) => i < c.Rank - 1).All(d => d == 1) && c.Rank <= ys.Length
                    && (c.Rank == 0 ? 1 : c.Shape[^1]) is var cn && (cn == nn || cn == 1)
                    && Ctx.Shape(add, add.Outputs[0]).SequenceEqual(ys))
                {
                    var cv = c.As<float>();
                    bias = cn == nn ? cv.ToArray() : Enumerable.Repeat(cv[0], nn).ToArray();
                    biasParameters = c.Length;
                    Ctx.MarkFused(add);
                    output = add.Outputs[0];
                }
            }
            var wq = QuantParams.QuantizeWeights(bt.As<float>(), bt.Shape, wp);
            Emit(n, a, Transpose(wq, k, nn), wp.Scales, bias, biasParameters, output, m, k, nn, b, bt.Length);
            Count(b, bt.Length, k, nn);
            return true;
        }

        private bool Gemm(Node n)
        {
            string a = n.Inputs[0], b = n.Inputs[1];
            string c = n.Inputs.Count > 2 ? n.Inputs[2] : "";
            if (Ctx.TypeOf(a) != DataType.Float || Ctx.Constant(a) is not null) return false;
            var nc = Ctx.NodeContext(n);
            bool ta = nc.GetInt("transA", 0) != 0, tb = nc.GetInt("transB", 0) != 0;
            if (ta || nc.GetFloat("alpha", 1f) != 1f || nc.GetFloat("beta", 1f) != 1f) return false;
            if (Ctx.Constant(b) is not { DataType: DataType.Float, Rank: 2 } bt || !q.Weights.TryGetValue(b, out var wp) || wp.Axis != (tb ? 0 : 1)) return false;
            var aS = Ctx.Shape(n, a);
            if (aS.Length != 2) return false;
            int m = aS[0], k = aS[1], nn = tb ? bt.Shape[0] : bt.Shape[1];
            if (k < 1 || k > QGemm.MaxK) return false;
            float[]? bias = null;
            if (c.Length > 0)
            {
                if (Ctx.Constant(c) is not { DataType: DataType.Float } ct || ct.Length != nn || ct.Rank > 2 || (ct.Rank == 2 && ct.Shape[0] != 1)) return false;
                bias = ct.As<float>().ToArray();
            }
            var wq = QuantParams.QuantizeWeights(bt.As<float>(), bt.Shape, wp);
            Emit(n, a, tb ? wq : Transpose(wq, k, nn), wp.Scales, bias, bias?.Length ?? 0, n.Outputs[0], m, k, nn, b, bt.Length);
            Count(b, bt.Length, k, nn);
            return true;
        }

        /// <summary>Weight bytes before/after for the report (a weight read by two nodes is packed twice, counted twice after).</summary>
        private void Count(string weight, long elements, int k, int nn)
        {
            if (_counted.Add(weight)) FloatBytes += 4 * elements;
            QuantizedBytes += QGemm.PackedLength(nn, k, layout) + 4L * nn;
        }

        /// <summary>[k, n] row-major → [n, k].</summary>
        private static sbyte[] Transpose(sbyte[] w, int k, int n)
        {
            var t = new sbyte[w.Length];
            for (int i = 0; i < k; i++)
                for (int j = 0; j < n; j++) t[j * k + i] = w[i * n + j];
            return t;
        }

        /// <summary>QuantizeRowsDynamic(a) into arena scratch, then RunDequantized with the packed weight [n, k].</summary>
        private void Emit(Node n, string a, sbyte[] wNk, float[] scales, float[]? bias, long biasParameters, string output, int m, int k, int nn, string weight, long parameters)
        {
            var packed = new sbyte[QGemm.PackedLength(nn, k, layout)];
            QGemm.PackWeights(wNk, packed, nn, k, layout);
            string wName = Constant(weight + "_packed", packed, [packed.Length], parameters);
            string sName = Constant(weight + "_scale", scales, [scales.Length], 0);
            string? bName = bias is null ? null : Constant(weight + "_bias", bias, [bias.Length], biasParameters);
            string aq = NewValue(a + "__dynamic_u8", DataType.UInt8, [m, k]);
            string aScale = NewValue(a + "__dynamic_scale", DataType.Float, [m]);
            string aZero = NewValue(a + "__dynamic_zero_point", DataType.Int32, [m]);
            Ctx.Emit(n, "QLinear.QuantizeRowsDynamic", Read(a), Write(aq), Write(aScale), Write(aZero), I(m), I(k));
            Ctx.Emit(n, "QGemm.RunDequantized", Read(aq), Read(aZero), Read(aScale), Read(wName), Read(sName), bName is null ? Empty(DataType.Float) : Read(bName),
                Write(output), I(m), I(k), I(nn), E("QWeightLayout." + layout));
        }
    }
}
