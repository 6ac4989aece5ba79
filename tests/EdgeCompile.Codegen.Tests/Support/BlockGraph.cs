using EdgeCompile.Compiler;
using EdgeCompile.Compiler.IR;
using Attribute = EdgeCompile.Compiler.IR.Attribute;
using ValueType = EdgeCompile.Compiler.IR.ValueType;

namespace EdgeCompile.Codegen.Tests.Support;

/// <summary>CNN graphs built in code with random weights from a fixed seed (Conv, BatchNorm, Add, Relu, Relu6 and any node).</summary>
internal sealed class BlockGraph(int seed)
{
    private readonly Graph _graph = new() { Name = "int8block" };
    private readonly Random _rng = new(20261123 + seed);
    private int _counter;

    public string Input(string n, params int[] shape)
    {
        _graph.Inputs.Add(new ValueInfo(n, ValueType.FromShape(DataType.Float, shape)));
        return n;
    }

    public BlockGraph Output(string value, string n, params int[] shape)
    {
        var last = _graph.Nodes.Last(nd => nd.Outputs.Contains(value));
        last.Outputs[last.Outputs.IndexOf(value)] = n;
        _graph.Outputs.Add(new ValueInfo(n, ValueType.FromShape(DataType.Float, shape)));
        return this;
    }

    public Model Build(long opset)
    {
        var m = new Model { Graph = _graph, IrVersion = 8, ProducerName = "Int8BlocksTests" };
        m.Opsets[""] = opset;
        return m;
    }

    public string Node(string op, string[] inputs, params Attribute[] attributes)
    {
        string o = $"{op.ToLowerInvariant()}_{_counter++}";
        _graph.Nodes.Add(new Node { Name = $"{op}_{_counter}", OpType = op, Inputs = inputs.ToList(), Outputs = [o], Attributes = attributes.ToList() });
        return o;
    }

    private string Const(string n, float[] values, params int[] shape)
    {
        _graph.Initializers.Add(new Constant(n, Tensor.FromArray(values, shape)));
        return n;
    }

    public string Weight(string kind, double std, double mean, params int[] shape)
    {
        var data = new float[shape.Aggregate(1, (a, b) => a * b)];
        for (int i = 0; i < data.Length; i++) data[i] = (float)(mean + Normal() * std);
        return Const($"w{_counter++}.{kind}", data, shape);
    }

    private double Normal() => Math.Sqrt(-2 * Math.Log(1 - _rng.NextDouble())) * Math.Cos(2 * Math.PI * _rng.NextDouble());

    public string Conv(string x, int cin, int cout, int kernel, int stride = 1, int pad = 0, int group = 1, double gain = 1)
    {
        int fanIn = cin / group * kernel * kernel;
        string w = Weight("weight", gain * Math.Sqrt(2.0 / fanIn), 0, cout, cin / group, kernel, kernel);
        string b = Weight("bias", 0.05, 0, cout);
        return Node("Conv", [x, w, b], Ints("kernel_shape", kernel, kernel), Ints("strides", stride, stride),
            Ints("pads", pad, pad, pad, pad), Int("group", group));
    }

    public string BatchNorm(string x, int c)
    {
        string scale = Weight("bn_scale", 0.1, 1, c), bias = Weight("bn_bias", 0.1, 0, c), mean = Weight("bn_mean", 0.1, 0, c);
        var v = new float[c];
        for (int i = 0; i < c; i++) v[i] = (float)(0.5 + _rng.NextDouble());
        string variance = Const($"w{_counter++}.bn_var", v, c);
        return Node("BatchNormalization", [x, scale, bias, mean, variance], Float("epsilon", 1e-5f));
    }

    public string Add(string a, string b) => Node("Add", [a, b]);
    public string Relu(string x) => Node("Relu", [x]);

    public string Relu6(string x)
    {
        string lo = Const($"clip{_counter++}.min", [0f]), hi = Const($"clip{_counter++}.max", [6f]);
        return Node("Clip", [x, lo, hi]);
    }

    public static Attribute Int(string n, long v) => new() { Name = n, Kind = AttributeKind.Int, I = v };
    public static Attribute Float(string n, float v) => new() { Name = n, Kind = AttributeKind.Float, F = v };
    public static Attribute Ints(string n, params long[] v) => new() { Name = n, Kind = AttributeKind.Ints, Ints = v };
}
