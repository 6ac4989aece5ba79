using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.IR;
using EdgeCompile.Compiler.Operators.Common;
using EdgeCompile.Compiler.Quantization;
using EdgeCompile.Kernels;
using static EdgeCompile.Compiler.Lowering.LoweringContext;

namespace EdgeCompile.Compiler.Lowering.Int8;

/// <summary>A u8 tensor the int8 plan writes: call <paramref name="CallIndex"/> writes the quantized form of the float value <paramref name="Value"/>.</summary>
public sealed record Int8Probe(int CallIndex, string Value, string QuantizedValue, QuantParam Param, string Node, string OpType);

/// <summary>The int8 plan and what is needed to evaluate it layer by layer.</summary>
public sealed class Int8Lowering
{
    public required CompiledModel Compiled { get; init; }
    public required IReadOnlyList<Int8Probe> Probes { get; init; }
    /// <summary>Float32 outputs of int8-weight layers (Int8Dynamic, Int8WeightOnly), compared with the float reference.</summary>
    public IReadOnlyList<FloatProbe> FloatProbes { get; init; } = [];
    /// <summary>Int8Dynamic / Int8WeightOnly: bytes of the float32 weights that were quantized, and of what replaced them
    /// (int8 values, packed where the kernel needs it, plus float32 scales); 0 for static int8.</summary>
    public long FloatWeightBytes { get; init; }
    public long QuantizedWeightBytes { get; init; }
    /// <summary>Nodes left in float32 (no int8 kernel), with Quantize/Dequantize at their edges.</summary>
    public required IReadOnlyList<string> FloatNodes { get; init; }
}

/// <summary>
/// Static int8 lowering (Quantization=Int8) of a model already run through <see cref="PostTrainingQuantizer"/>:
/// graph inputs float → <c>QLinear.Quantize</c> (u8); Conv (+ Relu/Clip) → <c>QConv.Conv2D</c> (depthwise 3x3/5x5 stride 1/2 →
/// <c>QConv.DepthwiseConv3x3</c>/<c>DepthwiseConv5x5</c>); Add (+ Relu/Clip) → <c>QElementwise.Add</c>; AveragePool → <c>QPool.AveragePool2D</c>;
/// Concat of inputs sharing scale and zero point → <c>Data.CopyBlocks</c> on u8; MaxPool →
/// <c>QPool.MaxPool2D</c> (output keeps the input's scale and zero point, so no requantization); GlobalAveragePool →
/// <c>QPool.GlobalAveragePool</c>; Gemm (+ Relu/Clip) → <c>QGemm.Run</c>; Flatten/Reshape/Squeeze/Unsqueeze/Identity
/// alias the u8 buffer; graph outputs → <c>QLinear.Dequantize</c>. Any other node stays float32 (its float lowering),
/// with Dequantize before and Quantize after where its neighbours are int8. Weights are quantized per channel
/// (<see cref="QuantParams"/>) and packed with the kernels' own Pack functions at build time; requantization constants
/// are converted by <see cref="KernelRequantization"/> and passed as <c>ints:</c> arrays; conv scratch lives in the arena.
/// </summary>
public static class Int8Lowerer
{
    private const long MaxProduct = 255L * 127;

