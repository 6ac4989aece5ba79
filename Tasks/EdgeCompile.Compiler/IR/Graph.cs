namespace EdgeCompile.Compiler.IR;

/// <summary>One dimension: a known size, a named symbol (e.g. "batch"), or unknown.</summary>
public readonly record struct Dim(long Value, string? Param)
{
    public static Dim Known(long v) => new(v, null);
    public static Dim Symbol(string name) => new(-1, name);
    public static readonly Dim Unknown = new(-1, null);
    public bool IsKnown => Value >= 0;
    public override string ToString() => IsKnown ? Value.ToString(System.Globalization.CultureInfo.InvariantCulture) : Param ?? "?";
    public static implicit operator Dim(long v) => Known(v);
}

/// <summary>The static type of a value: element type and shape (null shape = unknown rank).
/// Non-tensor ONNX types (sequence, map, optional) are carried as <see cref="Kind"/> so we can say what is unsupported.</summary>
public sealed record ValueType(DataType ElemType, Dim[]? Shape, Onnx.TypeKind Kind = Onnx.TypeKind.Tensor)
{
    public bool IsTensor => Kind == Onnx.TypeKind.Tensor;
    /// <summary>For non-tensor kinds, the type as the file gave it (element types of sequences, maps, optionals).</summary>
    public Onnx.TypeProto? NonTensorProto { get; init; }
    public bool HasStaticShape => Shape is not null && Shape.All(d => d.IsKnown);
    /// <summary>The shape as ints when every dim is known; a dim over 2^31-1 (declared in the file or inferred) is EDGE1103.</summary>
    public int[]? StaticShape => HasStaticShape ? Shape!.Select(d => d.Value <= int.MaxValue ? (int)d.Value
        : throw new Diagnostics.EdgeException(Diagnostics.EdgeCodes.InvalidDimension, $"Dimension {d.Value} of a {ElemType.OnnxName()} value is larger than the supported 2^31-1.")).ToArray() : null;
    public static ValueType FromShape(DataType t, int[] shape) => new(t, shape.Select(d => Dim.Known(d)).ToArray());
    public bool Equals(ValueType? other) => other is not null && ElemType == other.ElemType && Kind == other.Kind &&
        (Shape is null ? other.Shape is null : other.Shape is not null && Shape.SequenceEqual(other.Shape));
    public override int GetHashCode() => HashCode.Combine(ElemType, Kind, Shape?.Length ?? -1);
    public override string ToString() => Kind != Onnx.TypeKind.Tensor ? Kind.ToString().ToLowerInvariant() :
        $"{ElemType.OnnxName()}{(Shape is null ? "[?]" : "[" + string.Join(",", Shape) + "]")}";
}

/// <summary>A named value with its (possibly unknown) type.</summary>
public sealed class ValueInfo(string name, ValueType? type)
{
    public string Name { get; set; } = name;
    public ValueType? Type { get; set; } = type;
    public string DocString { get; set; } = "";
    public override string ToString() => $"{Name}: {Type?.ToString() ?? "?"}";
}

public enum AttributeKind { Float, Int, String, Tensor, Graph, Floats, Ints, Strings, Tensors, Graphs, SparseTensor, SparseTensors, TypeProto, TypeProtos }

/// <summary>A node attribute. Only the member matching <see cref="Kind"/> is meaningful.</summary>
public sealed class Attribute
{
    public required string Name { get; init; }
    public required AttributeKind Kind { get; init; }
    public float F { get; init; }
    public long I { get; init; }
    public byte[] S { get; init; } = [];
    public Constant? T { get; init; }
    public Graph? G { get; init; }
    public float[] Floats { get; init; } = [];
    public long[] Ints { get; init; } = [];
    public byte[][] Strings { get; init; } = [];
    public Constant[] Tensors { get; init; } = [];
    public Graph[] Graphs { get; init; } = [];
    /// <summary>Kinds we carry only as their protobuf form (sparse tensors, type protos), kept so writing round-trips.</summary>
    public Onnx.AttributeProto? Opaque { get; init; }
    public string StringValue => System.Text.Encoding.UTF8.GetString(S);
}

/// <summary>One operator application.</summary>
public sealed class Node
{
    public string Name { get; set; } = "";
    public required string OpType { get; set; }
    public string Domain { get; set; } = "";
    public List<string> Inputs { get; init; } = new();
    public List<string> Outputs { get; init; } = new();
    public List<Attribute> Attributes { get; init; } = new();
    public string DocString { get; set; } = "";

