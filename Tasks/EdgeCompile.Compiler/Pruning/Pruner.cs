using System.Globalization;
using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.IR;
using EdgeCompile.Compiler.Operators;
using EdgeCompile.Compiler.Operators.Common;
using EdgeCompile.Compiler.Passes;
using EdgeCompile.Compiler.Quantization;
using EdgeCompile.Compiler.Reference;
using Constant = EdgeCompile.Compiler.IR.Constant;

namespace EdgeCompile.Compiler.Pruning;

/// <summary>
/// Prunes a float model in place (docs/pruning.md): structured channel pruning as graph surgery along each layer's
/// <see cref="ChannelFlow"/>, with the consumers re-fitted by ridge least squares on calibration activations so their
/// outputs match the unpruned model's (layer-wise distillation, closed form, deterministic), in <see cref="PruningOptions.Steps"/>
/// steps; then unstructured magnitude pruning. Everything is computed in double and stored as float32.
/// </summary>
public static class Pruner
{
    private sealed class LayerState
    {
        public required WeightLayer Layer;
        public required int OriginalChannels;
        public required int OriginalInputs;
        public required long OriginalParameters;
        public required long OriginalMacs;
        public double Rate;
        public bool Excluded;
        /// <summary>Original indices of the output channels still present.</summary>
        public int[] Kept = [];
        public double? ErrorBefore, ErrorAfter;
        public string Note = "";
    }