    /// <summary>
    /// Lowers <paramref name="model"/>. <paramref name="keepFloat"/>: nodes to keep float32 even where an int8 kernel exists
    /// (mixed precision, Quantization=Auto, LayerPrecision), matched by node name or by any output name; they are lowered like
    /// nodes without an int8 kernel (float32 between Dequantize/Quantize). <paramref name="weightOnly"/>: nodes (same matching)
    /// run as Int8WeightOnly (int8 weights dequantized before the float kernel, float32 activations) when they have a quantizable
    /// constant weight, else like <paramref name="keepFloat"/>. <paramref name="layout"/>: how Conv/Gemm weights are packed for the
    /// target (<see cref="DeviceProfile.Int8WeightLayout"/>); every QConv.Conv2D and QGemm.Run call passes it to the kernel.
    /// </summary>
    public static Int8Lowering Lower(Model model, QuantizationResult quantization, string className, string @namespace, IReadOnlySet<string>? keepFloat = null, IReadOnlySet<string>? weightOnly = null,
        QWeightLayout layout = QWeightLayout.N8K4Sums)
    {
        // Bias correction (docs/quantization.md) applies to the layers that run with int8 weights, on a copy: the caller's
        // model stays the float reference.
        if (quantization.BiasCorrections.Count > 0) model = BiasCorrection.Apply(Pruning.Pruner.Snapshot(model), quantization.BiasCorrections, keepFloat);
        Passes.FoldStaticShapes.Run(model);
        Passes.FoldBatchNorm.Run(model);
        Passes.RemoveDeadCode.Run(model);
        var s = new State(new LoweringContext(model), quantization, layout);
        var g = model.Graph;
        foreach (var i in g.Inputs)
            if (!g.Initializers.Contains(i.Name)) s.FloatReady.Add(i.Name);

        var layers = new List<LayerReport>();
        long macsTotal = 0;
        var floatNodes = new List<string>();
        foreach (var n in g.Nodes.ToList())
        {
            if (s.Ctx.Fused.Contains(n)) continue;
            int before = s.Ctx.Calls.Count;
            bool int8;
            bool forced = keepFloat is not null && (keepFloat.Contains(n.Name) || n.Outputs.Any(o => o.Length > 0 && keepFloat.Contains(o)));
            bool wantWeightOnly = weightOnly is not null && (weightOnly.Contains(n.Name) || n.Outputs.Any(o => o.Length > 0 && weightOnly.Contains(o)));
            bool weightsInt8 = false;
            try { int8 = !forced && !wantWeightOnly && s.TryInt8(n); }
            catch (EdgeException e) { throw e.WithNode(n.DisplayName, n.OpType); }
            if (!int8)
            {
                if (n.Domain.Length > 0 || Lowerer.FloatLowering(n.OpType) is not { } lowering)
                    throw s.Ctx.Unsupported(n, "is not lowered (no int8 kernel, and no float kernel to fall back to)");
                foreach (var v in n.Inputs)
                    if (v.Length > 0) s.EnsureFloat(v);
                int fusedBefore = s.Ctx.Fused.Count;
                try
                {
                    weightsInt8 = wantWeightOnly && Int8WeightLowerer.TryWeightOnly(s.Ctx, quantization, n, s.ParameterCounts);
                    if (!weightsInt8) lowering.Lower(s.Ctx, n);
                }
                catch (EdgeException e) { throw e.WithNode(n.DisplayName, n.OpType); }
                foreach (var o in n.Outputs) s.FloatReady.Add(o);
                foreach (var f in s.Ctx.Fused) foreach (var o in f.Outputs) s.FloatReady.Add(o);
                floatNodes.Add(n.DisplayName);
            }
            long macs = Lowerer.Macs(s.Ctx, n);
            macsTotal += macs;
            long parameters = n.Inputs.Where(i => i.Length > 0 && s.Ctx.Constant(i) is not null && n.OpType is "Conv" or "Gemm" or "MatMul").Sum(i => (long)s.Ctx.Constant(i)!.Length);
            layers.Add(Lowerer.Layer(s.Ctx, n, before, parameters, macs, int8 ? "int8" : weightsInt8 ? Int8WeightLowerer.WeightOnlyPrecision : "float32"));
        }
        foreach (var o in g.Outputs) s.EnsureFloat(o.Name);

        var compiled = Lowerer.Assemble(model, s.Ctx, className, @namespace, layers, macsTotal,
            c => s.ParameterCounts.TryGetValue(c.Name, out var p) ? p : c.ElementCount);
        return new Int8Lowering { Compiled = compiled, Probes = s.Probes, FloatNodes = floatNodes };
    }