    public Attribute? GetAttribute(string name) => Attributes.FirstOrDefault(a => a.Name == name);

    /// <summary>A name for messages: the node name, else its first output.</summary>
    public string DisplayName => Name.Length > 0 ? Name : Outputs.FirstOrDefault(o => o.Length > 0) ?? "(unnamed)";
    public override string ToString() => $"{OpType}({string.Join(", ", Inputs)}) -> {string.Join(", ", Outputs)}";
}

/// <summary>A graph: nodes in topological order, typed inputs/outputs, constant initializers.</summary>
public sealed class Graph
{
    public string Name { get; set; } = "";
    public string DocString { get; set; } = "";
    public List<Node> Nodes { get; init; } = new();
    public List<ValueInfo> Inputs { get; init; } = new();
    public List<ValueInfo> Outputs { get; init; } = new();
    /// <summary>Known types of intermediate values (from the file's value_info and from shape inference).</summary>
    public Dictionary<string, ValueType> ValueTypes { get; init; } = new(StringComparer.Ordinal);
    /// <summary>Initializers by name, in file order.</summary>
    public OrderedConstants Initializers { get; init; } = new();
    /// <summary>Quantization annotations and metadata, carried for round-tripping.</summary>
    public List<Onnx.TensorAnnotation> QuantizationAnnotations { get; init; } = new();
    public List<KeyValuePair<string, string>> Metadata { get; init; } = new();

    /// <summary>The type of any value: graph input, initializer, or inferred/declared intermediate.</summary>
    public ValueType? TypeOf(string name)
    {
        if (ValueTypes.TryGetValue(name, out var t)) return t;
        if (Initializers.TryGet(name, out var c)) return ValueType.FromShape(c.DataType, c.Shape);
        foreach (var i in Inputs) if (i.Name == name) return i.Type;
        foreach (var o in Outputs) if (o.Name == name) return o.Type;
        return null;
    }
}

/// <summary>Initializers keyed by name, keeping insertion order (deterministic output).</summary>
public sealed class OrderedConstants : IEnumerable<Constant>
{
    private readonly List<Constant> _list = new();
    private readonly Dictionary<string, Constant> _byName = new(StringComparer.Ordinal);
    public int Count => _list.Count;
    public bool Contains(string name) => _byName.ContainsKey(name);
    public bool TryGet(string name, out Constant c) => _byName.TryGetValue(name, out c!);
    public Constant this[string name] => _byName[name];
    public void Add(Constant c) { _byName.Add(c.Name, c); _list.Add(c); }
    public void Set(Constant c) { if (_byName.ContainsKey(c.Name)) Remove(c.Name); Add(c); }
    public bool Remove(string name)
    {
        if (!_byName.Remove(name, out var c)) return false;
        _list.Remove(c);
        return true;
    }
    public IEnumerator<Constant> GetEnumerator() => _list.GetEnumerator();
    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>A whole model: graph, operator set versions, producer and metadata.</summary>
public sealed class Model : IDisposable
{
    public long IrVersion { get; set; } = 8;
    public string ProducerName { get; set; } = "";
    public string ProducerVersion { get; set; } = "";
    public string Domain { get; set; } = "";
    public long ModelVersion { get; set; }
    public string DocString { get; set; } = "";
    /// <summary>Operator set version per domain ("" is ai.onnx).</summary>
    public SortedDictionary<string, long> Opsets { get; init; } = new(StringComparer.Ordinal);
    public List<KeyValuePair<string, string>> Metadata { get; init; } = new();
    public required Graph Graph { get; init; }
    /// <summary>The file the model came from, for diagnostics; null for models built in memory.</summary>
    public string? SourcePath { get; set; }
    /// <summary>Full paths of the external-data files the model file references (sorted, distinct; confined to its folder).</summary>
    public IReadOnlyList<string> ExternalDataFiles { get; set; } = [];
    /// <summary>Keeps the memory-mapped file alive while constants reference it.</summary>
    internal IDisposable? Backing { get; set; }

    /// <summary>
    /// Releases the file mapping now instead of at garbage collection. Constants not yet decoded can no
    /// longer be read afterwards (they throw <see cref="ObjectDisposedException"/>).
    /// </summary>
    public void Dispose() => Backing?.Dispose();

    public long OpsetFor(string domain) =>
        Opsets.TryGetValue(domain == "ai.onnx" ? "" : domain, out var v) ? v : 0;
}
