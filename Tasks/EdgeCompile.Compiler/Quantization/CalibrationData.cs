using EdgeCompile.Compiler.Data;
using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.IR;

namespace EdgeCompile.Compiler.Quantization;

/// <summary>
/// A calibration set checked against a model's inputs (the <c>CalibrationData</c> contract):
/// <list type="bullet">
/// <item>a <c>.npy</c> for a model with one input, or an <c>.npz</c> whose arrays are named after the inputs
/// (every input that has no initializer default needs one; an array for no input is an error);</item>
/// <item>the first axis counts samples; the remaining axes equal the input's shape without its leading batch
/// dim of 1 (<c>[N, 1, 8, 8]</c> for an input <c>[1, 1, 8, 8]</c>), or the whole input shape
/// (<c>[N, 1, 1, 8, 8]</c>); a symbolic input dim takes the data's size;</item>
/// <item>the dtype equals the input's element type; floats are finite; all arrays count the same samples.</item>
/// </list>
/// Violations are EDGE4001 (mismatch), EDGE4002 (NaN/Inf), EDGE4003 (no samples; fewer than
/// <see cref="QuantizationOptions.RecommendedMinSamples"/> is a warning in <see cref="Warnings"/>).
/// </summary>
public sealed class CalibrationData
{
    private readonly (string Name, Tensor Data, int[] SampleShape)[] _arrays;

    private CalibrationData((string, Tensor, int[])[] arrays, int count, List<QuantWarning> warnings)
    {
        _arrays = arrays;
        SampleCount = count;
        Warnings = warnings;
    }

    public int SampleCount { get; }
    public IReadOnlyList<QuantWarning> Warnings { get; }
    public IEnumerable<string> InputNames => _arrays.Select(a => a.Name);

    /// <summary>Loads a <c>.npy</c> or <c>.npz</c> file (by extension) and validates it against <paramref name="model"/>.</summary>
    public static CalibrationData Load(string path, Model model)
    {
        try
        {
            IReadOnlyList<KeyValuePair<string, Tensor>> arrays;
            if (path.EndsWith(".npz", StringComparison.OrdinalIgnoreCase)) arrays = NpzFile.Load(path);
            else if (path.EndsWith(".npy", StringComparison.OrdinalIgnoreCase))
            {
                var inputs = FeedInputs(model);
                if (inputs.Count != 1)
                    throw new EdgeException(EdgeCodes.CalibrationDataMismatch,
                        $"The model has {inputs.Count} inputs ({string.Join(", ", inputs.Select(i => i.Name))}); give an .npz with one array per input, named after it.");
                arrays = [new(inputs[0].Name, NpyFile.Load(path))];
            }
            else throw new EdgeException(EdgeCodes.DataFileUnreadable, $"Calibration data must be a .npy or .npz file, got '{Path.GetFileName(path)}'.");
            return FromArrays(arrays, model);
        }
        catch (EdgeException e) { throw e.WithFile(path); }
    }

    /// <summary>The graph inputs a caller must feed (those without an initializer default).</summary>
    public static List<ValueInfo> FeedInputs(Model model) =>
        model.Graph.Inputs.Where(i => !model.Graph.Initializers.Contains(i.Name)).ToList();