    public static PruningReport Prune(Model model, PruningOptions options, CalibrationData? data, Action<string>? log = null)
    {
        var g = model.Graph;
        // Names are resolved before BatchNorm folding renames Conv outputs (node identity survives folding).
        var layers = ChannelFlowAnalysis.WeightLayers(model);
        var byName = new Dictionary<string, WeightLayer>(StringComparer.Ordinal);
        foreach (var l in layers)
        {
            if (l.Node.Name.Length > 0) byName.TryAdd(l.Node.Name, l);
            byName.TryAdd(l.Node.Outputs[0], l);
        }
        foreach (var name in options.LayerRates.Keys.Concat(options.Exclude))
            if (!byName.ContainsKey(name))
                throw new EdgeException(EdgeCodes.UnknownPruningLayer,
                    $"'{name}' is not a layer with weights in this model (Conv, Gemm or MatMul with constant weights; known: {string.Join(", ", layers.Take(20).Select(l => l.Name))}{(layers.Count > 20 ? ", ..." : "")}).", model.SourcePath);

        FoldBatchNorm.Run(model);
        layers = ChannelFlowAnalysis.WeightLayers(model);
        var original = Snapshot(model);
        var criterion = options.Criterion;
        if (data is null)
        {
            if (criterion == PruningCriterion.Activation)
                throw new EdgeException(EdgeCodes.InvalidPruningOption, "PruningCriterion Activation measures channels on the calibration data: set CalibrationData.", model.SourcePath);
            if (options.Refit && options.ChannelRate + options.LayerRates.Values.Sum() > 0)
                log?.Invoke("edgec: pruning without CalibrationData: the layers after pruned channels are not re-fitted (set CalibrationData to recover accuracy by least squares).");
        }

        var states = new List<LayerState>();
        for (int i = 0; i < layers.Count; i++)
        {
            var l = layers[i];
            var (channels, _) = ChannelFlowAnalysis.OutputChannels(g, l.Node);
            var st = new LayerState
            {
                Layer = l, OriginalChannels = channels, OriginalInputs = InputChannels(g, l.Node),
                OriginalParameters = Parameters(g, l.Node), OriginalMacs = Macs(g, l.Node), Kept = Enumerable.Range(0, channels).ToArray(),
            };
            string? explicitName = options.LayerRates.Keys.FirstOrDefault(k => byName[k] == l || byName[k].Node == l.Node);
            bool excludedByUser = options.Exclude.Any(k => byName[k].Node == l.Node);
            if (l.OpType == "Conv" && ChannelFlowAnalysis.Group(l.Node) != 1)
            {
                // Depthwise and grouped Convs are not pruned on their own: a depthwise Conv loses the channels its producer loses.
                st.Excluded = true;
                st.Note = "grouped Conv: pruned with the layer that feeds it";
                if (explicitName is not null)
                    throw new EdgeException(EdgeCodes.UnknownPruningLayer, $"PruningLayers names '{explicitName}', a grouped Conv: its channels are pruned with the layer that feeds it; name that layer instead.", model.SourcePath);
            }
            else if (explicitName is not null) st.Rate = options.LayerRates[explicitName];
            else if (excludedByUser) { st.Excluded = true; st.Note = "excluded (PruningExclude)"; }
            else if (i == 0 || i == layers.Count - 1) { st.Excluded = true; st.Note = i == 0 ? "first layer: excluded by default" : "last layer: excluded by default"; }
            else st.Rate = options.ChannelRate;
            if (st.Rate > 0 && RemovedCount(st.Rate, channels) >= channels)
                throw new EdgeException(EdgeCodes.PruningRemovesEverything,
                    string.Create(CultureInfo.InvariantCulture, $"Pruning layer '{l.Name}' at rate {st.Rate} would remove all {channels} of its output channels; at least one must remain."), model.SourcePath);
            states.Add(st);
        }

        var warnings = new List<string>();
        var warned = new HashSet<Node>();
        for (int step = 1; step <= options.Steps; step++)
        {
            var pruned = new List<(LayerState State, ChannelFlow Flow)>();
            var flows = new List<(LayerState State, ChannelFlow Flow, int Remove)>();
            foreach (var st in states.Where(s => s.Rate > 0))
            {
                var flow = ChannelFlowAnalysis.Analyze(model, st.Layer);
                if (!flow.Prunable)
                {
                    if (warned.Add(st.Layer.Node))
                    {
                        warnings.Add($"warning {EdgeCodes.LayerLeftUnpruned}: layer '{st.Layer.Name}' ({st.Layer.OpType}) was left unpruned: {flow.BlockedBy}: {flow.Reason}.");
                        st.Note = $"left unpruned: {flow.BlockedBy}: {flow.Reason}";
                    }
                    continue;
                }
                int target = RemovedCount(st.Rate * step / options.Steps, st.OriginalChannels);
                int remove = target - (st.OriginalChannels - st.Kept.Length);
                if (remove > 0) flows.Add((st, flow, remove));
            }
            if (flows.Count == 0) continue;
            log?.Invoke(string.Create(CultureInfo.InvariantCulture, $"edgec: pruning step {step}/{options.Steps}: removing channels from {flows.Count} layer(s)"));

            var importance = Importance(model, flows.Select(f => f.Flow).ToList(), criterion, data, options);
            for (int f = 0; f < flows.Count; f++)
            {
                var (st, flow, remove) = flows[f];
                var score = importance[f];
                var order = Enumerable.Range(0, flow.Channels).OrderBy(c => score[c]).ThenBy(c => c).ToArray();
                var keep = order.Skip(remove).Order().ToArray();
                // Earlier surgery in this step may have moved this flow's channels (a Concat it shares): analyze it again.
                var current = f == 0 ? flow : ChannelFlowAnalysis.Analyze(model, st.Layer);
                if (!current.Prunable) continue;
                Apply(model, current, keep);
                Reinfer(model);
                st.Kept = keep.Select(k => st.Kept[k]).ToArray();
                pruned.Add((st, current));
            }

            if (data is not null && options.Refit)
            {
                var consumers = new List<Node>();
                foreach (var (_, flow) in pruned)
                    foreach (var c in flow.Consumers)
                        if (!consumers.Contains(c.Node)) consumers.Add(c.Node);
                Refit(original, model, consumers, states, data, options, log);
            }
        }

        var magnitude = options.MagnitudeRate > 0 ? MagnitudePrune(model, states, options) : new Dictionary<Node, long>();
        if (magnitude.Count > 0 && data is not null && options.Refit)
        {
            log?.Invoke(string.Create(CultureInfo.InvariantCulture, $"edgec: re-fitting {magnitude.Count} magnitude-pruned layer(s) on the weights they kept"));
            Refit(original, model, g.Nodes.Where(magnitude.ContainsKey).ToList(), states, data, options, log, masked: true);
        }
        RemoveDeadCode.Run(model);
        Reinfer(model);

        var rows = states.Select(st =>
        {
            var n = st.Layer.Node;
            long parameters = Parameters(g, n);
            long nonZero = magnitude.TryGetValue(n, out var nz) ? nz : parameters;
            var (channels, _) = ChannelFlowAnalysis.OutputChannels(g, n);
            return new LayerPruning(st.Layer.Name, n.OpType, st.OriginalChannels, channels, st.OriginalInputs, InputChannels(g, n),
                st.OriginalParameters, parameters, nonZero, st.OriginalMacs, Macs(g, n), st.ErrorBefore, st.ErrorAfter, st.Note);
        }).ToList();
        return new PruningReport
        {
            Options = options, Layers = rows, Warnings = warnings,
            FloatWeightBytesBefore = FloatBytes(original), FloatWeightBytesAfter = FloatBytes(model),
            SparseStorage = options.MagnitudeRate > 0
                ? "the weights file is stored compressed (zeros cost about one bit each), and the weights are decoded once at load and executed dense: this version has no sparse kernel, so magnitude pruning reduces stored bytes but not memory or latency."
                : "none (no magnitude pruning).",
        };
    }

    /// <summary>Channels removed at <paramref name="rate"/>: round(rate × channels), halves to even.</summary>
    public static int RemovedCount(double rate, int channels) => (int)Math.Round(rate * channels, MidpointRounding.ToEven);

