using EdgeCompile.Compiler.Diagnostics;

namespace EdgeCompile.Compiler.Onnx;

/// <summary>Resource caps applied while reading an untrusted model file (see docs/security.md).</summary>
public sealed record ReaderLimits
{
    /// <summary>Largest model file accepted, in bytes. Protobuf itself cannot address more than 2 GiB.</summary>
    public long MaxFileBytes { get; init; } = int.MaxValue;
    /// <summary>Deepest message nesting (graphs inside attributes inside nodes ...).</summary>
    public int MaxDepth { get; init; } = 64;
    /// <summary>
    /// Largest tensor accepted, in elements: every initializer, Constant/attribute tensor and densified sparse
    /// tensor as declared by its dims (checked before anything is decoded or allocated), and, at lowering, every
    /// intermediate tensor's inferred size. Default 2^28 (1 GiB of float32).
    /// </summary>
    public long MaxTensorElements { get; init; } = DefaultMaxTensorElements;
    public const long DefaultMaxTensorElements = 1L << 28;
    public static ReaderLimits Default { get; } = new();

    /// <summary>EDGE1004 when <paramref name="elements"/> is over <see cref="MaxTensorElements"/>.</summary>
    public void CheckTensorElements(long elements, string what)
    {
        if (elements > MaxTensorElements)
            throw new EdgeException(EdgeCodes.LimitExceeded, $"{what} has {elements} elements, over the limit of {MaxTensorElements} (--max-tensor-elements / EdgeCompileMaxTensorElements).");
    }
}

/// <summary>
/// Parses the ONNX protobuf messages. Field numbers are those of onnx.proto (ONNX IR version 10/11).
/// Unknown fields are skipped, as protobuf requires; tensor payloads (<c>raw_data</c>) stay slices of the input.
/// </summary>
public static class OnnxReader
{
    public static ModelProto ParseModel(ReadOnlyMemory<byte> bytes, ReaderLimits? limits = null)
    {
        var p = new Parser(limits ?? ReaderLimits.Default);
        var r = new WireReader(bytes);
        return p.Model(ref r);
    }

    public static TensorProto ParseTensor(ReadOnlyMemory<byte> bytes, ReaderLimits? limits = null)
    {
        var p = new Parser(limits ?? ReaderLimits.Default);
        var r = new WireReader(bytes);
        return p.Tensor(ref r, 0);
    }

    private sealed class Parser(ReaderLimits limits)
    {
        private void Enter(int depth)
        {
            if (depth > limits.MaxDepth)
                throw new EdgeException(EdgeCodes.NestingTooDeep,
                    $"The model nests messages (graphs in attributes in nodes) deeper than {limits.MaxDepth} levels; this is not a model any exporter produces.");
        }

        public ModelProto Model(ref WireReader r)
        {
            var m = new ModelProto();
            while (!r.AtEnd)
            {
                var (f, t) = r.ReadTag();
                switch (f)
                {
                    case 1: r.Expect(t, WireType.Varint, "ir_version"); m.IrVersion = r.ReadInt64(); break;
                    case 8: r.Expect(t, WireType.LengthDelimited, "opset_import"); { var s = r.ReadSubMessage(); m.OpsetImport.Add(OpsetId(ref s)); } break;
                    case 2: r.Expect(t, WireType.LengthDelimited, "producer_name"); m.ProducerName = r.ReadString(); break;
                    case 3: r.Expect(t, WireType.LengthDelimited, "producer_version"); m.ProducerVersion = r.ReadString(); break;
                    case 4: r.Expect(t, WireType.LengthDelimited, "domain"); m.Domain = r.ReadString(); break;
                    case 5: r.Expect(t, WireType.Varint, "model_version"); m.ModelVersion = r.ReadInt64(); break;
                    case 6: r.Expect(t, WireType.LengthDelimited, "doc_string"); m.DocString = r.ReadString(); break;
                    case 7: r.Expect(t, WireType.LengthDelimited, "graph"); { var s = r.ReadSubMessage(); m.Graph = Graph(ref s, 1); } break;
                    case 14: r.Expect(t, WireType.LengthDelimited, "metadata_props"); { var s = r.ReadSubMessage(); m.MetadataProps.Add(Entry(ref s)); } break;
                    case 25: r.Expect(t, WireType.LengthDelimited, "functions"); { var s = r.ReadSubMessage(); m.Functions.Add(Function(ref s, 1)); } break;
                    default: r.Skip(t); break;
                }
            }
            return m;
        }