    private sealed class State(LoweringContext ctx, QuantizationResult q, QWeightLayout layout)
    {
        public readonly LoweringContext Ctx = ctx;
        private CallArg Layout => E("QWeightLayout." + layout);
        public readonly Dictionary<string, QuantParam> Params = new(q.Activations, StringComparer.Ordinal);
        /// <summary>float value → its u8 value, once some call has produced it.</summary>
        public readonly Dictionary<string, string> Quantized = new(StringComparer.Ordinal);
        /// <summary>float values that exist as float32 buffers (inputs, float-lowered outputs, dequantized values).</summary>
        public readonly HashSet<string> FloatReady = new(StringComparer.Ordinal);
        public readonly List<Int8Probe> Probes = new();
        public readonly Dictionary<string, long> ParameterCounts = new(StringComparer.Ordinal);
        private Graph G => Ctx.Graph;

        /// <summary>Lowers <paramref name="n"/> to int8 kernels; false when it has to stay float.</summary>
        public bool TryInt8(Node n)
        {
            if (n.Domain.Length > 0) return false;
            switch (n.OpType)
            {
                case "Conv": return Conv(n);
                case "Gemm": return Gemm(n);
                case "MaxPool": return MaxPool(n);
                case "GlobalAveragePool": return GlobalAveragePool(n);
                case "AveragePool": return AveragePool(n);
                case "Add": return Add(n);
                case "Concat": return Concat(n);
                case "Flatten" or "Reshape" or "Squeeze" or "Unsqueeze" or "Identity":
                    if (!Quantized.TryGetValue(n.Inputs[0], out var xq) || !Params.ContainsKey(n.Inputs[0])) return false;
                    if (n.Outputs.Count != 1) return false;
                    var shape = Ctx.Shape(n, n.Outputs[0]);
                    string yq = NewU8(n.Outputs[0], shape);
                    Ctx.Alias(yq, xq);
                    Quantized[n.Outputs[0]] = yq;
                    Params[n.Outputs[0]] = Params[n.Inputs[0]];
                    return true;
                default: return false;
            }
        }

        private bool IsU8Activation(string v) => Params.TryGetValue(v, out var p) && p.Type == DataType.UInt8 && Ctx.TypeOf(v) == DataType.Float;

        private string NewU8(string value, int[] shape, string suffix = "__u8")
        {
            string name = value + suffix;
            for (int k = 2; G.ValueTypes.ContainsKey(name) || G.Initializers.Contains(name); k++) name = value + suffix + k;
            G.ValueTypes[name] = IR.ValueType.FromShape(DataType.UInt8, shape);
            return name;
        }

        /// <summary>The u8 form of a float value, quantizing it (QLinear.Quantize) if only the float form exists.</summary>
        public string U8(Node n, string v)
        {
            if (Quantized.TryGetValue(v, out var q)) return q;
            var p = Params[v];
            q = NewU8(v, Ctx.Shape(n, v));
            Ctx.Calls.Add(new KernelCall("QLinear.Quantize", [Read(v), Write(q), F(p.Scale), I(p.ZeroPoint)], v, "QuantizeLinear"));
            Probe(v, q, p, v, "QuantizeLinear");
            Quantized[v] = q;
            return q;
        }

        /// <summary>Makes the float form of a value exist, dequantizing (QLinear.Dequantize) its u8 form when needed.</summary>
        public void EnsureFloat(string v)
        {
            if (FloatReady.Contains(v) || Ctx.Constant(v) is not null) return;
            if (Quantized.TryGetValue(v, out var q))
            {
                var p = Params[v];
                Ctx.Calls.Add(new KernelCall("QLinear.Dequantize", [Read(q), Write(v), F(p.Scale), I(p.ZeroPoint)], v, "DequantizeLinear"));
            }
            FloatReady.Add(v);
        }

        private void Probe(string value, string q, QuantParam p, string node, string op) =>
            Probes.Add(new Int8Probe(Ctx.Calls.Count - 1, value, q, p, node, op));

