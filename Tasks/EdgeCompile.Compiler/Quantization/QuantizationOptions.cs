using EdgeCompile.Compiler.Diagnostics;

namespace EdgeCompile.Compiler.Quantization;

/// <summary>The <c>Quantization</c> metadata of an <c>EdgeModel</c> item.</summary>
public enum QuantizationMode
{
    /// <summary>Float32 throughout.</summary>
    None,
    /// <summary>Static int8: weights per channel, activations per tensor with ranges calibrated at build time.</summary>
    Int8,
    /// <summary>Int8 weights; activation ranges measured at run time (no calibration data).</summary>
    Int8Dynamic,
    /// <summary>Int8 weights dequantized to float; activations stay float.</summary>
    Int8WeightOnly,
    /// <summary>Mixed precision: static int8 per layer, float32 where needed to meet MaxAccuracyDrop (docs/mixed-precision.md).</summary>
    Auto,
}

/// <summary>How a calibrated histogram becomes a clipping range (docs/quantization.md compares them).</summary>
public enum CalibrationMethod { MinMax, Percentile, Entropy, Mse }

/// <summary>Element type of quantized activations (both asymmetric, per tensor).</summary>
public enum ActivationType { UInt8, Int8 }

/// <summary>A non-fatal problem found while quantizing (a coded warning, e.g. EDGE4003/EDGE4004).</summary>
public sealed record QuantWarning(string Code, string Message, string? Tensor = null)
{
    public override string ToString() => $"warning {Code}: {(Tensor is null ? "" : $"tensor '{Tensor}': ")}{Message}";
}

/// <summary>Options of post-training quantization. <see cref="Validate"/> turns bad values into EDGE4005.</summary>
public sealed record QuantizationOptions
{
    public QuantizationMode Mode { get; init; } = QuantizationMode.Int8;
    /// <summary>The default was chosen from the measurements in docs/quantization.md.</summary>
    public CalibrationMethod Method { get; init; } = DefaultMethod;
    /// <summary>For <see cref="CalibrationMethod.Percentile"/>: the percentile of |x| kept unclipped, in (0, 100].</summary>
    public double Percentile { get; init; } = 99.99;
    public ActivationType Activations { get; init; } = ActivationType.UInt8;
    /// <summary>Histogram bins per tensor (over [0, max |x|]).</summary>
    public int Bins { get; init; } = 2048;
    /// <summary>Threads for calibration (-1 = all cores). Results do not depend on it.</summary>
    public int MaxDegreeOfParallelism { get; init; } = -1;
    /// <summary>Fold inference BatchNormalization into the preceding Conv before calibrating (standard for PTQ).</summary>
    public bool FoldBatchNorm { get; init; } = true;
    /// <summary>Static int8 (Int8, Auto): cross-layer equalization before calibration (<see cref="CrossLayerEqualization"/>;
    /// metadata <c>Equalization="false"</c> turns it off). Default on: measured in docs/quantization.md ("Graph preparation").</summary>
    public bool Equalization { get; init; } = true;
    /// <summary>Static int8 (Int8, Auto): empirical bias correction of the int8 layers (<see cref="BiasCorrection"/>;
    /// metadata <c>BiasCorrection="false"</c> turns it off). Default on: measured in docs/quantization.md.</summary>
    public bool BiasCorrection { get; init; } = true;
    /// <summary>Calibration samples bias correction reads (the first ones).</summary>
    public int BiasCorrectionSamples { get; init; } = 256;

    public const CalibrationMethod DefaultMethod = CalibrationMethod.Percentile;

    /// <summary>Fewer samples than this is warning EDGE4003.</summary>
    public const int RecommendedMinSamples = 16;

    public static CalibrationMethod ParseMethod(string s) => Enum.TryParse<CalibrationMethod>(s, ignoreCase: true, out var m) && Enum.IsDefined(m)
        ? m : throw new EdgeException(EdgeCodes.InvalidQuantizationOption, $"CalibrationMethod '{s}' is unknown (use MinMax, Percentile, Entropy or Mse).");

    public static QuantizationMode ParseMode(string s) => Enum.TryParse<QuantizationMode>(s, ignoreCase: true, out var m) && Enum.IsDefined(m)
        ? m : throw new EdgeException(EdgeCodes.InvalidQuantizationOption, $"Quantization '{s}' is unknown (use None, Int8, Int8Dynamic, Int8WeightOnly or Auto).");

    /// <summary>A true/false metadata switch; empty means <paramref name="default"/> (EDGE4005 otherwise).</summary>
    public static bool ParseSwitch(string text, string name, bool @default) =>
        text is not { Length: > 0 } t ? @default
        : bool.TryParse(t.Trim(), out bool v) ? v
        : throw new EdgeException(EdgeCodes.InvalidQuantizationOption, $"{name} '{t}' is not 'true' or 'false'.");

    public void Validate()
    {
        if (!(Percentile > 0 && Percentile <= 100))
            throw new EdgeException(EdgeCodes.InvalidQuantizationOption, $"CalibrationPercentile must be in (0, 100], got {Percentile}.");
        if (Bins < 128 || Bins > 1 << 20)
            throw new EdgeException(EdgeCodes.InvalidQuantizationOption, $"The histogram needs 128 to 2^20 bins, got {Bins}.");
        if (MaxDegreeOfParallelism == 0 || MaxDegreeOfParallelism < -1)
            throw new EdgeException(EdgeCodes.InvalidQuantizationOption, $"MaxDegreeOfParallelism must be -1 or positive, got {MaxDegreeOfParallelism}.");
        if (!Enum.IsDefined(Method) || !Enum.IsDefined(Mode) || !Enum.IsDefined(Activations))
            throw new EdgeException(EdgeCodes.InvalidQuantizationOption, "Unknown quantization mode, calibration method or activation type.");
    }
}