    /// <summary>Top-1 of <paramref name="before"/> and <paramref name="after"/> on the first output, one prediction per row
    /// of its last axis (labels: one per row; without labels, <paramref name="before"/>'s predictions).</summary>
    public static PruningAccuracy Evaluate(Model before, Model after, CalibrationData data, long[]? labels, string dataSet, int maxDegreeOfParallelism = -1)
    {
        var exBefore = new ReferenceExecutor(before);
        var exAfter = new ReferenceExecutor(after);
        string outName = before.Graph.Outputs[0].Name, outAfter = after.Graph.Outputs[0].Name;
        var preds = new (long[] Before, long[] After)[data.SampleCount];
        Parallel.For(0, data.SampleCount, new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism }, s =>
        {
            var sample = data.Sample(s);
            preds[s] = (ArgMaxRows(exBefore.Run(sample)[outName]), ArgMaxRows(exAfter.Run(sample)[outAfter]));
        });
        var pb = preds.SelectMany(p => p.Before).ToArray();
        var pa = preds.SelectMany(p => p.After).ToArray();
        if (labels is not null && labels.Length != pb.Length)
            throw new EdgeException(EdgeCodes.CalibrationDataMismatch, $"ValidationLabels has {labels.Length} labels for {pb.Length} predictions ({data.SampleCount} samples).");
        var truth = labels ?? pb;
        int cb = 0, ca = 0, agree = 0;
        for (int i = 0; i < pb.Length; i++)
        {
            if (pb[i] == truth[i]) cb++;
            if (pa[i] == truth[i]) ca++;
            if (pa[i] == pb[i]) agree++;
        }
        return new PruningAccuracy(dataSet, pb.Length, labels is not null, cb, ca, agree);
    }

    private static long[] ArgMaxRows(Tensor t)
    {
        var v = t.ToDoubles();
        int k = t.Rank == 0 ? 1 : Math.Max(t.Shape[^1], 1);
        var r = new long[v.Length / k];
        for (int row = 0; row < r.Length; row++)
        {
            int best = 0;
            for (int j = 1; j < k; j++) if (v[row * k + j] > v[row * k + best]) best = j;
            r[row] = best;
        }
        return r;
    }

    // ------------------------------------------------------------------ surgery

    private static void Apply(Model model, ChannelFlow flow, int[] keep)
    {
        var g = model.Graph;
        foreach (var s in flow.Slices.Concat(flow.Consumers))
        {
            var c = g.Initializers[s.Node.Inputs[s.Input]];
            var sliced = SliceAxis(c.Value, s.Axis, Widen(keep, flow.Channels, s.Offset, s.Total), s.Block);
            string name = Fresh(g, BaseName(c.Name) + "_pruned");
            g.Initializers.Add(new Constant(name, sliced));
            s.Node.Inputs[s.Input] = name;
        }
        foreach (var (dw, total) in flow.Depthwise) SetInt(dw, "group", total - (flow.Channels - keep.Length));
    }

    /// <summary>The kept indices among <paramref name="total"/> channels when the flow's channels start at <paramref name="offset"/>.</summary>
    private static int[] Widen(int[] keep, int channels, int offset, int total)
    {
        if (total < 0 || (offset == 0 && total == channels)) return keep;
        return Enumerable.Range(0, offset).Concat(keep.Select(k => offset + k)).Concat(Enumerable.Range(offset + channels, total - offset - channels)).ToArray();
    }

    private static void SetInt(Node n, string name, long value)
    {
        int i = n.Attributes.FindIndex(a => a.Name == name);
        var attr = new IR.Attribute { Name = name, Kind = AttributeKind.Int, I = value };
        if (i >= 0) n.Attributes[i] = attr; else n.Attributes.Add(attr);
    }

    /// <summary>Keeps channels <paramref name="keep"/> (each <paramref name="block"/> entries) along <paramref name="axis"/>.</summary>
    public static Tensor SliceAxis(Tensor t, int axis, int[] keep, int block = 1)
    {
        var src = t.As<float>();
        var shape = (int[])t.Shape.Clone();
        int outer = 1, inner = 1;
        for (int d = 0; d < axis; d++) outer *= shape[d];
        for (int d = axis + 1; d < shape.Length; d++) inner *= shape[d];
        int along = shape[axis];
        shape[axis] = keep.Length * block;
        var dst = new float[outer * shape[axis] * inner];
        int o = 0;
        for (int a = 0; a < outer; a++)
            foreach (int k in keep)
                for (int b = 0; b < block; b++)
                {
                    Array.Copy(src, ((long)a * along + (long)k * block + b) * inner, dst, o, inner);
                    o += inner;
                }
        return new Tensor(DataType.Float, shape, dst);
    }

    private static string BaseName(string name)
    {
        int i = name.IndexOf("_pruned", StringComparison.Ordinal);
        return i > 0 ? name[..i] : name;
    }

    private static string Fresh(Graph g, string name)
    {
        string n = name;
        for (int i = 1; g.Initializers.Contains(n) || g.ValueTypes.ContainsKey(n); i++) n = name + i.ToString(CultureInfo.InvariantCulture);
        return n;
    }

    /// <summary>Forgets every inferred type (shapes changed) and infers them again.</summary>
    private static void Reinfer(Model model)
    {
        var g = model.Graph;
        var keep = new HashSet<string>(g.Inputs.Select(i => i.Name).Concat(g.Outputs.Select(o => o.Name)), StringComparer.Ordinal);
        foreach (var k in g.ValueTypes.Keys.ToList())
            if (!keep.Contains(k)) g.ValueTypes.Remove(k);
        InferShapes.Run(model);
    }

    /// <summary>A copy of the graph structure sharing the (immutable) constants: the unpruned model pruning distills from.</summary>
    public static Model Snapshot(Model m)
    {
        var g = m.Graph;
        var copy = new Graph
        {
            Name = g.Name,
            Nodes = g.Nodes.Select(n => new Node
            {
                Name = n.Name, OpType = n.OpType, Domain = n.Domain, DocString = n.DocString,
                Inputs = new List<string>(n.Inputs), Outputs = new List<string>(n.Outputs), Attributes = new List<IR.Attribute>(n.Attributes),
            }).ToList(),
            Inputs = g.Inputs.Select(i => new ValueInfo(i.Name, i.Type)).ToList(),
            Outputs = g.Outputs.Select(o => new ValueInfo(o.Name, o.Type)).ToList(),
            ValueTypes = new Dictionary<string, IR.ValueType>(g.ValueTypes, StringComparer.Ordinal),
        };
        foreach (var c in g.Initializers) copy.Initializers.Add(c);
        var model = new Model { Graph = copy, IrVersion = m.IrVersion, ProducerName = m.ProducerName, SourcePath = m.SourcePath };
        foreach (var (d, v) in m.Opsets) model.Opsets[d] = v;
        return model;
    }

    // ------------------------------------------------------------------ importance

    private static double[][] Importance(Model model, List<ChannelFlow> flows, PruningCriterion criterion, CalibrationData? data, PruningOptions options)
    {
        var g = model.Graph;
        if (criterion != PruningCriterion.Activation)
            return flows.Select(f =>
            {
                var (_, axis) = ChannelFlowAnalysis.OutputChannels(g, f.Producer.Node);
                return AxisNorms(g.Initializers[f.Producer.Node.Inputs[1]].Value, axis, 1, f.Channels, criterion == PruningCriterion.L1 ? 1 : 2);
            }).ToArray();

        // Mean |x| per channel where each consumer reads the flow, times the norm of the consumer weights on that channel.
        var wanted = new HashSet<string>(flows.SelectMany(f => f.Consumers.Select(c => c.Node.Inputs[0])), StringComparer.Ordinal);
        var sums = new Dictionary<string, double[]>(StringComparer.Ordinal);
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        var executor = new ReferenceExecutor(model);
        ForEachSample(data!, options.MaxDegreeOfParallelism, s => Capture(executor, data!.Sample(s), wanted), captured =>
        {
            foreach (var (name, t) in captured)
            {
                // Channel axis: 1 for Conv inputs ([N, C, ...]); the last axis for Gemm/MatMul inputs.
                var v = t.As<float>();
                bool conv = t.Rank > 2 && flows.Any(f => f.Consumers.Any(c => c.Node.Inputs[0] == name && c.Node.OpType == "Conv"));
                int axis = conv ? 1 : t.Rank - 1;
                int outer = 1, inner = 1, along = t.Shape[axis];
                for (int d = 0; d < axis; d++) outer *= t.Shape[d];
                for (int d = axis + 1; d < t.Rank; d++) inner *= t.Shape[d];
                if (!sums.TryGetValue(name, out var acc)) sums[name] = acc = new double[along];
                for (int a = 0; a < outer; a++)
                    for (int c = 0; c < along; c++)
                    {
                        double s = 0;
                        int off = (a * along + c) * inner;
                        for (int i = 0; i < inner; i++) s += Math.Abs(v[off + i]);
                        acc[c] += s;
                    }
                counts[name] = counts.GetValueOrDefault(name) + (long)outer * inner;
            }
        });
        return flows.Select(f =>
        {
            var score = new double[f.Channels];
            foreach (var c in f.Consumers)
            {
                string x = c.Node.Inputs[0];
                var w = g.Initializers[c.Node.Inputs[c.Input]].Value;
                int total = c.Total < 0 ? f.Channels : c.Total;
                var norms = AxisNorms(w, c.Axis, c.Block, total, 2);
                var acc = sums.GetValueOrDefault(x);
                long n = Math.Max(counts.GetValueOrDefault(x), 1);
                for (int ch = 0; ch < f.Channels; ch++)
                {
                    double mean = 0;
                    if (acc is not null)
                        for (int b = 0; b < c.Block; b++) mean += acc[(c.Offset + ch) * c.Block + b];
                    score[ch] += mean / n / c.Block * norms[c.Offset + ch];
                }
            }
            return score;
        }).ToArray();
    }

    /// <summary>L1 or L2 norm of each channel's slice (<paramref name="block"/> entries per channel) along <paramref name="axis"/>.</summary>
    public static double[] AxisNorms(Tensor t, int axis, int block, int channels, int p)
    {
        var v = t.As<float>();
        int outer = 1, inner = 1;
        for (int d = 0; d < axis; d++) outer *= t.Shape[d];
        for (int d = axis + 1; d < t.Rank; d++) inner *= t.Shape[d];
        int along = t.Shape[axis];
        var r = new double[channels];
        for (int a = 0; a < outer; a++)
            for (int i = 0; i < along; i++)
            {
                int ch = i / block;
                int off = (a * along + i) * inner;
                for (int j = 0; j < inner; j++) r[ch] += p == 1 ? Math.Abs(v[off + j]) : (double)v[off + j] * v[off + j];
            }
        if (p == 2) for (int c = 0; c < channels; c++) r[c] = Math.Sqrt(r[c]);
        return r;
    }

    // ------------------------------------------------------------------ re-fit

    private sealed class Fit
    {
        public required Node Node;
        public required LeastSquares System;
        public required int[] KeptOut;
        public WindowGeometry? Geometry;
        public int InChannels, PositionStride, RowsPerSample, OutChannelsOriginal;
        public long NextRow;
    }

    private static void Refit(Model original, Model model, List<Node> consumers, List<LayerState> states, CalibrationData data, PruningOptions options, Action<string>? log, bool masked = false)
    {
        var g = model.Graph;
        var fits = new List<Fit>();
        foreach (var q in consumers)
        {
            var st = states.FirstOrDefault(s => s.Layer.Node == q);
            var w = g.Initializers[q.Inputs[1]];
            var xShape = g.TypeOf(q.Inputs[0])?.StaticShape;
            var yShape = original.Graph.TypeOf(q.Outputs[0])?.StaticShape;
            if (xShape is null || yShape is null) { Note(st, "not re-fitted: shapes unknown"); continue; }
            int outOriginal = q.OpType == "Conv" ? yShape[1] : yShape[^1];
            var keptOut = st?.Kept ?? Enumerable.Range(0, outOriginal).ToArray();
            Fit fit;
            int rowsPerSample;
            if (q.OpType == "Conv")
            {
                if (xShape.Length > 4) { Note(st, "not re-fitted: 3-D and higher convolutions are not re-fitted yet"); continue; }
                var nc = new InferenceContext(q, model.OpsetFor(""), g.TypeOf, v => g.Initializers.TryGet(v, out var c) ? c.Value : null);
                var attrs = ConvHelpers.ReadAttributes(nc, xShape.Length - 2);
                var geo = ConvHelpers.Forward(nc, attrs, xShape[2..], w.Shape[2..]);
                int dim = xShape[1] * geo.Taps;
                if (dim > options.MaxRefitDimension) { Note(st, $"not re-fitted: {dim} inputs per output exceed the re-fit limit {options.MaxRefitDimension}"); continue; }
                rowsPerSample = xShape[0] * geo.OutputSize;
                fit = new Fit { Node = q, System = new LeastSquares(dim, keptOut.Length, intercept: true), KeptOut = keptOut, Geometry = geo, InChannels = xShape[1] };
            }
            else
            {
                int k = xShape[^1];
                if (k > options.MaxRefitDimension) { Note(st, $"not re-fitted: {k} inputs per output exceed the re-fit limit {options.MaxRefitDimension}"); continue; }
                // Gemm's C is re-fitted when it is one value per output column (or one for all); a column vector [M, 1] is left alone.
                bool intercept = q.OpType == "Gemm" && q.Inputs.Count > 2 && q.Inputs[2].Length > 0 && (q.GetAttribute("beta")?.F ?? 1f) != 0 &&
                    g.Initializers.TryGet(q.Inputs[2], out var cc) && (cc.ElementCount == 1 || cc.ElementCount == keptOut.Length && cc.Shape[^1] == keptOut.Length);
                rowsPerSample = xShape.Length == 0 ? 1 : (int)(Shapes.Product(xShape) / k);
                fit = new Fit { Node = q, System = new LeastSquares(k, keptOut.Length, intercept), KeptOut = keptOut, InChannels = k };
            }
            fit.RowsPerSample = rowsPerSample;
            fit.OutChannelsOriginal = outOriginal;
            long total = (long)rowsPerSample * data.SampleCount;
            fit.PositionStride = (int)Math.Max(1, (total + options.MaxRefitRows - 1) / options.MaxRefitRows);
            fits.Add(fit);
        }
        if (fits.Count == 0) return;

        // A consumer is fitted on the inputs it will really see: after the re-fits of the consumers upstream of it. Consumers
        // are grouped by depth (a consumer's depth is one more than the deepest consumer among its ancestors); each depth is
        // one paired pass over the calibration data, running only the part of each model that the pass needs.
        var depth = new Dictionary<Fit, int>();
        var producer = new Dictionary<string, Node>(StringComparer.Ordinal);
        foreach (var n in g.Nodes) foreach (var o in n.Outputs) if (o.Length > 0) producer[o] = n;
        foreach (var fit in fits)
        {
            var ancestors = Ancestors(producer, fit.Node.Inputs[0]);
            depth[fit] = fits.Where(a => a != fit && depth.ContainsKey(a) && ancestors.Contains(a.Node)).Select(a => depth[a] + 1).DefaultIfEmpty(0).Max();
        }
        foreach (var level in fits.GroupBy(f => depth[f]).OrderBy(l => l.Key))
        {
            var batch = level.ToList();
            var exOriginal = new ReferenceExecutor(Prefix(original, batch.Select(f => f.Node.Outputs[0])));
            var exPruned = new ReferenceExecutor(Prefix(model, batch.Select(f => f.Node.Inputs[0])));
            var wantOriginal = new HashSet<string>(batch.Select(f => f.Node.Outputs[0]), StringComparer.Ordinal);
            var wantPruned = new HashSet<string>(batch.Select(f => f.Node.Inputs[0]), StringComparer.Ordinal);
            ForEachSample(data, options.MaxDegreeOfParallelism, s =>
            {
                var sample = data.Sample(s);
                return (Capture(exOriginal, sample, wantOriginal), Capture(exPruned, sample, wantPruned));
            }, captured =>
            {
                foreach (var fit in batch) Accumulate(fit, captured.Item2[fit.Node.Inputs[0]], captured.Item1[fit.Node.Outputs[0]]);
            });

            foreach (var fit in batch)
            {
                var st = states.FirstOrDefault(s => s.Layer.Node == fit.Node);
                var (w0, b0) = Effective(g, fit.Node);
                (double[] W, double[] B)? solved;
                if (masked)
                {
                    // Magnitude-pruned weights stay zero: each output is re-fitted on the inputs it kept.
                    var keep = w0.Select(v => v != 0).ToArray();
                    long work = 0;
                    for (int o = 0; o < fit.System.Outputs; o++)
                    {
                        long support = keep.AsSpan(o * (w0.Length / fit.System.Outputs), w0.Length / fit.System.Outputs).Count(true);
                        work += support * support * support / 3;
                    }
                    if (work > MaxMaskedRefitWork) { Note(st, "magnitude re-fit skipped: too large"); continue; }
                    solved = fit.System.SolveMasked(w0, options.Ridge, keep);
                }
                else solved = fit.System.Solve(w0, options.Ridge);
                double before = fit.System.RelativeError(w0, b0);
                if (solved is not { } s) { Note(st, "not re-fitted: singular system"); continue; }
                double after = fit.System.RelativeError(s.W, s.B);
                if (!(after < before)) { Note(st, "re-fit kept the pruned weights (no improvement)"); after = before; }
                else Store(g, fit.Node, s.W, s.B);
                if (st is not null)
                {
                    st.ErrorBefore ??= before;
                    st.ErrorAfter = after;
                }
                log?.Invoke(string.Create(CultureInfo.InvariantCulture, $"edgec: re-fitted '{(st?.Layer.Name ?? fit.Node.DisplayName)}' on {fit.System.Rows} rows: output error {before:P2} -> {after:P2}"));
            }
        }
    }

    /// <summary>Budget of a masked re-fit (multiply-adds of its per-row Cholesky factorizations).</summary>
    private const long MaxMaskedRefitWork = 20_000_000_000;

    /// <summary>The nodes <paramref name="value"/> depends on.</summary>
    private static HashSet<Node> Ancestors(Dictionary<string, Node> producer, string value)
    {
        var seen = new HashSet<Node>();
        var stack = new Stack<string>([value]);
        while (stack.Count > 0)
            if (producer.TryGetValue(stack.Pop(), out var n) && seen.Add(n))
                foreach (var r in GraphValidator.NodeReads(n)) stack.Push(r);
        return seen;
    }

    /// <summary>The part of <paramref name="m"/> that computes <paramref name="values"/> (as its outputs).</summary>
    private static Model Prefix(Model m, IEnumerable<string> values)
    {
        var prefix = Snapshot(m);
        var g = prefix.Graph;
        g.Outputs.Clear();
        foreach (var v in values.Distinct()) g.Outputs.Add(new ValueInfo(v, m.Graph.TypeOf(v)));
        RemoveDeadCode.Run(prefix);
        return prefix;
    }

    private static void Note(LayerState? st, string note)
    {
        if (st is not null) st.Note = st.Note.Length == 0 ? note : st.Note + "; " + note;
    }

    private static void Accumulate(Fit fit, Tensor xT, Tensor yT)
    {
        var x = xT.As<float>();
        var y = yT.As<float>();
        int m = fit.KeptOut.Length;
        Span<double> target = m <= 1024 ? stackalloc double[m] : new double[m];
        if (fit.Geometry is { } geo)
        {
            int c = fit.InChannels, taps = geo.Taps, inSize = geo.InputSize, outSize = geo.OutputSize;
            var row = new double[c * taps];
            var tapIdx = new int[taps];
            var pos = new int[geo.Rank];
            int batch = xT.Shape[0];
            for (int n = 0; n < batch; n++)
            {
                Array.Clear(pos);
                for (int p = 0; p < outSize; p++, ConvGeometryAdvance(pos, geo.OutputSpatial))
                {
                    if (fit.NextRow++ % fit.PositionStride != 0) continue;
                    geo.Window(pos, tapIdx);
                    for (int ch = 0; ch < c; ch++)
                    {
                        int xOff = (n * c + ch) * inSize;
                        for (int t = 0; t < taps; t++) row[ch * taps + t] = tapIdx[t] >= 0 ? x[xOff + tapIdx[t]] : 0;
                    }
                    for (int o = 0; o < m; o++) target[o] = y[(n * fit.OutChannelsOriginal + fit.KeptOut[o]) * outSize + p];
                    fit.System.Add(row, target);
                }
            }
        }
        else
        {
            int k = fit.InChannels, rows = x.Length / Math.Max(k, 1);
            var row = new double[k];
            for (int r = 0; r < rows; r++)
            {
                if (fit.NextRow++ % fit.PositionStride != 0) continue;
                for (int i = 0; i < k; i++) row[i] = x[r * k + i];
                for (int o = 0; o < m; o++) target[o] = y[r * fit.OutChannelsOriginal + fit.KeptOut[o]];
                fit.System.Add(row, target);
            }
        }
    }

    private static void ConvGeometryAdvance(int[] pos, int[] shape) => WindowGeometry.Advance(pos, shape);

    /// <summary>The layer's weights as y = W·x + b: W is outputs × inputs (Conv: inputs = channels × taps).</summary>
    private static (double[] W, double[] B) Effective(Graph g, Node n)
    {
        var w = g.Initializers[n.Inputs[1]].Value;
        var v = w.As<float>();
        bool hasBias = n.Inputs.Count > 2 && n.Inputs[2].Length > 0;
        if (n.OpType == "Conv")
        {
            int outs = w.Shape[0];
            var b = new double[outs];
            if (hasBias) { var bv = g.Initializers[n.Inputs[2]].Value.As<float>(); for (int o = 0; o < outs; o++) b[o] = bv[o]; }
            return (v.Select(f => (double)f).ToArray(), b);
        }
        bool transB = n.OpType == "Gemm" && n.GetAttribute("transB")?.I == 1;
        double alpha = n.OpType == "Gemm" ? n.GetAttribute("alpha")?.F ?? 1f : 1;
        int kDim = transB ? w.Shape[1] : w.Shape[0], nDim = transB ? w.Shape[0] : w.Shape[1];
        var eff = new double[nDim * kDim];
        for (int o = 0; o < nDim; o++)
            for (int i = 0; i < kDim; i++)
                eff[o * kDim + i] = alpha * (transB ? v[o * kDim + i] : v[i * nDim + o]);
        var bias = new double[nDim];
        if (n.OpType == "Gemm" && hasBias)
        {
            double beta = n.GetAttribute("beta")?.F ?? 1f;
            var c = g.Initializers[n.Inputs[2]].Value;
            var cv = c.As<float>();
            if (c.Length == 1 || c.Length == nDim)
                for (int o = 0; o < nDim; o++) bias[o] = beta * (c.Length == 1 ? cv[0] : cv[o]);
        }
        return (eff, bias);
    }

    private static void Store(Graph g, Node n, double[] w, double[] b)
    {
        var old = g.Initializers[n.Inputs[1]];
        float[] data;
        if (n.OpType == "Conv") data = w.Select(d => (float)d).ToArray();
        else
        {
            bool transB = n.OpType == "Gemm" && n.GetAttribute("transB")?.I == 1;
            double alpha = n.OpType == "Gemm" ? n.GetAttribute("alpha")?.F ?? 1f : 1;
            int kDim = transB ? old.Shape[1] : old.Shape[0], nDim = transB ? old.Shape[0] : old.Shape[1];
            data = new float[w.Length];
            for (int o = 0; o < nDim; o++)
                for (int i = 0; i < kDim; i++)
                    data[transB ? o * kDim + i : i * nDim + o] = (float)(w[o * kDim + i] / alpha);
        }
        string wName = Fresh(g, BaseName(old.Name) + "_pruned");
        g.Initializers.Add(new Constant(wName, new Tensor(DataType.Float, old.Shape, data)));
        n.Inputs[1] = wName;

        if (n.OpType == "Conv")
        {
            string bName = Fresh(g, (n.Inputs.Count > 2 && n.Inputs[2].Length > 0 ? BaseName(n.Inputs[2]) : BaseName(old.Name) + "_bias") + "_pruned");
            g.Initializers.Add(new Constant(bName, new Tensor(DataType.Float, [b.Length], b.Select(d => (float)d).ToArray())));
            while (n.Inputs.Count < 3) n.Inputs.Add("");
            n.Inputs[2] = bName;
        }
        else if (n.OpType == "Gemm" && n.Inputs.Count > 2 && n.Inputs[2].Length > 0)
        {
            double beta = n.GetAttribute("beta")?.F ?? 1f;
            var c = g.Initializers[n.Inputs[2]];
            int[] shape = c.ElementCount == b.Length ? c.Shape : [b.Length];
            string cName = Fresh(g, BaseName(c.Name) + "_pruned");
            g.Initializers.Add(new Constant(cName, new Tensor(DataType.Float, shape, b.Select(d => (float)(d / beta)).ToArray())));
            n.Inputs[2] = cName;
        }
    }

    // ------------------------------------------------------------------ magnitude

    private static Dictionary<Node, long> MagnitudePrune(Model model, List<LayerState> states, PruningOptions options)
    {
        var g = model.Graph;
        var targets = states.Where(s => !s.Excluded).ToList();
        var nonZero = new Dictionary<Node, long>();
        var weights = targets.Select(s => g.Initializers[s.Layer.Node.Inputs[1]].Value).ToList();
        var masks = weights.Select(w => new bool[w.Length]).ToList();   // true = zeroed
        if (options.GlobalMagnitude)
        {
            var all = new List<(float Abs, int Layer, int Index)>();
            for (int l = 0; l < weights.Count; l++)
            {
                var v = weights[l].As<float>();
                for (int i = 0; i < v.Length; i++) all.Add((Math.Abs(v[i]), l, i));
            }
            int k = RemovedCount(options.MagnitudeRate, all.Count);
            foreach (var e in all.OrderBy(e => e.Abs).ThenBy(e => e.Layer).ThenBy(e => e.Index).Take(k)) masks[e.Layer][e.Index] = true;
        }
        else
            for (int l = 0; l < weights.Count; l++)
            {
                var v = weights[l].As<float>();
                int k = RemovedCount(options.MagnitudeRate, v.Length);
                foreach (int i in Enumerable.Range(0, v.Length).OrderBy(i => Math.Abs(v[i])).ThenBy(i => i).Take(k)) masks[l][i] = true;
            }
        for (int l = 0; l < weights.Count; l++)
        {
            var n = targets[l].Layer.Node;
            var v = (float[])weights[l].As<float>().Clone();
            long kept = 0;
            for (int i = 0; i < v.Length; i++)
                if (masks[l][i]) v[i] = 0; else if (v[i] != 0) kept++;
            if (kept == 0 && v.Length > 0)
                throw new EdgeException(EdgeCodes.PruningRemovesEverything,
                    $"Magnitude pruning would zero every weight of layer '{targets[l].Layer.Name}'; lower the rate or exclude the layer.", model.SourcePath);
            string name = Fresh(g, BaseName(n.Inputs[1]) + "_pruned");
            g.Initializers.Add(new Constant(name, new Tensor(DataType.Float, weights[l].Shape, v)));
            n.Inputs[1] = name;
            nonZero[n] = kept + (n.Inputs.Count > 2 && n.Inputs[2].Length > 0 ? g.Initializers[n.Inputs[2]].ElementCount : 0);
        }
        return nonZero;
    }

    // ------------------------------------------------------------------ passes over the calibration data

    /// <summary>Runs <paramref name="produce"/> for every sample, in parallel in fixed batches, and hands the results to
    /// <paramref name="consume"/> in sample order, so sums accumulate in the same order for any thread count.</summary>
    private static void ForEachSample<T>(CalibrationData data, int maxDop, Func<int, T> produce, Action<T> consume)
    {
        const int Batch = 16;
        var results = new T[Batch];
        for (int start = 0; start < data.SampleCount; start += Batch)
        {
            int count = Math.Min(Batch, data.SampleCount - start);
            Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = maxDop }, i => results[i] = produce(start + i));
            for (int i = 0; i < count; i++) consume(results[i]);
        }
    }

    private static Dictionary<string, Tensor> Capture(ReferenceExecutor ex, IReadOnlyDictionary<string, Tensor> sample, IReadOnlySet<string> names)
    {
        var captured = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var n in names) if (sample.TryGetValue(n, out var t)) captured[n] = t;
        ex.Run(sample, (_, name, t) => { if (names.Contains(name)) captured[name] = t; });
        return captured;
    }

    // ------------------------------------------------------------------ sizes

    private static int InputChannels(Graph g, Node n)
    {
        var w = g.Initializers[n.Inputs[1]];
        return n.OpType switch
        {
            "Conv" => w.Shape[1] * (int)ChannelFlowAnalysis.Group(n),
            "Gemm" => n.GetAttribute("transB")?.I == 1 ? w.Shape[1] : w.Shape[0],
            _ => w.Shape[0],
        };
    }

    private static long Parameters(Graph g, Node n) =>
        g.Initializers[n.Inputs[1]].ElementCount + (n.Inputs.Count > 2 && n.Inputs[2].Length > 0 && g.Initializers.TryGet(n.Inputs[2], out var b) ? b.ElementCount : 0);

    private static long Macs(Graph g, Node n)
    {
        var outShape = g.TypeOf(n.Outputs[0])?.StaticShape;
        if (outShape is null) return 0;
        var w = g.Initializers[n.Inputs[1]];
        long outputs = Shapes.Product(outShape);
        return n.OpType == "Conv" ? outputs * (w.ElementCount / w.Shape[0]) : outputs * InputChannels(g, n);
    }

    private static long FloatBytes(Model m) => m.Graph.Initializers.Where(c => c.DataType == DataType.Float).Sum(c => c.ElementCount * 4);
}