        /// <summary>A Relu/Clip reading only <paramref name="value"/> narrows [qmin, qmax]; returns the value the kernel writes.</summary>
        private (string Output, int QMin, int QMax) FuseActivation(string value)
        {
            var next = Ctx.SoleConsumer(value);
            if (next is null || next.Domain.Length > 0 || next.Outputs.Count != 1 || !IsU8Activation(next.Outputs[0])) return (value, 0, 255);
            var p = Params[next.Outputs[0]];
            if (next.OpType == "Relu")
            {
                Ctx.MarkFused(next);
                return (next.Outputs[0], Math.Max(0, p.ZeroPoint), 255);
            }
            if (next.OpType == "Clip" && Ctx.ClipBounds(next) is { } b)
            {
                Ctx.MarkFused(next);
                int lo = float.IsNegativeInfinity(b.Min) ? 0 : (int)QuantParams.Quantize(b.Min, p.Scale, p.ZeroPoint, 0, 255);
                int hi = float.IsPositiveInfinity(b.Max) ? 255 : (int)QuantParams.Quantize(b.Max, p.Scale, p.ZeroPoint, 0, 255);
                return (next.Outputs[0], lo, Math.Max(lo, hi));
            }
            return (value, 0, 255);
        }

        /// <summary>Undoes <see cref="FuseActivation"/> when the node then stays float (the activation is lowered on its own).</summary>
        private void UnfuseActivation(string value, string output)
        {
            if (output != value && Ctx.SoleConsumer(value) is { } next) Ctx.Fused.Remove(next);
        }

        private (int[] M, int[] S) Requant(Node n, float inScale, float[] weightScales, float outScale, int channels, long accBound)
        {
            var m = new int[channels];
            var sh = new int[channels];
            for (int c = 0; c < channels; c++)
            {
                var fp = FixedPoint.FromReal(FixedPoint.RealMultiplier(inScale, weightScales[weightScales.Length == 1 ? 0 : c], outScale));
                var k = KernelRequantization.ToKernel(fp, accBound)
                    ?? throw Ctx.Unsupported(n, $"with a requantization multiplier below 2^-31 and accumulators up to {accBound} (the int8 kernels cannot represent it exactly)");
                (m[c], sh[c]) = k;
            }
            return (m, sh);
        }

        private string Constant<T>(string hint, T[] data, long parameters)
        {
            string name = Ctx.AddConstant(hint, Tensor.FromArray(data, data.Length));
            ParameterCounts[name] = parameters;
            return name;
        }

