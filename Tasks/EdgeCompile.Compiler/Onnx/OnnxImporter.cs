using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.IR;
using Attribute = EdgeCompile.Compiler.IR.Attribute;
using ValueType = EdgeCompile.Compiler.IR.ValueType;

namespace EdgeCompile.Compiler.Onnx;

/// <summary>
/// ModelProto → IR. Converts types and attributes, wraps initializers as lazy constants, and inlines
/// calls to model-local functions (FunctionProto), which recent PyTorch exporters emit.
/// Structural validation (names, cycles, dangling inputs) is <see cref="Passes.GraphValidator"/>'s job.
/// </summary>
public static class OnnxImporter
{
    public static Model Import(ModelProto proto, string? baseDirectory, ReaderLimits? limits = null)
    {
        if (proto.Graph is null)
            throw new EdgeException(EdgeCodes.NotAModel, "The file has no graph: it is not an ONNX model (or is empty).");
        var model = new Model
        {
            Graph = null!, // set below
        };
        var ctx = new Context(proto, baseDirectory, limits ?? ReaderLimits.Default);
        var graph = ctx.ImportGraph(proto.Graph, 0);
        model = new Model
        {
            Graph = graph,
            IrVersion = proto.IrVersion,
            ProducerName = proto.ProducerName,
            ProducerVersion = proto.ProducerVersion,
            Domain = proto.Domain,
            ModelVersion = proto.ModelVersion,
            DocString = proto.DocString,
        };
        foreach (var o in proto.OpsetImport)
        {
            string domain = o.Domain == "ai.onnx" ? "" : o.Domain;
            model.Opsets[domain] = o.Version;
        }
        if (proto.OpsetImport.Count == 0) model.Opsets[""] = 1; // onnx.proto: absent opset_import means version 1 of the default domain.
        foreach (var m in proto.MetadataProps) model.Metadata.Add(new(m.Key, m.Value));
        return model;
    }

    private sealed class Context(ModelProto model, string? baseDirectory, ReaderLimits limits)
    {
        private readonly Dictionary<(string, string, string), FunctionProto> _functions =
            model.Functions.GroupBy(f => (Norm(f.Domain), f.Name, f.Overload)).ToDictionary(g => g.Key, g => g.First());
        private int _inlineCounter;

        private static string Norm(string domain) => domain == "ai.onnx" ? "" : domain;

        public Graph ImportGraph(GraphProto g, int depth)
        {
            if (depth > limits.MaxDepth)
                throw new EdgeException(EdgeCodes.NestingTooDeep, $"Subgraphs nest deeper than {limits.MaxDepth} levels.");
            var graph = new Graph { Name = g.Name, DocString = g.DocString };
            foreach (var t in g.Initializer)
            {
                var c = MakeConstant(t);
                if (graph.Initializers.Contains(c.Name))
                    throw new EdgeException(EdgeCodes.DuplicateName, $"Initializer '{c.Name}' is defined twice.");
                graph.Initializers.Add(c);
            }
            foreach (var s in g.SparseInitializer)
            {
                var c = SparseToDense(s);
                if (graph.Initializers.Contains(c.Name))
                    throw new EdgeException(EdgeCodes.DuplicateName, $"Initializer '{c.Name}' is defined twice.");
                graph.Initializers.Add(c);
            }
            foreach (var i in g.Input) graph.Inputs.Add(Value(i));
            foreach (var o in g.Output) graph.Outputs.Add(Value(o));
            foreach (var v in g.ValueInfo)
            {
                var vi = Value(v);
                if (vi.Type is not null) graph.ValueTypes[vi.Name] = vi.Type;
            }
            foreach (var n in g.Node) AddNode(graph, n, depth, callStack: null);
            graph.QuantizationAnnotations.AddRange(g.QuantizationAnnotation);
            foreach (var m in g.MetadataProps) graph.Metadata.Add(new(m.Key, m.Value));
            return graph;
        }

        private static ValueInfo Value(ValueInfoProto v) => new(v.Name, Type(v.Type)) { DocString = v.DocString };

        public static ValueType? Type(TypeProto? t)
        {
            if (t is null || t.Kind == TypeKind.None) return null;
            if (t.Kind != TypeKind.Tensor) return new ValueType(t.ElemType, null, t.Kind) { NonTensorProto = t };
            Dim[]? shape = t.Shape?.Select(d => d.Value is long v ? (v >= 0 ? Dim.Known(v) : Dim.Unknown) : d.Param is { Length: > 0 } p ? Dim.Symbol(p) : Dim.Unknown).ToArray();
            return new ValueType(t.ElemType, shape);
        }

        /// <summary>A constant from a TensorProto, its declared size checked against the limit before anything is decoded.</summary>
        private Constant MakeConstant(TensorProto t)
        {
            limits.CheckTensorElements(Shapes.Product(TensorDecoder.CheckedDims(t.Dims, t.Name)), $"Tensor '{t.Name}'");
            return new Constant(t, baseDirectory);
        }

