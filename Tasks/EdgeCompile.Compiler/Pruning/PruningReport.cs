using System.Globalization;
using System.Text;

namespace EdgeCompile.Compiler.Pruning;

/// <summary>One weight layer before and after pruning. MACs are dense (what the kernels execute); <see cref="NonZero"/>
/// counts the weights magnitude pruning left.</summary>
public sealed record LayerPruning(
    string Layer, string OpType,
    int OutChannelsBefore, int OutChannelsAfter, int InChannelsBefore, int InChannelsAfter,
    long ParametersBefore, long ParametersAfter, long NonZero, long MacsBefore, long MacsAfter,
    double? ErrorBefore, double? ErrorAfter, string Note)
{
    public double Sparsity => ParametersAfter == 0 ? 0 : 1.0 - (double)NonZero / ParametersAfter;
}

/// <summary>Top-1 of the unpruned and the pruned float model (reference executor) on one data set.</summary>
public sealed record PruningAccuracy(string DataSet, int Rows, bool HasLabels, int CorrectBefore, int CorrectAfter, int Agree)
{
    public double Top1Before => 100.0 * CorrectBefore / Rows;
    public double Top1After => 100.0 * CorrectAfter / Rows;
    public double Drop => Top1Before - Top1After;
    public string Summary() => string.Create(CultureInfo.InvariantCulture,
        $"pruning top-1 on {DataSet} ({Rows} predictions{(HasLabels ? "" : ", no labels: the unpruned model's predictions are the labels")}): before {Top1Before:F2}%, after {Top1After:F2}%, drop {Drop:F2} points; predictions agree on {Agree}/{Rows}");
}

/// <summary>What pruning did, for the model's report (<c>.report.md</c> / <c>.report.json</c>).</summary>
public sealed class PruningReport
{
    public required PruningOptions Options { get; init; }
    public required IReadOnlyList<LayerPruning> Layers { get; init; }
    /// <summary>Coded warnings (EDGE5004: left unpruned, and why).</summary>
    public required IReadOnlyList<string> Warnings { get; init; }
    public required long FloatWeightBytesBefore { get; init; }
    public required long FloatWeightBytesAfter { get; init; }
    /// <summary>How unstructured sparsity is stored and executed on this target.</summary>
    public required string SparseStorage { get; init; }
    public PruningAccuracy? Accuracy { get; set; }

    public string Markdown()
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder("## Pruning\n\n");
        sb.Append(inv, $"`{Options.Canonical()}`\n\n");
        sb.Append("| Layer | Op | Out channels | In channels | Parameters | Sparsity | MACs | Weight bytes (float) | Reconstruction error before → after re-fit | Note |\n");
        sb.Append("|---|---|---:|---:|---:|---:|---:|---:|---:|---|\n");
        foreach (var l in Layers)
        {
            string err = l.ErrorBefore is { } b && l.ErrorAfter is { } a ? string.Create(inv, $"{b:P2} → {a:P2}") : "";
            sb.Append(inv, $"| {l.Layer} | {l.OpType} | {l.OutChannelsBefore} → {l.OutChannelsAfter} | {l.InChannelsBefore} → {l.InChannelsAfter} | {l.ParametersBefore} → {l.ParametersAfter} | {l.Sparsity:P1} | {l.MacsBefore} → {l.MacsAfter} | {4 * l.ParametersBefore} → {4 * l.ParametersAfter} | {err} | {l.Note} |\n");
        }
        long pb = Layers.Sum(l => l.ParametersBefore), pa = Layers.Sum(l => l.ParametersAfter), nz = Layers.Sum(l => l.NonZero);
        long mb = Layers.Sum(l => l.MacsBefore), ma = Layers.Sum(l => l.MacsAfter);
        sb.Append(inv, $"\n**Totals (weight layers):** parameters {pb} → {pa} ({Ratio(pa, pb)}), non-zero {nz}, MACs {mb} → {ma} ({Ratio(ma, mb)}); ");
        sb.Append(inv, $"float weight bytes of the whole model {FloatWeightBytesBefore} → {FloatWeightBytesAfter} ({Ratio(FloatWeightBytesAfter, FloatWeightBytesBefore)}).\n\n");
        sb.Append("Sparse storage: ").Append(SparseStorage).Append("\n\n");
        if (Accuracy is not null) sb.Append(Accuracy.Summary()).Append(".\n\n");
        foreach (var w in Warnings) sb.Append("- ").Append(w).Append('\n');
        return sb.ToString();
    }

    public Dictionary<string, object?> Json() => new()
    {
        ["options"] = Options.Canonical(),
        ["floatWeightBytesBefore"] = FloatWeightBytesBefore,
        ["floatWeightBytesAfter"] = FloatWeightBytesAfter,
        ["sparseStorage"] = SparseStorage,
        ["accuracy"] = Accuracy is null ? null : new Dictionary<string, object>
        {
            ["dataSet"] = Accuracy.DataSet, ["predictions"] = Accuracy.Rows, ["hasLabels"] = Accuracy.HasLabels,
            ["top1Before"] = Accuracy.Top1Before, ["top1After"] = Accuracy.Top1After, ["agree"] = Accuracy.Agree,
        },
        ["layers"] = Layers.Select(l => new Dictionary<string, object?>
        {
            ["layer"] = l.Layer, ["op"] = l.OpType,
            ["outChannelsBefore"] = l.OutChannelsBefore, ["outChannelsAfter"] = l.OutChannelsAfter,
            ["inChannelsBefore"] = l.InChannelsBefore, ["inChannelsAfter"] = l.InChannelsAfter,
            ["parametersBefore"] = l.ParametersBefore, ["parametersAfter"] = l.ParametersAfter, ["nonZero"] = l.NonZero,
            ["macsBefore"] = l.MacsBefore, ["macsAfter"] = l.MacsAfter,
            ["reconstructionErrorBefore"] = l.ErrorBefore, ["reconstructionErrorAfter"] = l.ErrorAfter, ["note"] = l.Note,
        }).ToList(),
        ["warnings"] = Warnings,
    };

    private static string Ratio(long after, long before) =>
        before == 0 ? "n/a" : ((double)after / before).ToString("0.000x", CultureInfo.InvariantCulture);
}