        private bool Conv(Node n)
        {
            string x = n.Inputs[0], w = n.Inputs[1], y = n.Outputs[0];
            string bias = n.Inputs.Count > 2 ? n.Inputs[2] : "";
            if (!IsU8Activation(x) || !IsU8Activation(y)) return false;
            if (Ctx.Constant(w) is not { DataType: DataType.Float } wt || !q.Weights.TryGetValue(w, out var wp) || wp.Axis != 0) return false;
            Tensor? bt = null;
            if (bias.Length > 0 && Ctx.Constant(bias) is not { DataType: DataType.Float } bt2) return false;
            else if (bias.Length > 0) bt = Ctx.Constant(bias);
            var xs = Ctx.Shape(n, x);
            var ws = Ctx.Shape(n, w);
            if (xs.Length != 4) return false;
            var nc = Ctx.NodeContext(n);
            var a = ConvHelpers.ReadAttributes(nc, 2);
            var geo = ConvHelpers.Forward(nc, a, xs[2..], ws[2..]);
            int group = (int)nc.GetInt("group", 1);
            int k = ws[0], cPerGroup = ws[1], kh = ws[2], kw = ws[3];
            long red = (long)cPerGroup * kh * kw;
            if (red > QGemm.MaxK) return false;

            bool depthwise = group == xs[1] && group == k && cPerGroup == 1 && kh == kw && kh is 3 or 5
                && a.Strides[0] == a.Strides[1] && a.Strides[0] is 1 or 2 && a.Dilations[0] == 1 && a.Dilations[1] == 1;
            if (depthwise) red = kh * kw;

            var (output, qmin, qmax) = FuseActivation(y);
            var pin = Params[x];
            var pout = Params[output];
            var wq = QuantParams.QuantizeWeights(wt.As<float>(), ws, wp);
            if (depthwise)
            {
                int[]? dbq = bt is null ? null : QuantParams.QuantizeBias(bt.As<float>(), pin.Scale, wp);
                long dMaxBias = dbq is null ? 0 : dbq.Max(v => Math.Abs((long)v));
                if (dMaxBias > int.MaxValue - MaxProduct * red) { UnfuseActivation(y, output); return false; }
                var (dm, ds) = Requant(n, pin.Scale, wp.Scales, pout.Scale, k, MaxProduct * red + dMaxBias);
                string dxq = U8(n, x);
                string dwName = Constant(w + "_quantized", wq, wt.Length);
                string? dbName = dbq is null ? null : Constant(bias + "_quantized", dbq, dbq.Length);
                string dyq = NewU8(output, Ctx.Shape(n, output));
                // Bottom/right padding is implied by the output size.
                Ctx.Emit(n, kh == 3 ? "QConv.DepthwiseConv3x3" : "QConv.DepthwiseConv5x5", Read(dxq), I(pin.ZeroPoint), Read(dwName), dbName is null ? Empty(DataType.Int32) : Read(dbName), Write(dyq),
                    I(xs[0]), I(xs[1]), I(xs[2]), I(xs[3]), I(geo.OutputSpatial[0]), I(geo.OutputSpatial[1]), I(a.Strides[0]),
                    I(geo.PadsBegin[0]), I(geo.PadsBegin[1]), Ints(dm), Ints(ds), I(pout.ZeroPoint), I(qmin), I(qmax));
                Probe(output, dyq, pout, n.DisplayName, n.OpType);
                Quantized[output] = dyq;
                return true;
            }
            var packed = new sbyte[QConv.PackedLength(k, cPerGroup, kh, kw, group, layout)];
            QConv.PackWeights(wq, packed, k, cPerGroup, kh, kw, group, layout);
            int[]? bq = bt is null ? null : QuantParams.QuantizeBias(bt.As<float>(), pin.Scale, wp);
            long maxBias = bq is null ? 0 : bq.Max(v => Math.Abs((long)v));
            if (maxBias > int.MaxValue - MaxProduct * red) { UnfuseActivation(y, output); return false; }
            var (mult, shift) = Requant(n, pin.Scale, wp.Scales, pout.Scale, k, MaxProduct * red + maxBias);

            string xq = U8(n, x);
            string wName = Constant(w + "_packed", packed, wt.Length);
            string? bName = bq is null ? null : Constant(bias + "_quantized", bq, bq.Length);
            var ys = Ctx.Shape(n, output);
            string yq = NewU8(output, ys);
            string scratch = NewU8(output, [QConv.ScratchLength(xs[1], xs[2], xs[3], k, kh, kw, geo.OutputSpatial[0], geo.OutputSpatial[1],
                a.Strides[0], a.Strides[1], geo.PadsBegin[0], geo.PadsBegin[1], a.Dilations[0], a.Dilations[1], group)], "__scratch");
            Ctx.Emit(n, "QConv.Conv2D", Read(xq), I(pin.ZeroPoint), Read(wName), bName is null ? Empty(DataType.Int32) : Read(bName), Write(yq), Write(scratch),
                I(xs[0]), I(xs[1]), I(xs[2]), I(xs[3]), I(k), I(kh), I(kw), I(geo.OutputSpatial[0]), I(geo.OutputSpatial[1]),
                I(a.Strides[0]), I(a.Strides[1]), I(geo.PadsBegin[0]), I(geo.PadsBegin[1]), I(a.Dilations[0]), I(a.Dilations[1]), I(group),
                Ints(mult), Ints(shift), I(pout.ZeroPoint), I(qmin), I(qmax), Layout);
            Probe(output, yq, pout, n.DisplayName, n.OpType);
            Quantized[output] = yq;
            return true;
        }