    /// <summary>Validates arrays (name → [samples, ...]) against the model's inputs.</summary>
    public static CalibrationData FromArrays(IReadOnlyList<KeyValuePair<string, Tensor>> arrays, Model model)
    {
        var inputs = FeedInputs(model);
        var byName = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, t) in arrays)
            if (!byName.TryAdd(name, t))
                throw new EdgeException(EdgeCodes.CalibrationDataMismatch, $"Calibration array '{name}' is given twice.");
        var extra = byName.Keys.Where(k => inputs.All(i => i.Name != k)).ToList();
        if (extra.Count > 0)
            throw new EdgeException(EdgeCodes.CalibrationDataMismatch,
                $"Calibration array(s) {string.Join(", ", extra.Select(e => $"'{e}'"))} name no model input; the inputs are {string.Join(", ", inputs.Select(i => $"'{i.Name}'"))}.");
        var result = new List<(string, Tensor, int[])>();
        int count = -1;
        foreach (var input in inputs)
        {
            if (!byName.TryGetValue(input.Name, out var data))
                throw new EdgeException(EdgeCodes.CalibrationDataMismatch, $"Model input '{input.Name}' has no calibration array.");
            var type = input.Type ?? throw new EdgeException(EdgeCodes.CalibrationDataMismatch, $"Model input '{input.Name}' has no declared type; calibration needs its type and shape.");
            if (data.DataType != type.ElemType)
                throw new EdgeException(EdgeCodes.CalibrationDataMismatch,
                    $"Calibration array '{input.Name}' is {data.DataType.OnnxName()}, but the model input is {type.ElemType.OnnxName()}; save it with that dtype.");
            if (data.Rank == 0)
                throw new EdgeException(EdgeCodes.CalibrationDataMismatch, $"Calibration array '{input.Name}' is a scalar; its first axis must count samples.");
            var sampleShape = SampleShape(input, type, data.Shape);
            int n = data.Shape[0];
            if (count >= 0 && n != count)
                throw new EdgeException(EdgeCodes.CalibrationDataMismatch, $"Calibration array '{input.Name}' has {n} samples, but the others have {count}.");
            count = n;
            CheckFinite(input.Name, data);
            result.Add((input.Name, data, sampleShape));
        }
        var warnings = new List<QuantWarning>();
        if (count <= 0)
            throw new EdgeException(EdgeCodes.TooFewCalibrationSamples, "The calibration data holds no samples.");
        if (count < QuantizationOptions.RecommendedMinSamples)
            warnings.Add(new QuantWarning(EdgeCodes.TooFewCalibrationSamples,
                $"Only {count} calibration sample(s); ranges from fewer than {QuantizationOptions.RecommendedMinSamples} rarely cover real inputs (use a few hundred)."));
        return new CalibrationData(result.ToArray(), count, warnings);
    }

    /// <summary>
    /// The shape of one sample as fed to the model: data [N, rest...] with rest equal to the input shape without
    /// its leading 1 (→ [1, rest...]) or to the whole input shape (→ rest). Symbolic dims match any size.
    /// </summary>
    private static int[] SampleShape(ValueInfo input, IR.ValueType type, int[] dataShape)
    {
        var rest = dataShape[1..];
        if (type.Shape is null) return rest; // unknown rank: the data defines it
        var s = type.Shape;
        static bool Matches(Dim[] want, int[] got) => want.Length == got.Length && want.Zip(got).All(p => !p.First.IsKnown || p.First.Value == p.Second);
        bool leadingOne = s.Length > 0 && (!s[0].IsKnown || s[0].Value == 1);
        if (leadingOne && Matches(s[1..], rest)) return [1, .. rest];
        if (Matches(s, rest)) return rest;
        string want = $"[{string.Join(", ", s.Select(d => d.ToString()))}]";
        string wantNoBatch = leadingOne ? $"[N, {string.Join(", ", s[1..].Select(d => d.ToString()))}] or " : "";
        throw new EdgeException(EdgeCodes.CalibrationDataMismatch,
            $"Calibration array '{input.Name}' has shape {Shapes.Format(dataShape)}; for the model input {input.Name}{want} it must be {wantNoBatch}[N, {string.Join(", ", s.Select(d => d.ToString()))}] (N = samples).");
    }

    private static void CheckFinite(string name, Tensor data)
    {
        if (!data.DataType.IsFloat()) return;
        var v = Operators.Common.MatMulHelpers.DoubleValues(data);
        int per = data.Shape[0] == 0 ? 1 : v.Length / data.Shape[0];
        for (int i = 0; i < v.Length; i++)
            if (!double.IsFinite(v[i]))
                throw new EdgeException(EdgeCodes.CalibrationDataNotFinite,
                    $"Calibration array '{name}' holds {v[i]} at sample {i / Math.Max(per, 1)} (flat index {i}); calibration data must be finite.");
    }

    /// <summary>The inputs of sample <paramref name="index"/>: one tensor per model input, shaped as the model expects (copied).</summary>
    public Dictionary<string, Tensor> Sample(int index)
    {
        if ((uint)index >= (uint)SampleCount) throw new ArgumentOutOfRangeException(nameof(index));
        var d = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, data, shape) in _arrays)
        {
            int per = data.Length / SampleCount;
            var arr = Array.CreateInstance(data.DataType.ClrType(), per);
            Array.Copy(data.Data, (long)index * per, arr, 0, per);
            d[name] = new Tensor(data.DataType, shape, arr);
        }
        return d;
    }

    /// <summary>Every sample in order.</summary>
    public IEnumerable<Dictionary<string, Tensor>> Samples()
    {
        for (int i = 0; i < SampleCount; i++) yield return Sample(i);
    }
}