        private static OperatorSetId OpsetId(ref WireReader r)
        {
            var o = new OperatorSetId();
            while (!r.AtEnd)
            {
                var (f, t) = r.ReadTag();
                switch (f)
                {
                    case 1: r.Expect(t, WireType.LengthDelimited, "domain"); o.Domain = r.ReadString(); break;
                    case 2: r.Expect(t, WireType.Varint, "version"); o.Version = r.ReadInt64(); break;
                    default: r.Skip(t); break;
                }
            }
            return o;
        }

        private static StringStringEntry Entry(ref WireReader r)
        {
            var e = new StringStringEntry();
            while (!r.AtEnd)
            {
                var (f, t) = r.ReadTag();
                switch (f)
                {
                    case 1: r.Expect(t, WireType.LengthDelimited, "key"); e.Key = r.ReadString(); break;
                    case 2: r.Expect(t, WireType.LengthDelimited, "value"); e.Value = r.ReadString(); break;
                    default: r.Skip(t); break;
                }
            }
            return e;
        }

        public GraphProto Graph(ref WireReader r, int depth)
        {
            Enter(depth);
            var g = new GraphProto();
            while (!r.AtEnd)
            {
                var (f, t) = r.ReadTag();
                if (f is 1 or 2 or 5 or 10 or 11 or 12 or 13 or 14 or 15 or 16) r.Expect(t, WireType.LengthDelimited, "graph field " + f);
                switch (f)
                {
                    case 1: { var s = r.ReadSubMessage(); g.Node.Add(Node(ref s, depth + 1)); } break;
                    case 2: g.Name = r.ReadString(); break;
                    case 5: { var s = r.ReadSubMessage(); g.Initializer.Add(Tensor(ref s, depth + 1)); } break;
                    case 15: { var s = r.ReadSubMessage(); g.SparseInitializer.Add(Sparse(ref s, depth + 1)); } break;
                    case 10: g.DocString = r.ReadString(); break;
                    case 11: { var s = r.ReadSubMessage(); g.Input.Add(ValueInfo(ref s, depth + 1)); } break;
                    case 12: { var s = r.ReadSubMessage(); g.Output.Add(ValueInfo(ref s, depth + 1)); } break;
                    case 13: { var s = r.ReadSubMessage(); g.ValueInfo.Add(ValueInfo(ref s, depth + 1)); } break;
                    case 14: { var s = r.ReadSubMessage(); g.QuantizationAnnotation.Add(Annotation(ref s)); } break;
                    case 16: { var s = r.ReadSubMessage(); g.MetadataProps.Add(Entry(ref s)); } break;
                    default: r.Skip(t); break;
                }
            }
            return g;
        }

        private static TensorAnnotation Annotation(ref WireReader r)
        {
            var a = new TensorAnnotation();
            while (!r.AtEnd)
            {
                var (f, t) = r.ReadTag();
                switch (f)
                {
                    case 1: r.Expect(t, WireType.LengthDelimited, "tensor_name"); a.TensorName = r.ReadString(); break;
                    case 2: r.Expect(t, WireType.LengthDelimited, "quant_parameter_tensor_names"); { var s = r.ReadSubMessage(); a.QuantParameterTensorNames.Add(Entry(ref s)); } break;
                    default: r.Skip(t); break;
                }
            }
            return a;
        }

        private NodeProto Node(ref WireReader r, int depth)
        {
            Enter(depth);
            var n = new NodeProto();
            while (!r.AtEnd)
            {
                var (f, t) = r.ReadTag();
                if (f is >= 1 and <= 9) r.Expect(t, WireType.LengthDelimited, "node field " + f);
                switch (f)
                {
                    case 1: n.Input.Add(r.ReadString()); break;
                    case 2: n.Output.Add(r.ReadString()); break;
                    case 3: n.Name = r.ReadString(); break;
                    case 4: n.OpType = r.ReadString(); break;
                    case 7: n.Domain = r.ReadString(); break;
                    case 8: n.Overload = r.ReadString(); break;
                    case 5: { var s = r.ReadSubMessage(); n.Attribute.Add(Attribute(ref s, depth + 1)); } break;
                    case 6: n.DocString = r.ReadString(); break;
                    case 9: { var s = r.ReadSubMessage(); n.MetadataProps.Add(Entry(ref s)); } break;
                    default: r.Skip(t); break;
                }
            }
            return n;
        }