        private bool Gemm(Node n)
        {
            string a = n.Inputs[0], b = n.Inputs[1], y = n.Outputs[0];
            string c = n.Inputs.Count > 2 ? n.Inputs[2] : "";
            if (!IsU8Activation(a) || !IsU8Activation(y)) return false;
            var nc = Ctx.NodeContext(n);
            bool ta = nc.GetInt("transA", 0) != 0, tb = nc.GetInt("transB", 0) != 0;
            if (ta || nc.GetFloat("alpha", 1f) != 1f || nc.GetFloat("beta", 1f) != 1f) return false;
            if (Ctx.Constant(b) is not { DataType: DataType.Float } bt || !q.Weights.TryGetValue(b, out var wp)) return false;
            var aS = Ctx.Shape(n, a);
            var bS = Ctx.Shape(n, b);
            if (aS.Length != 2 || bS.Length != 2) return false;
            int m = aS[0], k = aS[1], nn = tb ? bS[0] : bS[1];
            if (wp.Axis != (tb ? 0 : 1) || k > QGemm.MaxK) return false;
            Tensor? ct = null;
            if (c.Length > 0)
            {
                ct = Ctx.Constant(c);
                if (ct is not { DataType: DataType.Float } || ct.Length != nn || ct.Shape.Length > 2 || (ct.Shape.Length == 2 && ct.Shape[0] != 1)) return false;
            }

            var (output, qmin, qmax) = FuseActivation(y);
            var pin = Params[a];
            var pout = Params[output];
            var wq = QuantParams.QuantizeWeights(bt.As<float>(), bS, wp);
            if (!tb)
            {
                var t = new sbyte[wq.Length];
                for (int i = 0; i < k; i++)
                    for (int j = 0; j < nn; j++) t[j * k + i] = wq[i * nn + j];
                wq = t;
            }
            var packed = new sbyte[QGemm.PackedLength(nn, k, layout)];
            QGemm.PackWeights(wq, packed, nn, k, layout);
            int[]? bq = ct is null ? null : QuantParams.QuantizeBias(ct.As<float>(), pin.Scale, wp);
            long maxBias = bq is null ? 0 : bq.Max(v => Math.Abs((long)v));
            if (maxBias > int.MaxValue - MaxProduct * k) { UnfuseActivation(y, output); return false; }
            var (mult, shift) = Requant(n, pin.Scale, wp.Scales, pout.Scale, nn, MaxProduct * k + maxBias);

            string aq = U8(n, a);
            string wName = Constant(b + "_packed", packed, bt.Length);
            string? bName = bq is null ? null : Constant(c + "_quantized", bq, bq.Length);
            string yq = NewU8(output, Ctx.Shape(n, output));
            Ctx.Emit(n, "QGemm.Run", Read(aq), I(pin.ZeroPoint), Read(wName), bName is null ? Empty(DataType.Int32) : Read(bName), Write(yq),
                I(m), I(k), I(nn), Ints(mult), Ints(shift), I(pout.ZeroPoint), I(qmin), I(qmax), Layout);
            Probe(output, yq, pout, n.DisplayName, n.OpType);
            Quantized[output] = yq;
            return true;
        }

        private bool MaxPool(Node n)
        {
            string x = n.Inputs[0], y = n.Outputs[0];
            if (n.Outputs.Count > 1 && n.Outputs[1].Length > 0) return false;
            if (!IsU8Activation(x) || Ctx.TypeOf(y) != DataType.Float) return false;
            var xs = Ctx.Shape(n, x);
            if (xs.Length != 4) return false;
            var nc = Ctx.NodeContext(n);
            if (nc.GetInt("storage_order", 0) != 0) return false;
            var a = ConvHelpers.ReadPoolAttributes(nc, xs.Select(d => Dim.Known(d)).ToArray());
            var geo = ConvHelpers.Forward(nc, a, xs[2..], a.KernelShape!);
            // Max commutes with a monotonic quantization: the output keeps the input's parameters (no requantization).
            var p = Params[x];
            string xq = U8(n, x);
            string yq = NewU8(y, Ctx.Shape(n, y));
            Ctx.Emit(n, "QPool.MaxPool2D", Read(xq), Write(yq), I(xs[0]), I(xs[1]), I(xs[2]), I(xs[3]), I(a.KernelShape![0]), I(a.KernelShape![1]),
                I(geo.OutputSpatial[0]), I(geo.OutputSpatial[1]), I(a.Strides[0]), I(a.Strides[1]), I(geo.PadsBegin[0]), I(geo.PadsBegin[1]),
                I(a.Dilations[0]), I(a.Dilations[1]));
            Params[y] = p;
            Probe(y, yq, p, n.DisplayName, n.OpType);
            Quantized[y] = yq;
            return true;
        }