        private Constant SparseToDense(SparseTensorProto s)
        {
            if (s.Values is null || s.Indices is null)
                throw new EdgeException(EdgeCodes.TensorSizeMismatch, "A sparse initializer lacks its values or indices.");
            // The dense size is declared, not stored: check it before decoding or allocating anything.
            limits.CheckTensorElements(Shapes.Product(TensorDecoder.CheckedDims(s.Dims, s.Values.Name)), $"Sparse tensor '{s.Values.Name}' (densified)");
            var values = TensorDecoder.Decode(s.Values, baseDirectory);
            var indices = TensorDecoder.Decode(s.Indices, baseDirectory).ToInt64s();
            var shape = TensorDecoder.CheckedDims(s.Dims, s.Values.Name);
            long total = Shapes.Product(shape);
            int nnz = values.Length;
            var dense = Tensor.Zeros(values.DataType, shape);
            var strides = Shapes.Strides(shape);
            bool coordinateForm = indices.Length == nnz * shape.Length && shape.Length > 1;
            if (!coordinateForm && indices.Length != nnz)
                throw new EdgeException(EdgeCodes.TensorSizeMismatch, $"Sparse initializer '{s.Values.Name}' has {nnz} values but {indices.Length} indices.");
            for (int k = 0; k < nnz; k++)
            {
                long flat = 0;
                if (coordinateForm)
                    for (int d = 0; d < shape.Length; d++) flat += indices[k * shape.Length + d] * strides[d];
                else flat = indices[k];
                if (flat < 0 || flat >= total)
                    throw new EdgeException(EdgeCodes.TensorSizeMismatch, $"Sparse initializer '{s.Values.Name}' has index {flat} outside its {total} elements.");
                Array.Copy(values.Data, k, dense.Data, (int)flat, 1);
            }
            return new Constant(s.Values.Name, dense);
        }

        public Attribute ImportAttribute(AttributeProto a, int depth)
        {
            var kind = a.Type;
            if (kind == OnnxAttributeType.Undefined) kind = GuessKind(a); // IR version < 2 files omit the type.
            return kind switch
            {
                OnnxAttributeType.Float => new Attribute { Name = a.Name, Kind = AttributeKind.Float, F = a.F },
                OnnxAttributeType.Int => new Attribute { Name = a.Name, Kind = AttributeKind.Int, I = a.I },
                OnnxAttributeType.String => new Attribute { Name = a.Name, Kind = AttributeKind.String, S = a.S },
                OnnxAttributeType.Tensor => new Attribute { Name = a.Name, Kind = AttributeKind.Tensor, T = a.T is null ? throw Bad(a, "has no tensor") : MakeConstant(a.T) },
                OnnxAttributeType.Graph => new Attribute { Name = a.Name, Kind = AttributeKind.Graph, G = a.G is null ? throw Bad(a, "has no graph") : ImportGraph(a.G, depth + 1) },
                OnnxAttributeType.Floats => new Attribute { Name = a.Name, Kind = AttributeKind.Floats, Floats = a.Floats.ToArray() },
                OnnxAttributeType.Ints => new Attribute { Name = a.Name, Kind = AttributeKind.Ints, Ints = a.Ints.ToArray() },
                OnnxAttributeType.Strings => new Attribute { Name = a.Name, Kind = AttributeKind.Strings, Strings = a.Strings.ToArray() },
                OnnxAttributeType.Tensors => new Attribute { Name = a.Name, Kind = AttributeKind.Tensors, Tensors = a.Tensors.Select(MakeConstant).ToArray() },
                OnnxAttributeType.Graphs => new Attribute { Name = a.Name, Kind = AttributeKind.Graphs, Graphs = a.Graphs.Select(g => ImportGraph(g, depth + 1)).ToArray() },
                OnnxAttributeType.SparseTensor => new Attribute { Name = a.Name, Kind = AttributeKind.SparseTensor, Opaque = a, T = a.SparseTensor is null ? null : SparseToDense(a.SparseTensor) },
                OnnxAttributeType.SparseTensors => new Attribute { Name = a.Name, Kind = AttributeKind.SparseTensors, Opaque = a },
                OnnxAttributeType.TypeProto => new Attribute { Name = a.Name, Kind = AttributeKind.TypeProto, Opaque = a },
                OnnxAttributeType.TypeProtos => new Attribute { Name = a.Name, Kind = AttributeKind.TypeProtos, Opaque = a },
                _ => throw Bad(a, $"has unknown attribute type {(int)a.Type}"),
            };
        }

        private static EdgeException Bad(AttributeProto a, string what) =>
            new(EdgeCodes.InvalidAttribute, $"Attribute '{a.Name}' {what}.");