        private AttributeProto Attribute(ref WireReader r, int depth)
        {
            Enter(depth);
            var a = new AttributeProto { Raw = r.Remaining };
            while (!r.AtEnd)
            {
                var (f, t) = r.ReadTag();
                switch (f)
                {
                    case 1: r.Expect(t, WireType.LengthDelimited, "name"); a.Name = r.ReadString(); break;
                    case 21: r.Expect(t, WireType.LengthDelimited, "ref_attr_name"); a.RefAttrName = r.ReadString(); break;
                    case 13: r.Expect(t, WireType.LengthDelimited, "doc_string"); a.DocString = r.ReadString(); break;
                    case 20: r.Expect(t, WireType.Varint, "type"); a.Type = (OnnxAttributeType)r.ReadInt32(); break;
                    case 2: r.Expect(t, WireType.Fixed32, "f"); a.F = r.ReadFloat(); break;
                    case 3: r.Expect(t, WireType.Varint, "i"); a.I = r.ReadInt64(); break;
                    case 4: r.Expect(t, WireType.LengthDelimited, "s"); a.S = r.ReadSlice().ToArray(); break;
                    case 5: r.Expect(t, WireType.LengthDelimited, "t"); { var s = r.ReadSubMessage(); a.T = Tensor(ref s, depth + 1); } break;
                    case 6: r.Expect(t, WireType.LengthDelimited, "g"); { var s = r.ReadSubMessage(); a.G = Graph(ref s, depth + 1); } break;
                    case 22: r.Expect(t, WireType.LengthDelimited, "sparse_tensor"); { var s = r.ReadSubMessage(); a.SparseTensor = Sparse(ref s, depth + 1); } break;
                    case 14: r.Expect(t, WireType.LengthDelimited, "tp"); { var s = r.ReadSubMessage(); a.Tp = Type(ref s, depth + 1); } break;
                    case 7: r.ReadFloats(t, a.Floats); break;
                    case 8: r.ReadInt64s(t, a.Ints); break;
                    case 9: r.Expect(t, WireType.LengthDelimited, "strings"); a.Strings.Add(r.ReadSlice().ToArray()); break;
                    case 10: r.Expect(t, WireType.LengthDelimited, "tensors"); { var s = r.ReadSubMessage(); a.Tensors.Add(Tensor(ref s, depth + 1)); } break;
                    case 11: r.Expect(t, WireType.LengthDelimited, "graphs"); { var s = r.ReadSubMessage(); a.Graphs.Add(Graph(ref s, depth + 1)); } break;
                    case 23: r.Expect(t, WireType.LengthDelimited, "sparse_tensors"); { var s = r.ReadSubMessage(); a.SparseTensors.Add(Sparse(ref s, depth + 1)); } break;
                    case 15: r.Expect(t, WireType.LengthDelimited, "type_protos"); { var s = r.ReadSubMessage(); a.TypeProtos.Add(Type(ref s, depth + 1)); } break;
                    default: r.Skip(t); break;
                }
            }
            return a;
        }

        private ValueInfoProto ValueInfo(ref WireReader r, int depth)
        {
            Enter(depth);
            var v = new ValueInfoProto();
            while (!r.AtEnd)
            {
                var (f, t) = r.ReadTag();
                switch (f)
                {
                    case 1: r.Expect(t, WireType.LengthDelimited, "name"); v.Name = r.ReadString(); break;
                    case 2: r.Expect(t, WireType.LengthDelimited, "type"); { var s = r.ReadSubMessage(); v.Type = Type(ref s, depth + 1); } break;
                    case 3: r.Expect(t, WireType.LengthDelimited, "doc_string"); v.DocString = r.ReadString(); break;
                    case 4: r.Expect(t, WireType.LengthDelimited, "metadata_props"); { var s = r.ReadSubMessage(); v.MetadataProps.Add(Entry(ref s)); } break;
                    default: r.Skip(t); break;
                }
            }
            return v;
        }