        private bool GlobalAveragePool(Node n)
        {
            string x = n.Inputs[0], y = n.Outputs[0];
            if (!IsU8Activation(x) || !IsU8Activation(y)) return false;
            var xs = Ctx.Shape(n, x);
            if (xs.Length < 3) return false;
            int channels = xs[0] * xs[1];
            long spatial = Shapes.Product(xs.AsSpan(2));
            if (spatial > QPool.MaxWindow) return false;
            var pin = Params[x];
            var pout = Params[y];
            var (mult, shift) = Requant(n, pin.Scale, [1f], pout.Scale, 1, 255);
            string xq = U8(n, x);
            string yq = NewU8(y, Ctx.Shape(n, y));
            Ctx.Emit(n, "QPool.GlobalAveragePool", Read(xq), I(pin.ZeroPoint), Write(yq), I(channels), I(spatial),
                I(mult[0]), I(shift[0]), I(pout.ZeroPoint), I(0), I(255));
            Probe(y, yq, pout, n.DisplayName, n.OpType);
            Quantized[y] = yq;
            return true;
        }

        private bool AveragePool(Node n)
        {
            string x = n.Inputs[0], y = n.Outputs[0];
            if (n.Outputs.Count != 1 || !IsU8Activation(x) || !IsU8Activation(y)) return false;
            var xs = Ctx.Shape(n, x);
            if (xs.Length != 4) return false;
            var nc = Ctx.NodeContext(n);
            var a = ConvHelpers.ReadPoolAttributes(nc, xs.Select(d => Dim.Known(d)).ToArray());
            if (a.Dilations.Any(d => d != 1)) return false;
            var geo = ConvHelpers.Forward(nc, a, xs[2..], a.KernelShape!);
            int kh = a.KernelShape![0], kw = a.KernelShape![1];
            if ((long)kh * kw > QPool.MaxWindow) return false;
            var (output, qmin, qmax) = FuseActivation(y);
            var pin = Params[x];
            var pout = Params[output];
            // avg = round_half_even(Σ(x − xZero) / count) exactly, then avg · sIn/sOut requantized (|avg| ≤ 255).
            var (mult, shift) = Requant(n, pin.Scale, [1f], pout.Scale, 1, 255);
            string xq = U8(n, x);
            string yq = NewU8(output, Ctx.Shape(n, output));
            Ctx.Emit(n, "QPool.AveragePool2D", Read(xq), I(pin.ZeroPoint), Write(yq), I(xs[0]), I(xs[1]), I(xs[2]), I(xs[3]), I(kh), I(kw),
                I(geo.OutputSpatial[0]), I(geo.OutputSpatial[1]), I(a.Strides[0]), I(a.Strides[1]), I(geo.PadsBegin[0]), I(geo.PadsBegin[1]),
                I(geo.PadsEnd[0]), I(geo.PadsEnd[1]), B(nc.GetInt("count_include_pad", 0) != 0), I(mult[0]), I(shift[0]), I(pout.ZeroPoint), I(qmin), I(qmax));
            Probe(output, yq, pout, n.DisplayName, n.OpType);
            Quantized[output] = yq;
            return true;
        }

