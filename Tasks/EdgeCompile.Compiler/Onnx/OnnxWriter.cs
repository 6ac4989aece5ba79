using Google.Protobuf;
using EdgeCompile.Compiler.IR;
using Attribute = EdgeCompile.Compiler.IR.Attribute;
using ValueType = EdgeCompile.Compiler.IR.ValueType;

namespace EdgeCompile.Compiler.Onnx;

/// <summary>
/// IR → <c>.onnx</c> bytes, with Google.Protobuf's wire-format primitives (<see cref="CodedOutputStream"/>).
/// Field numbers are those of onnx.proto, as in <see cref="OnnxReader"/>. Constants that still hold their
/// file bytes are written from that slice without decoding. Functions were inlined at import, so none are
/// written; external data is written inline (the writer produces one self-contained file).
/// Output is deterministic: the same IR gives the same bytes.
/// </summary>
public static class OnnxWriter
{
    public static byte[] Write(Model model)
    {
        using var ms = new MemoryStream();
        Write(model, ms);
        return ms.ToArray();
    }

    public static void Write(Model model, Stream stream)
    {
        var o = new CodedOutputStream(stream, leaveOpen: true);
        WriteModel(o, model);
        o.Flush();
    }

    /// <summary>Writes a file atomically: to a temporary name in the same folder, then renamed over the target.</summary>
    public static void WriteFile(Model model, string path)
    {
        string tmp = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
        try
        {
            using (var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write))
                Write(model, fs);
            File.Move(tmp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(tmp)) File.Delete(tmp);
        }
    }

    /// <summary>A serialized TensorProto (the ONNX test-data format).</summary>
    public static byte[] WriteTensor(Tensor t, string name = "")
    {
        using var ms = new MemoryStream();
        var o = new CodedOutputStream(ms, leaveOpen: true);
        WriteTensorBody(o, new Constant(name, t));
        o.Flush();
        return ms.ToArray();
    }

    private static void Message(CodedOutputStream o, int field, Action<CodedOutputStream> body)
    {
        using var ms = new MemoryStream();
        var sub = new CodedOutputStream(ms, leaveOpen: true);
        body(sub);
        sub.Flush();
        o.WriteTag(field, WireFormat.WireType.LengthDelimited);
        o.WriteBytes(UnsafeByteOperations.UnsafeWrap(ms.GetBuffer().AsMemory(0, (int)ms.Length)));
    }

    private static void Str(CodedOutputStream o, int field, string value)
    {
        if (value.Length == 0) return;
        o.WriteTag(field, WireFormat.WireType.LengthDelimited);
        o.WriteString(value);
    }

    private static void Int(CodedOutputStream o, int field, long value)
    {
        if (value == 0) return;
        o.WriteTag(field, WireFormat.WireType.Varint);
        o.WriteInt64(value);
    }

    private static void Entry(CodedOutputStream o, int field, string key, string value) =>
        Message(o, field, m => { Str(m, 1, key); Str(m, 2, value); });

    private static void WriteModel(CodedOutputStream o, Model model)
    {
        Int(o, 1, model.IrVersion);
        Str(o, 2, model.ProducerName);
        Str(o, 3, model.ProducerVersion);
        Str(o, 4, model.Domain);
        Int(o, 5, model.ModelVersion);
        Str(o, 6, model.DocString);
        Message(o, 7, g => WriteGraph(g, model.Graph));
        foreach (var (domain, version) in model.Opsets)
            Message(o, 8, m => { Str(m, 1, domain); Int(m, 2, version); });
        foreach (var kv in model.Metadata) Entry(o, 14, kv.Key, kv.Value);
    }

    private static void WriteGraph(CodedOutputStream o, Graph g)
    {
        foreach (var n in g.Nodes) Message(o, 1, m => WriteNode(m, n));
        Str(o, 2, g.Name);
        foreach (var c in g.Initializers) Message(o, 5, m => WriteTensorBody(m, c));
        Str(o, 10, g.DocString);
        foreach (var i in g.Inputs) Message(o, 11, m => WriteValueInfo(m, i.Name, i.Type, i.DocString));
        foreach (var i in g.Outputs) Message(o, 12, m => WriteValueInfo(m, i.Name, i.Type, i.DocString));
        var io = new HashSet<string>(g.Inputs.Select(i => i.Name).Concat(g.Outputs.Select(i => i.Name)), StringComparer.Ordinal);
        foreach (var (name, type) in g.ValueTypes.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            if (!io.Contains(name)) Message(o, 13, m => WriteValueInfo(m, name, type, ""));
        foreach (var a in g.QuantizationAnnotations)
            Message(o, 14, m =>
            {
                Str(m, 1, a.TensorName);
                foreach (var e in a.QuantParameterTensorNames) Entry(m, 2, e.Key, e.Value);
            });
        foreach (var kv in g.Metadata) Entry(o, 16, kv.Key, kv.Value);
    }

    private static void WriteNode(CodedOutputStream o, Node n)
    {
        // Inputs/outputs are positional: empty names (omitted optional inputs) must be written too.
        foreach (var i in n.Inputs) { o.WriteTag(1, WireFormat.WireType.LengthDelimited); o.WriteString(i); }
        foreach (var x in n.Outputs) { o.WriteTag(2, WireFormat.WireType.LengthDelimited); o.WriteString(x); }
        Str(o, 3, n.Name);
        Str(o, 4, n.OpType);
        foreach (var a in n.Attributes)
        {
            if (a.Opaque is { Raw.Length: > 0 } raw && a.T is null)
            {
                // Kinds the IR does not model (type protos, sparse tensor lists): the attribute's bytes as read.
                o.WriteTag(5, WireFormat.WireType.LengthDelimited);
                o.WriteBytes(UnsafeByteOperations.UnsafeWrap(raw.Raw));
            }
            else Message(o, 5, m => WriteAttribute(m, a));
        }
        Str(o, 6, n.DocString);
        Str(o, 7, n.Domain);
    }

    private static void WriteAttribute(CodedOutputStream o, Attribute a)
    {
        Str(o, 1, a.Name);
        switch (a.Kind)
        {
            case AttributeKind.Float: o.WriteTag(2, WireFormat.WireType.Fixed32); o.WriteFloat(a.F); break;
            case AttributeKind.Int: o.WriteTag(3, WireFormat.WireType.Varint); o.WriteInt64(a.I); break;
            case AttributeKind.String: o.WriteTag(4, WireFormat.WireType.LengthDelimited); o.WriteBytes(ByteString.CopyFrom(a.S)); break;
            case AttributeKind.Tensor: Message(o, 5, m => WriteTensorBody(m, a.T!)); break;
            case AttributeKind.Graph: Message(o, 6, m => WriteGraph(m, a.G!)); break;
            case AttributeKind.Floats: foreach (var f in a.Floats) { o.WriteTag(7, WireFormat.WireType.Fixed32); o.WriteFloat(f); } break;
            case AttributeKind.Ints: foreach (var i in a.Ints) { o.WriteTag(8, WireFormat.WireType.Varint); o.WriteInt64(i); } break;
            case AttributeKind.Strings: foreach (var s in a.Strings) { o.WriteTag(9, WireFormat.WireType.LengthDelimited); o.WriteBytes(ByteString.CopyFrom(s)); } break;
            case AttributeKind.Tensors: foreach (var t in a.Tensors) Message(o, 10, m => WriteTensorBody(m, t)); break;
            case AttributeKind.Graphs: foreach (var g in a.Graphs) Message(o, 11, m => WriteGraph(m, g)); break;
            case AttributeKind.SparseTensor when a.T is not null:
                // Sparse attributes were densified at import; write the dense form as a sparse tensor with all indices.
                Message(o, 22, m => WriteDenseAsSparse(m, a.T)); break;
            default:
                throw new NotSupportedException($"Writing attribute kind {a.Kind} is not supported.");
        }
        o.WriteTag(20, WireFormat.WireType.Varint);
        o.WriteInt32(a.Kind switch
        {
            AttributeKind.Float => 1, AttributeKind.Int => 2, AttributeKind.String => 3, AttributeKind.Tensor => 4, AttributeKind.Graph => 5,
            AttributeKind.Floats => 6, AttributeKind.Ints => 7, AttributeKind.Strings => 8, AttributeKind.Tensors => 9, AttributeKind.Graphs => 10,
            AttributeKind.SparseTensor => 11, AttributeKind.SparseTensors => 12, AttributeKind.TypeProto => 13, _ => 14,
        });
    }

    private static void WriteDenseAsSparse(CodedOutputStream o, Constant c)
    {
        var v = c.Value;
        Message(o, 1, m => WriteTensorBody(m, new Constant(c.Name, v.Reshape([v.Length]))));
        var idx = Tensor.FromArray(Enumerable.Range(0, v.Length).Select(i => (long)i).ToArray(), v.Length);
        Message(o, 2, m => WriteTensorBody(m, new Constant("", idx)));
        foreach (var d in v.Shape) { o.WriteTag(3, WireFormat.WireType.Varint); o.WriteInt64(d); }
    }

    private static void WriteTensorBody(CodedOutputStream o, Constant c)
    {
        if (c.IsLazy && c.Proto is { } proto && (proto.DataLocation == 0 && proto.ExternalData.Count == 0 || !c.DataType.IsSupported()))
        {
            WriteProtoVerbatim(o, proto, c.Name); // still the file's bytes: no decode, no copy; also keeps types we do not decode
            return;
        }
        foreach (var d in c.Shape) { o.WriteTag(1, WireFormat.WireType.Varint); o.WriteInt64(d); }
        o.WriteTag(2, WireFormat.WireType.Varint);
        o.WriteInt32((int)c.DataType);
        Str(o, 8, c.Name);
        o.WriteTag(9, WireFormat.WireType.LengthDelimited);
        o.WriteBytes(UnsafeByteOperations.UnsafeWrap(TensorDecoder.ToRaw(c.Value)));
    }

    private static void WriteProtoVerbatim(CodedOutputStream o, TensorProto p, string name)
    {
        foreach (var d in p.Dims) { o.WriteTag(1, WireFormat.WireType.Varint); o.WriteInt64(d); }
        o.WriteTag(2, WireFormat.WireType.Varint);
        o.WriteInt32((int)p.DataType);
        foreach (var v in p.FloatData) { o.WriteTag(4, WireFormat.WireType.Fixed32); o.WriteFloat(v); }
        foreach (var v in p.Int32Data) { o.WriteTag(5, WireFormat.WireType.Varint); o.WriteInt32(v); }
        foreach (var v in p.StringData) { o.WriteTag(6, WireFormat.WireType.LengthDelimited); o.WriteBytes(ByteString.CopyFrom(v)); }
        foreach (var v in p.Int64Data) { o.WriteTag(7, WireFormat.WireType.Varint); o.WriteInt64(v); }
        Str(o, 8, name);
        if (p.HasRawData) { o.WriteTag(9, WireFormat.WireType.LengthDelimited); o.WriteBytes(UnsafeByteOperations.UnsafeWrap(p.RawData)); }
        foreach (var v in p.DoubleData) { o.WriteTag(10, WireFormat.WireType.Fixed64); o.WriteDouble(v); }
        foreach (var v in p.UInt64Data) { o.WriteTag(11, WireFormat.WireType.Varint); o.WriteUInt64(v); }
        Str(o, 12, p.DocString);
        foreach (var e in p.ExternalData) Entry(o, 13, e.Key, e.Value);
        Int(o, 14, p.DataLocation);
    }

    private static void WriteTypeProto(CodedOutputStream o, TypeProto t)
    {
        switch (t.Kind)
        {
            case TypeKind.Tensor:
            case TypeKind.SparseTensor:
                Message(o, t.Kind == TypeKind.Tensor ? 1 : 8, tt =>
                {
                    Int(tt, 1, (long)t.ElemType);
                    if (t.Shape is null) return;
                    Message(tt, 2, sh =>
                    {
                        foreach (var d in t.Shape)
                            Message(sh, 1, dm =>
                            {
                                if (d.Value is long v) { dm.WriteTag(1, WireFormat.WireType.Varint); dm.WriteInt64(v); }
                                else if (d.Param is not null) Str(dm, 2, d.Param);
                                Str(dm, 3, d.Denotation);
                            });
                    });
                });
                break;
            case TypeKind.Sequence:
            case TypeKind.Optional:
                Message(o, t.Kind == TypeKind.Sequence ? 4 : 9, s => { if (t.Inner is not null) Message(s, 1, e => WriteTypeProto(e, t.Inner)); });
                break;
            case TypeKind.Map:
                Message(o, 5, s => { Int(s, 1, (long)t.ElemType); if (t.Inner is not null) Message(s, 2, e => WriteTypeProto(e, t.Inner)); });
                break;
        }
        Str(o, 6, t.Denotation);
    }

    private static void WriteValueInfo(CodedOutputStream o, string name, ValueType? type, string doc)
    {
        Str(o, 1, name);
        if (type is not null) Message(o, 2, m => WriteType(m, type));
        Str(o, 3, doc);
    }

    private static void WriteType(CodedOutputStream o, ValueType t)
    {
        if (!t.IsTensor)
        {
            if (t.NonTensorProto is not null) WriteTypeProto(o, t.NonTensorProto);
            return;
        }
        Message(o, 1, tt =>
        {
            Int(tt, 1, (long)t.ElemType);
            if (t.Shape is null) return;
            Message(tt, 2, sh =>
            {
                foreach (var d in t.Shape)
                    Message(sh, 1, dm =>
                    {
                        if (d.IsKnown) { dm.WriteTag(1, WireFormat.WireType.Varint); dm.WriteInt64(d.Value); }
                        else if (d.Param is not null) Str(dm, 2, d.Param);
                    });
            });
        });
    }
}