        private static OnnxAttributeType GuessKind(AttributeProto a)
        {
            if (a.Floats.Count > 0) return OnnxAttributeType.Floats;
            if (a.Ints.Count > 0) return OnnxAttributeType.Ints;
            if (a.Strings.Count > 0) return OnnxAttributeType.Strings;
            if (a.Tensors.Count > 0) return OnnxAttributeType.Tensors;
            if (a.Graphs.Count > 0) return OnnxAttributeType.Graphs;
            if (a.T is not null) return OnnxAttributeType.Tensor;
            if (a.G is not null) return OnnxAttributeType.Graph;
            if (a.S.Length > 0) return OnnxAttributeType.String;
            if (a.F != 0) return OnnxAttributeType.Float;
            return OnnxAttributeType.Int;
        }

        private void AddNode(Graph graph, NodeProto n, int depth, List<string>? callStack)
        {
            if (_functions.TryGetValue((Norm(n.Domain), n.OpType, n.Overload), out var fn))
            {
                Inline(graph, n, fn, depth, callStack ?? new List<string>());
                return;
            }
            graph.Nodes.Add(new Node
            {
                Name = n.Name,
                OpType = n.OpType,
                Domain = Norm(n.Domain),
                Inputs = n.Input.ToList(),
                Outputs = n.Output.ToList(),
                Attributes = n.Attribute.Select(a => ImportAttribute(a, depth)).ToList(),
                DocString = n.DocString,
            });
        }

        /// <summary>
        /// Replaces a call by the function body: formal inputs/outputs map to the call's actual names,
        /// body-internal values get a unique prefix, attributes with <c>ref_attr_name</c> take the call's value
        /// (or the function's default).
        /// </summary>
        private void Inline(Graph graph, NodeProto call, FunctionProto fn, int depth, List<string> callStack)
        {
            string key = $"{fn.Domain}::{fn.Name}";
            if (callStack.Contains(key) || callStack.Count > 32)
                throw new EdgeException(EdgeCodes.InvalidFunction, $"Function '{key}' calls itself (call chain: {string.Join(" → ", callStack.Append(key))}).", nodeName: call.Name, opType: call.OpType);
            if (call.Input.Count > fn.Input.Count || call.Output.Count > fn.Output.Count)
                throw new EdgeException(EdgeCodes.InvalidFunction, $"Call to function '{key}' passes {call.Input.Count} inputs/{call.Output.Count} outputs; the function declares {fn.Input.Count}/{fn.Output.Count}.", nodeName: call.Name, opType: call.OpType);

            string prefix = $"{(call.Name.Length > 0 ? call.Name : fn.Name)}__inl{_inlineCounter++}/";
            var rename = new Dictionary<string, string>(StringComparer.Ordinal);
            for (int i = 0; i < fn.Input.Count; i++) rename[fn.Input[i]] = i < call.Input.Count ? call.Input[i] : "";
            for (int i = 0; i < fn.Output.Count; i++) rename[fn.Output[i]] = i < call.Output.Count ? call.Output[i] : prefix + fn.Output[i];
            string Map(string v) => v.Length == 0 ? "" : rename.TryGetValue(v, out var r) ? r : prefix + v;

            var callAttrs = call.Attribute.ToDictionary(a => a.Name, StringComparer.Ordinal);
            foreach (var d in fn.AttributeProto) callAttrs.TryAdd(d.Name, d);

            callStack.Add(key);
            foreach (var bodyNode in fn.Node)
            {
                var copy = new NodeProto
                {
                    Name = prefix + bodyNode.Name,
                    OpType = bodyNode.OpType,
                    Domain = bodyNode.Domain,
                    Overload = bodyNode.Overload,
                    DocString = bodyNode.DocString,
                };
                copy.Input.AddRange(bodyNode.Input.Select(Map));
                copy.Output.AddRange(bodyNode.Output.Select(Map));
                foreach (var a in bodyNode.Attribute)
                {
                    if (a.RefAttrName.Length == 0) { copy.Attribute.Add(a); continue; }
                    if (!callAttrs.TryGetValue(a.RefAttrName, out var actual)) continue; // not given, no default: the attribute is absent
                    copy.Attribute.Add(CloneWithName(actual, a.Name));
                }
                AddNode(graph, copy, depth, callStack);
            }
            callStack.RemoveAt(callStack.Count - 1);
        }

        private static AttributeProto CloneWithName(AttributeProto a, string name)
        {
            var c = new AttributeProto
            {
                Name = name, Type = a.Type, F = a.F, I = a.I, S = a.S, T = a.T, G = a.G, SparseTensor = a.SparseTensor, Tp = a.Tp,
                DocString = a.DocString, RefAttrName = "",
            };
            c.Floats.AddRange(a.Floats); c.Ints.AddRange(a.Ints); c.Strings.AddRange(a.Strings);
            c.Tensors.AddRange(a.Tensors); c.Graphs.AddRange(a.Graphs); c.SparseTensors.AddRange(a.SparseTensors); c.TypeProtos.AddRange(a.TypeProtos);
            return c;
        }
    }
}