        /// <summary>
        /// Residual Add of two u8 tensors (same shape, or b a single element): each input keeps its own scale and zero
        /// point, the output has its calibrated parameters; aScale/yScale and bScale/yScale share one shift (the larger
        /// ratio sets it, as <see cref="FixedPoint.FromReal"/>; the other is rounded half to even at that shift).
        /// A following Relu/Clip narrows [qmin, qmax].
        /// </summary>
        private bool Add(Node n)
        {
            if (n.Inputs.Count != 2 || n.Outputs.Count != 1) return false;
            string x0 = n.Inputs[0], x1 = n.Inputs[1], y = n.Outputs[0];
            if (!IsU8Activation(x0) || !IsU8Activation(x1) || !IsU8Activation(y)) return false;
            var s0 = Ctx.Shape(n, x0); var s1 = Ctx.Shape(n, x1); var sy = Ctx.Shape(n, y);
            long ny = Shapes.Product(sy);
            // The kernel broadcasts b only as a scalar: a must have the output's shape.
            if (Shapes.Product(s0) != ny && Shapes.Product(s1) == ny) (x0, x1, s0, s1) = (x1, x0, s1, s0);
            if (Shapes.Product(s0) != ny || (Shapes.Product(s1) != ny && Shapes.Product(s1) != 1)) return false;
            if (Shapes.Product(s1) == ny && !s0.SequenceEqual(s1)) return false;
            var (output, qmin, qmax) = FuseActivation(y);
            var pa = Params[x0]; var pb = Params[x1]; var pout = Params[output];
            if (AddMultipliers(pa.Scale, pb.Scale, pout.Scale) is not { } m) { UnfuseActivation(y, output); return false; }
            string aq = U8(n, x0), bq = U8(n, x1);
            string yq = NewU8(output, Ctx.Shape(n, output));
            Ctx.Emit(n, "QElementwise.Add", Read(aq), I(pa.ZeroPoint), I(m.A), Read(bq), I(pb.ZeroPoint), I(m.B), I(m.Shift),
                Write(yq), I(pout.ZeroPoint), I(qmin), I(qmax));
            Probe(output, yq, pout, n.DisplayName, n.OpType);
            Quantized[output] = yq;
            return true;
        }

        /// <summary>Concat of u8 tensors that all have the same scale and zero point: a u8 copy; the output keeps those parameters.</summary>
        private bool Concat(Node n)
        {
            string y = n.Outputs[0];
            var inputs = n.Inputs.Where(i => i.Length > 0).ToList();
            if (n.Outputs.Count != 1 || inputs.Count == 0 || Ctx.TypeOf(y) != DataType.Float) return false;
            if (!inputs.All(IsU8Activation)) return false;
            var p = Params[inputs[0]];
            if (inputs.Any(i => Params[i].Scale != p.Scale || Params[i].ZeroPoint != p.ZeroPoint || Params[i].Type != p.Type)) return false;
            var ys = Ctx.Shape(n, y);
            int axis = Shapes.Axis(Ctx.NodeContext(n).RequireInt("axis"), ys.Length);
            int outer = (int)Shapes.Product(ys.AsSpan(0, axis));
            int rowOut = (int)Shapes.Product(ys.AsSpan(axis));
            var qs = inputs.Select(i => U8(n, i)).ToList();
            string yq = NewU8(y, ys);
            int at = 0;
            for (int k = 0; k < inputs.Count; k++)
            {
                int block = (int)Shapes.Product(Ctx.Shape(n, inputs[k]).AsSpan(axis));
                if (block > 0) Ctx.Emit(n, "Data.CopyBlocks", Read(qs[k]), Write(yq), I(outer), I(block), I(rowOut), I(at));
                at += block;
            }
            Params[y] = p;
            if (Ctx.Calls.Count > 0 && Ctx.Calls[^1].NodeName == n.DisplayName) Probe(y, yq, p, n.DisplayName, n.OpType);
            Quantized[y] = yq;
            return true;
        }
    }

    /// <summary>
    /// QElementwise.Add constants for real ratios ra = aScale/yScale and rb = bScale/yScale: multipliers in [0, 2^31)
    /// with one shift (n = 31 + shift in [0, 61]); null when not representable.
    /// </summary>
    public static (int A, int B, int Shift)? AddMultipliers(float aScale, float bScale, float yScale)
    {
        double ra = (double)aScale / yScale, rb = (double)bScale / yScale;
        double big = Math.Max(ra, rb);
        if (!(big > 0) || !double.IsFinite(big) || big >= 1L << 30) return null;
        var fp = FixedPoint.FromReal(big);
        if (fp.Multiplier == 0 || fp.Shift > 61) return null;
        int n = fp.Shift;
        long ma = (long)Math.Round(Math.ScaleB(ra, n), MidpointRounding.ToEven);
        long mb = (long)Math.Round(Math.ScaleB(rb, n), MidpointRounding.ToEven);
        if (ma >= 1L << 31 || mb >= 1L << 31) return null;
        return ((int)ma, (int)mb, n - 31);
    }
}