        private TypeProto Type(ref WireReader r, int depth)
        {
            Enter(depth);
            var tp = new TypeProto();
            while (!r.AtEnd)
            {
                var (f, t) = r.ReadTag();
                switch (f)
                {
                    case 1: // tensor_type
                    case 8: // sparse_tensor_type
                        {
                            r.Expect(t, WireType.LengthDelimited, "tensor_type");
                            tp.Kind = f == 1 ? TypeKind.Tensor : TypeKind.SparseTensor;
                            var s = r.ReadSubMessage();
                            while (!s.AtEnd)
                            {
                                var (f2, t2) = s.ReadTag();
                                if (f2 == 1) { s.Expect(t2, WireType.Varint, "elem_type"); tp.ElemType = (DataType)s.ReadInt32(); }
                                else if (f2 == 2) { s.Expect(t2, WireType.LengthDelimited, "shape"); var sh = s.ReadSubMessage(); tp.Shape = Shape(ref sh); }
                                else s.Skip(t2);
                            }
                        }
                        break;
                    case 4: // sequence_type { elem_type = 1 }
                    case 9: // optional_type { elem_type = 1 }
                        {
                            r.Expect(t, WireType.LengthDelimited, "sequence_type");
                            tp.Kind = f == 4 ? TypeKind.Sequence : TypeKind.Optional;
                            var s = r.ReadSubMessage();
                            while (!s.AtEnd)
                            {
                                var (f2, t2) = s.ReadTag();
                                if (f2 == 1) { s.Expect(t2, WireType.LengthDelimited, "elem_type"); var e = s.ReadSubMessage(); tp.Inner = Type(ref e, depth + 1); }
                                else s.Skip(t2);
                            }
                        }
                        break;
                    case 5: // map_type { key_type = 1; value_type = 2 }
                        {
                            r.Expect(t, WireType.LengthDelimited, "map_type");
                            tp.Kind = TypeKind.Map;
                            var s = r.ReadSubMessage();
                            while (!s.AtEnd)
                            {
                                var (f2, t2) = s.ReadTag();
                                if (f2 == 1) { s.Expect(t2, WireType.Varint, "key_type"); tp.ElemType = (DataType)s.ReadInt32(); }
                                else if (f2 == 2) { s.Expect(t2, WireType.LengthDelimited, "value_type"); var e = s.ReadSubMessage(); tp.Inner = Type(ref e, depth + 1); }
                                else s.Skip(t2);
                            }
                        }
                        break;
                    case 6: r.Expect(t, WireType.LengthDelimited, "denotation"); tp.Denotation = r.ReadString(); break;
                    default: r.Skip(t); break;
                }
            }
            return tp;
        }

        private static List<DimensionProto> Shape(ref WireReader r)
        {
            var dims = new List<DimensionProto>();
            while (!r.AtEnd)
            {
                var (f, t) = r.ReadTag();
                if (f != 1) { r.Skip(t); continue; }
                r.Expect(t, WireType.LengthDelimited, "dim");
                var s = r.ReadSubMessage();
                var d = new DimensionProto();
                while (!s.AtEnd)
                {
                    var (f2, t2) = s.ReadTag();
                    switch (f2)
                    {
                        case 1: s.Expect(t2, WireType.Varint, "dim_value"); d.Value = s.ReadInt64(); break;
                        case 2: s.Expect(t2, WireType.LengthDelimited, "dim_param"); d.Param = s.ReadString(); break;
                        case 3: s.Expect(t2, WireType.LengthDelimited, "denotation"); d.Denotation = s.ReadString(); break;
                        default: s.Skip(t2); break;
                    }
                }
                dims.Add(d);
            }
            return dims;
        }

