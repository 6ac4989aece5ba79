using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.Onnx;

namespace EdgeCompile.Compiler.IR;

/// <summary>
/// A constant tensor (initializer or Constant/attribute tensor). It keeps the file's bytes as a slice
/// (zero-copy) and decodes to a <see cref="Tensor"/> only when something needs the values, so loading a
/// large model costs roughly its file size, not twice that.
/// </summary>
public sealed class Constant
{
    private Tensor? _value;
    private readonly TensorProto? _proto;
    private readonly string? _baseDirectory;

    public Constant(string name, Tensor value)
    {
        Name = name;
        DataType = value.DataType;
        Shape = value.Shape;
        _value = value;
    }

    internal Constant(TensorProto proto, string? baseDirectory, string? nameOverride = null)
    {
        Name = nameOverride ?? proto.Name;
        _proto = proto;
        _baseDirectory = baseDirectory;
        DataType = proto.DataType;
        Shape = TensorDecoder.CheckedDims(proto.Dims, Name);
        TensorDecoder.CheckDeclaredSize(proto, Name); // cheap: lengths only, nothing decoded
        if ((proto.DataLocation == 1 || proto.ExternalData.Count > 0) && DataType.IsSupported())
            ExternalData.Locate(proto, baseDirectory, ElementCount * DataType.ElementSize()); // path confinement checked at load
    }

    public string Name { get; }
    public DataType DataType { get; }
    public int[] Shape { get; }
    public long ElementCount => Shapes.Product(Shape);

    /// <summary>The decoded values (decoded once, then cached).</summary>
    public Tensor Value => _value ??= TensorDecoder.Decode(_proto!, _baseDirectory);

    /// <summary>True when the values have not been decoded yet (the bytes still live in the file mapping).</summary>
    public bool IsLazy => _value is null;

    /// <summary>
    /// The stored little-endian bytes without decoding or copying: while the constant is lazy and its data
    /// is inline raw_data, this is the slice of the (memory-mapped) model file. Returns false when the values
    /// were already decoded or are stored in typed fields (float_data ...) or external data; use <see cref="Value"/> then.
    /// The slice is only readable while the model is not disposed.
    /// </summary>
    public bool TryGetRawBytes(out ReadOnlyMemory<byte> bytes)
    {
        if (_value is null && _proto is { HasRawData: true, DataLocation: 0, ExternalData.Count: 0 } p)
        {
            bytes = p.RawData;
            return true;
        }
        bytes = default;
        return false;
    }

    /// <summary>The protobuf this constant came from, if any (the writer reuses its raw bytes).</summary>
    internal TensorProto? Proto => _proto;

    public Constant Rename(string name) => _proto is not null && _value is null ? new Constant(_proto, _baseDirectory, name) : new Constant(name, Value);
    public override string ToString() => $"{Name}: {DataType.OnnxName()}{Shapes.Format(Shape)}";
}
