using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.IR;

namespace EdgeCompile.Compiler.Quantization;

/// <summary>
/// Requantization of one Conv/Gemm/MatMul output channel, computed at build time for the int8 kernels:
/// M = sIn · sW_c / sOut as a fixed-point multiplier (see <see cref="FixedPoint"/>).
/// </summary>
public sealed record LayerRequantization(string Node, string OpType, QuantParam Input, float[] WeightScales, QuantParam Output, FixedPointMultiplier[] Multipliers);

/// <summary>Everything post-training quantization decided.</summary>
public sealed class QuantizationResult
{
    public required Model QdqModel { get; init; }
    public required IReadOnlyDictionary<string, QuantParam> Activations { get; init; }
    public required IReadOnlyDictionary<string, ChannelQuantParams> Weights { get; init; }
    public required IReadOnlyList<LayerRequantization> Layers { get; init; }
    public CalibrationResult? Calibration { get; init; }
    public required IReadOnlyList<QuantWarning> Warnings { get; init; }
    /// <summary>Layer pairs cross-layer equalization rescaled (in the model itself, before calibration).</summary>
    public IReadOnlyList<EqualizedPair> Equalized { get; init; } = [];
    /// <summary>Corrected biases of the int8 layers; the float model keeps its biases (apply with <see cref="BiasCorrection.Apply"/>).</summary>
    public IReadOnlyList<BiasCorrectionEntry> BiasCorrections { get; init; } = [];
}

/// <summary>
/// The build-time half of int8 post-training quantization as one call: fold BatchNormalization (optional),
/// check a pre-quantized model's parameters, calibrate (static Int8 only), estimate ranges, derive
/// activation / weight / bias parameters and the fixed-point requantization multipliers, and build the QDQ model.
/// Int8Dynamic and Int8WeightOnly quantize weights only (no calibration; their activations are not in the
/// QDQ model — Int8Dynamic measures them at run time).
/// <para>The model is modified in place by the BatchNormalization folding.</para>
/// </summary>
public static class PostTrainingQuantizer
{
    public static QuantizationResult Quantize(Model model, CalibrationData? data, QuantizationOptions options, IReadOnlySet<string>? tensors = null)
    {
        options.Validate();
        if (options.Mode == QuantizationMode.None)
            throw new EdgeException(EdgeCodes.InvalidQuantizationOption, "Quantization is None: nothing to quantize.");
        if (options.FoldBatchNorm)
        {
            Passes.FoldBatchNorm.Run(model);
            Passes.RemoveDeadCode.Run(model);
        }
        CheckPreQuantized(model);
        bool preQuantized = model.Graph.Nodes.Any(n => n.Domain.Length == 0 && n.OpType is "QuantizeLinear" or "DequantizeLinear");
        var equalized = options.Mode == QuantizationMode.Int8 && options.Equalization && !preQuantized ? CrossLayerEqualization.Run(model) : [];
        var warnings = new List<QuantWarning>();
        var activations = new Dictionary<string, QuantParam>(StringComparer.Ordinal);
        CalibrationResult? calibration = null;
        if (options.Mode == QuantizationMode.Int8)
        {
            if (data is null)
                throw new EdgeException(EdgeCodes.InvalidQuantizationOption, "Quantization Int8 (static) needs CalibrationData; use Int8Dynamic or Int8WeightOnly to quantize without it.", model.SourcePath);
            calibration = Calibrator.Run(model, data, options, tensors);
            warnings.AddRange(calibration.Warnings);
            foreach (var (name, s) in calibration.Tensors)
            {
                var (min, max) = RangeEstimators.Estimate(s, options.Method, options.Percentile);
                activations[name] = QuantParams.Asymmetric(min, max, options.Activations, name, warnings);
            }
        }
        // The parameters the int8 plan uses (MaxPool, shape-only ops and shared-parameter Concat keep their input's).
        activations = QdqExporter.PlanActivations(model, activations);
        var weights = QdqExporter.WeightParams(model, activations);
        var corrections = options.Mode == QuantizationMode.Int8 && options.BiasCorrection && !preQuantized && data is not null
            ? BiasCorrection.Compute(model, data, weights, options.BiasCorrectionSamples, options.MaxDegreeOfParallelism) : [];
        // The export describes the int8 plan: corrected biases (the float model keeps its own).
        var qdq = QdqExporter.Export(corrections.Count > 0 ? BiasCorrection.Apply(Pruning.Pruner.Snapshot(model), corrections) : model, activations, weights);
        return new QuantizationResult
        {
            QdqModel = qdq, Activations = activations, Weights = weights, Calibration = calibration, Warnings = warnings,
            Equalized = equalized, BiasCorrections = corrections,
            Layers = Requantization(model, activations, weights),
        };
    }

    /// <summary>The fixed-point multipliers of every quantized Conv/Gemm/MatMul whose input and output are quantized.</summary>
    public static List<LayerRequantization> Requantization(Model model, IReadOnlyDictionary<string, QuantParam> activations, IReadOnlyDictionary<string, ChannelQuantParams> weights)
    {
        var r = new List<LayerRequantization>();
        foreach (var w in QdqExporter.FindWeights(model))
        {
            if (!weights.TryGetValue(w.Weight, out var wp)) continue;
            if (!activations.TryGetValue(w.Node.Inputs[0], out var pin) || !activations.TryGetValue(w.Node.Outputs[0], out var pout)) continue;
            var m = wp.Scales.Select(s => FixedPoint.FromReal(FixedPoint.RealMultiplier(pin.Scale, s, pout.Scale))).ToArray();
            r.Add(new LayerRequantization(w.Node.DisplayName, w.Node.OpType, pin, wp.Scales, pout, m));
        }
        return r;
    }

    /// <summary>Every QuantizeLinear/DequantizeLinear scale of a pre-quantized model must be a positive finite constant (EDGE4006).</summary>
    public static void CheckPreQuantized(Model model)
    {
        var g = model.Graph;
        foreach (var n in g.Nodes)
        {
            if (n.Domain.Length > 0 || n.OpType is not ("QuantizeLinear" or "DequantizeLinear") || n.Inputs.Count < 2) continue;
            if (!g.Initializers.TryGet(n.Inputs[1], out var s))
                throw new EdgeException(EdgeCodes.InvalidQuantParams, $"The scale '{n.Inputs[1]}' is not a constant; EdgeCompile keeps a pre-quantized model's scales only when they are initializers.", model.SourcePath, n.DisplayName, n.OpType);
            try { QuantParams.CheckScales(Operators.Common.MatMulHelpers.DoubleValues(s.Value), $"The scale '{n.Inputs[1]}'"); }
            catch (EdgeException e) { throw e.WithNode(n.DisplayName, n.OpType); }
        }
    }
}