        public TensorProto Tensor(ref WireReader r, int depth)
        {
            Enter(depth);
            var x = new TensorProto();
            while (!r.AtEnd)
            {
                var (f, t) = r.ReadTag();
                switch (f)
                {
                    case 1: r.ReadInt64s(t, x.Dims); break;
                    case 2: r.Expect(t, WireType.Varint, "data_type"); x.DataType = (DataType)r.ReadInt32(); break;
                    case 3:
                        {
                            r.Expect(t, WireType.LengthDelimited, "segment");
                            var s = r.ReadSubMessage();
                            long b = 0, e = 0;
                            while (!s.AtEnd)
                            {
                                var (f2, t2) = s.ReadTag();
                                if (f2 == 1) { s.Expect(t2, WireType.Varint, "begin"); b = s.ReadInt64(); }
                                else if (f2 == 2) { s.Expect(t2, WireType.Varint, "end"); e = s.ReadInt64(); }
                                else s.Skip(t2);
                            }
                            x.Segment = (b, e);
                        }
                        break;
                    case 4: r.ReadFloats(t, x.FloatData); break;
                    case 5: r.ReadInt32s(t, x.Int32Data); break;
                    case 6: r.Expect(t, WireType.LengthDelimited, "string_data"); x.StringData.Add(r.ReadSlice().ToArray()); break;
                    case 7: r.ReadInt64s(t, x.Int64Data); break;
                    case 8: r.Expect(t, WireType.LengthDelimited, "name"); x.Name = r.ReadString(); break;
                    case 12: r.Expect(t, WireType.LengthDelimited, "doc_string"); x.DocString = r.ReadString(); break;
                    case 9: r.Expect(t, WireType.LengthDelimited, "raw_data"); x.RawData = r.ReadSlice(); x.HasRawData = true; break;
                    case 13: r.Expect(t, WireType.LengthDelimited, "external_data"); { var s = r.ReadSubMessage(); x.ExternalData.Add(Entry(ref s)); } break;
                    case 14: r.Expect(t, WireType.Varint, "data_location"); x.DataLocation = r.ReadInt32(); break;
                    case 10: r.ReadDoubles(t, x.DoubleData); break;
                    case 11: r.ReadUInt64s(t, x.UInt64Data); break;
                    case 16: r.Expect(t, WireType.LengthDelimited, "metadata_props"); { var s = r.ReadSubMessage(); x.MetadataProps.Add(Entry(ref s)); } break;
                    default: r.Skip(t); break;
                }
            }
            return x;
        }

        private SparseTensorProto Sparse(ref WireReader r, int depth)
        {
            Enter(depth);
            var sp = new SparseTensorProto();
            while (!r.AtEnd)
            {
                var (f, t) = r.ReadTag();
                switch (f)
                {
                    case 1: r.Expect(t, WireType.LengthDelimited, "values"); { var s = r.ReadSubMessage(); sp.Values = Tensor(ref s, depth + 1); } break;
                    case 2: r.Expect(t, WireType.LengthDelimited, "indices"); { var s = r.ReadSubMessage(); sp.Indices = Tensor(ref s, depth + 1); } break;
                    case 3: r.ReadInt64s(t, sp.Dims); break;
                    default: r.Skip(t); break;
                }
            }
            return sp;
        }

        private FunctionProto Function(ref WireReader r, int depth)
        {
            Enter(depth);
            var fn = new FunctionProto();
            while (!r.AtEnd)
            {
                var (f, t) = r.ReadTag();
                if (f is 1 or 4 or 5 or 6 or 7 or 8 or 9 or 10 or 11 or 12 or 13 or 14) r.Expect(t, WireType.LengthDelimited, "function field " + f);
                switch (f)
                {
                    case 1: fn.Name = r.ReadString(); break;
                    case 10: fn.Domain = r.ReadString(); break;
                    case 13: fn.Overload = r.ReadString(); break;
                    case 4: fn.Input.Add(r.ReadString()); break;
                    case 5: fn.Output.Add(r.ReadString()); break;
                    case 6: fn.Attribute.Add(r.ReadString()); break;
                    case 11: { var s = r.ReadSubMessage(); fn.AttributeProto.Add(Attribute(ref s, depth + 1)); } break;
                    case 7: { var s = r.ReadSubMessage(); fn.Node.Add(Node(ref s, depth + 1)); } break;
                    case 8: fn.DocString = r.ReadString(); break;
                    case 9: { var s = r.ReadSubMessage(); fn.OpsetImport.Add(OpsetId(ref s)); } break;
                    case 12: { var s = r.ReadSubMessage(); fn.ValueInfo.Add(ValueInfo(ref s, depth + 1)); } break;
                    case 14: { var s = r.ReadSubMessage(); fn.MetadataProps.Add(Entry(ref s)); } break;
                    default: r.Skip(t); break;
                }
            }
            return fn;
        }
    }
}
