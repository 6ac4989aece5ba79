namespace EdgeCompile.Compiler.Onnx;

// Plain C# mirrors of the messages in onnx.proto (field numbers live in OnnxReader/OnnxWriter).
// They hold what the file says, unvalidated; the importer (OnnxImporter) turns them into the IR.

/// <summary>ONNX AttributeProto.AttributeType values.</summary>
public enum OnnxAttributeType
{
    Undefined = 0, Float = 1, Int = 2, String = 3, Tensor = 4, Graph = 5, Floats = 6, Ints = 7,
    Strings = 8, Tensors = 9, Graphs = 10, SparseTensor = 11, SparseTensors = 12, TypeProto = 13, TypeProtos = 14,
}

public sealed class StringStringEntry
{
    public string Key { get; set; } = "";
    public string Value { get; set; } = "";
}

public sealed class OperatorSetId
{
    public string Domain { get; set; } = "";
    public long Version { get; set; }
}

public sealed class ModelProto
{
    public long IrVersion { get; set; }
    public List<OperatorSetId> OpsetImport { get; } = new();
    public string ProducerName { get; set; } = "";
    public string ProducerVersion { get; set; } = "";
    public string Domain { get; set; } = "";
    public long ModelVersion { get; set; }
    public string DocString { get; set; } = "";
    public GraphProto? Graph { get; set; }
    public List<StringStringEntry> MetadataProps { get; } = new();
    public List<FunctionProto> Functions { get; } = new();
}

public sealed class GraphProto
{
    public string Name { get; set; } = "";
    public string DocString { get; set; } = "";
    public List<NodeProto> Node { get; } = new();
    public List<TensorProto> Initializer { get; } = new();
    public List<SparseTensorProto> SparseInitializer { get; } = new();
    public List<ValueInfoProto> Input { get; } = new();
    public List<ValueInfoProto> Output { get; } = new();
    public List<ValueInfoProto> ValueInfo { get; } = new();
    public List<TensorAnnotation> QuantizationAnnotation { get; } = new();
    public List<StringStringEntry> MetadataProps { get; } = new();
}

public sealed class TensorAnnotation
{
    public string TensorName { get; set; } = "";
    public List<StringStringEntry> QuantParameterTensorNames { get; } = new();
}

public sealed class NodeProto
{
    public List<string> Input { get; } = new();
    public List<string> Output { get; } = new();
    public string Name { get; set; } = "";
    public string OpType { get; set; } = "";
    public string Domain { get; set; } = "";
    public string Overload { get; set; } = "";
    public List<AttributeProto> Attribute { get; } = new();
    public string DocString { get; set; } = "";
    public List<StringStringEntry> MetadataProps { get; } = new();
}

public sealed class AttributeProto
{
    public string Name { get; set; } = "";
    public string RefAttrName { get; set; } = "";
    public string DocString { get; set; } = "";
    public OnnxAttributeType Type { get; set; }
    public float F { get; set; }
    public long I { get; set; }
    public byte[] S { get; set; } = [];
    public TensorProto? T { get; set; }
    public GraphProto? G { get; set; }
    public SparseTensorProto? SparseTensor { get; set; }
    public TypeProto? Tp { get; set; }
    public List<float> Floats { get; } = new();
    public List<long> Ints { get; } = new();
    public List<byte[]> Strings { get; } = new();
    public List<TensorProto> Tensors { get; } = new();
    public List<GraphProto> Graphs { get; } = new();
    public List<SparseTensorProto> SparseTensors { get; } = new();
    public List<TypeProto> TypeProtos { get; } = new();
    /// <summary>The message's own bytes as read (used to write back kinds the IR carries opaquely).</summary>
    public ReadOnlyMemory<byte> Raw { get; set; }
}

public sealed class ValueInfoProto
{
    public string Name { get; set; } = "";
    public TypeProto? Type { get; set; }
    public string DocString { get; set; } = "";
    public List<StringStringEntry> MetadataProps { get; } = new();
}

public enum TypeKind { None, Tensor, Sequence, Map, Optional, SparseTensor }

public sealed class TypeProto
{
    public TypeKind Kind { get; set; }
    /// <summary>Element type for Tensor/SparseTensor; key type for Map.</summary>
    public DataType ElemType { get; set; }
    /// <summary>Shape for Tensor/SparseTensor; null means unknown rank.</summary>
    public List<DimensionProto>? Shape { get; set; }
    /// <summary>Element type of Sequence/Optional, value type of Map.</summary>
    public TypeProto? Inner { get; set; }
    public string Denotation { get; set; } = "";
}

public sealed class DimensionProto
{
    public long? Value { get; set; }
    public string? Param { get; set; }
    public string Denotation { get; set; } = "";
}

public sealed class TensorProto
{
    public List<long> Dims { get; } = new();
    public DataType DataType { get; set; }
    public string Name { get; set; } = "";
    public string DocString { get; set; } = "";
    /// <summary>raw_data: a slice of the model file (memory-mapped), never copied at load.</summary>
    public ReadOnlyMemory<byte> RawData { get; set; }
    public bool HasRawData { get; set; }
    public List<float> FloatData { get; } = new();
    public List<int> Int32Data { get; } = new();
    public List<byte[]> StringData { get; } = new();
    public List<long> Int64Data { get; } = new();
    public List<double> DoubleData { get; } = new();
    public List<ulong> UInt64Data { get; } = new();
    public List<StringStringEntry> ExternalData { get; } = new();
    /// <summary>data_location: 0 = default, 1 = external.</summary>
    public int DataLocation { get; set; }
    public (long Begin, long End)? Segment { get; set; }
    public List<StringStringEntry> MetadataProps { get; } = new();
}

public sealed class SparseTensorProto
{
    public TensorProto? Values { get; set; }
    public TensorProto? Indices { get; set; }
    public List<long> Dims { get; } = new();
}

public sealed class FunctionProto
{
    public string Name { get; set; } = "";
    public string Domain { get; set; } = "";
    public string Overload { get; set; } = "";
    public List<string> Input { get; } = new();
    public List<string> Output { get; } = new();
    public List<string> Attribute { get; } = new();
    public List<AttributeProto> AttributeProto { get; } = new();
    public List<NodeProto> Node { get; } = new();
    public string DocString { get; set; } = "";
    public List<OperatorSetId> OpsetImport { get; } = new();
    public List<ValueInfoProto> ValueInfo { get; } = new();
    public List<StringStringEntry> MetadataProps { get; } = new();
}
