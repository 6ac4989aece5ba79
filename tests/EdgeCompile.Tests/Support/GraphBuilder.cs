using EdgeCompile.Compiler;
using EdgeCompile.Compiler.IR;
using Attribute = EdgeCompile.Compiler.IR.Attribute;
using ValueType = EdgeCompile.Compiler.IR.ValueType;

namespace EdgeCompile.Tests.Support;

/// <summary>Builds small IR models in test code: inputs, initializers, nodes with attributes, outputs.</summary>
public sealed class GraphBuilder
{
    private readonly Graph _graph = new() { Name = "test" };
    private readonly Dictionary<string, long> _opsets = new() { [""] = 17 };
    private int _counter;

    public GraphBuilder Opset(long version, string domain = "") { _opsets[domain] = version; return this; }

    public string Input(string name, DataType type, params long[] shape)
    {
        _graph.Inputs.Add(new ValueInfo(name, new ValueType(type, shape.Select(d => Dim.Known(d)).ToArray())));
        return name;
    }

    public string SymbolicInput(string name, DataType type, params string[] dims)
    {
        _graph.Inputs.Add(new ValueInfo(name, new ValueType(type, dims.Select(d => long.TryParse(d, out var v) ? Dim.Known(v) : Dim.Symbol(d)).ToArray())));
        return name;
    }

    public string Initializer(string name, Tensor value)
    {
        _graph.Initializers.Add(new Constant(name, value));
        return name;
    }

    public string[] Node(string opType, string[] inputs, int outputs = 1, params Attribute[] attributes)
    {
        var outs = Enumerable.Range(0, outputs).Select(_ => $"v{_counter++}").ToArray();
        _graph.Nodes.Add(new Node { Name = $"n{_graph.Nodes.Count}_{opType}", OpType = opType, Inputs = inputs.ToList(), Outputs = outs.ToList(), Attributes = attributes.ToList() });
        return outs;
    }

    public string Node1(string opType, params string[] inputs) => Node(opType, inputs)[0];

    public GraphBuilder Output(string name, DataType type, long[]? shape = null)
    {
        _graph.Outputs.Add(new ValueInfo(name, new ValueType(type, shape?.Select(d => Dim.Known(d)).ToArray())));
        return this;
    }

    public Model Build()
    {
        var m = new Model { Graph = _graph, IrVersion = 8, ProducerName = "EdgeCompile test GraphBuilder" };
        foreach (var (d, v) in _opsets) m.Opsets[d] = v;
        return m;
    }

    public static Attribute Int(string name, long v) => new() { Name = name, Kind = AttributeKind.Int, I = v };
    public static Attribute Float(string name, float v) => new() { Name = name, Kind = AttributeKind.Float, F = v };
    public static Attribute Ints(string name, params long[] v) => new() { Name = name, Kind = AttributeKind.Ints, Ints = v };
    public static Attribute Floats(string name, params float[] v) => new() { Name = name, Kind = AttributeKind.Floats, Floats = v };
    public static Attribute String(string name, string v) => new() { Name = name, Kind = AttributeKind.String, S = System.Text.Encoding.UTF8.GetBytes(v) };
    public static Attribute TensorAttr(string name, Tensor v) => new() { Name = name, Kind = AttributeKind.Tensor, T = new Constant("", v) };
}
