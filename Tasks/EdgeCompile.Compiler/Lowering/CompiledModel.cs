using EdgeCompile.Compiler.IR;

namespace EdgeCompile.Compiler.Lowering;

/// <summary>Where a value lives at run time.</summary>
public abstract record BufferRef(DataType Type, int Count)
{
    public sealed record Input(int Index, DataType T, int C) : BufferRef(T, C);
    public sealed record Output(int Index, DataType T, int C) : BufferRef(T, C);
    public sealed record Arena(long ByteOffset, DataType T, int C) : BufferRef(T, C);
    public sealed record Weight(long ByteOffset, DataType T, int C) : BufferRef(T, C);
}

/// <summary>A graph input or output as a Run parameter.</summary>
public sealed record Parameter(int Index, string Name, string OnnxName, DataType Type, int[] Shape);

/// <summary>One row of the per-layer report.</summary>
public sealed record LayerReport(string Node, string OpType, string InputShapes, string OutputShape, long Parameters, long Macs, string Precision, string Kernel);

/// <summary>The result of lowering: everything the artifact writer needs.</summary>
public sealed class CompiledModel
{
    public required string ClassName { get; init; }
    public required string Namespace { get; init; }
    public required Model Model { get; init; }
    public required IReadOnlyList<Parameter> Inputs { get; init; }
    public required IReadOnlyList<Parameter> Outputs { get; init; }
    public required IReadOnlyList<(KernelCall Call, BufferRef?[] Buffers)> Calls { get; init; }
    public required byte[] Weights { get; init; }
    public required long ArenaBytes { get; init; }
    public required long Parameters { get; init; }
    public required long Macs { get; init; }
    public required IReadOnlyList<LayerReport> Layers { get; init; }
    /// <summary>
    /// Store the weights file in <see cref="Kernels.WeightCompression"/>'s form when that is at least 10% smaller (set for
    /// magnitude-pruned models, whose zeros compress; dense weights keep the zero-copy load).
    /// </summary>
    public bool CompressWeights { get; set; }
    private byte[]? _stored;
    /// <summary>The bytes of the weights file: <see cref="Weights"/>, or their compressed form.</summary>
    public byte[] StoredWeights => _stored ??= CompressWeights && Kernels.WeightCompression.Encode(Weights) is { } c && c.Length <= Weights.Length * 0.9 ? c : Weights;
    public bool WeightsCompressed => !ReferenceEquals(StoredWeights, Weights);
    /// <summary>Extra report sections (pruning, accuracy) written into both reports with the artifact.</summary>
    public List<ReportSection> Sections { get; } = new();
    private string? _resourceName;
    /// <summary>Logical name of the embedded weights resource (the build passes one that is unique per item).</summary>
    public string ResourceName
    {
        get => _resourceName ?? $"EdgeCompile.{(Namespace.Length > 0 ? Namespace + "." : "")}{ClassName}.weights";
        set => _resourceName = value;
    }
}

/// <summary>A section of the model report: markdown for <c>.report.md</c>, an object under <see cref="JsonKey"/> in <c>.report.json</c>.</summary>
public sealed record ReportSection(string JsonKey, string Markdown, object Json);
