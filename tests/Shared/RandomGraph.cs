using EdgeCompile.Compiler;
using EdgeCompile.Compiler.IR;
using Attribute = EdgeCompile.Compiler.IR.Attribute;
using ValueType = EdgeCompile.Compiler.IR.ValueType;

namespace EdgeCompile.TestSupport;

/// <summary>
/// Builds graphs over the compiler's IR whose weights are normally distributed random numbers from a fixed seed
/// (Box-Muller over <see cref="Random"/>, so the same calls write the same weights on every machine): the benchmark
/// models (tests/EdgeCompile.Benchmarks.Models) and the CNN and encoder blocks of the codegen tests. Every node's output is
/// named after its op and a counter; <see cref="Output"/> renames the last producer of a value to the graph output's name.
/// </summary>
internal sealed class RandomGraph(string name, int seed, string producer, long irVersion = 8, double convBiasStd = 0.01)
{
    private readonly Graph _graph = new() { Name = name };
    private readonly Random _rng = new(seed);
    private int _counter;

    public string Input(string n, params int[] shape)
    {
        _graph.Inputs.Add(new ValueInfo(n, ValueType.FromShape(DataType.Float, shape)));
        return n;
    }

    /// <summary>Makes <paramref name="value"/> the graph output <paramref name="n"/> (its producer's output is renamed).</summary>
    public RandomGraph Output(string value, string n, params int[] shape)
    {
        var last = _graph.Nodes.Last(nd => nd.Outputs.Contains(value));
        last.Outputs[last.Outputs.IndexOf(value)] = n;
        _graph.Outputs.Add(new ValueInfo(n, ValueType.FromShape(DataType.Float, shape)));
        return this;
    }

    public Model Build(long opset)
    {
        var m = new Model { Graph = _graph, IrVersion = irVersion, ProducerName = producer };
        m.Opsets[""] = opset;
        return m;
    }

    public string Node(string op, string[] inputs, params Attribute[] attributes)
    {
        string o = $"{op.ToLowerInvariant()}_{_counter++}";
        _graph.Nodes.Add(new Node { Name = $"{op}_{_counter}", OpType = op, Inputs = inputs.ToList(), Outputs = [o], Attributes = attributes.ToList() });
        return o;
    }

    public string Const(string n, float[] values, params int[] shape)
    {
        _graph.Initializers.Add(new Constant(n, Tensor.FromArray(values, shape)));
        return n;
    }

    public string Const(string n, long[] values, params int[] shape)
    {
        _graph.Initializers.Add(new Constant(n, Tensor.FromArray(values, shape)));
        return n;
    }

    /// <summary>An int64 shape constant (for Reshape).</summary>
    public string Shape(string n, params long[] dims) => Const(n, dims, dims.Length);

    /// <summary>A float scalar constant.</summary>
    public string Scalar(string n, float v) => Const(n, [v]);

    /// <summary>A weight of the given shape, values mean + N(0, 1) · std, named w{counter}.{kind}.</summary>
    public string Weight(string kind, double std, double mean, params int[] shape)
    {
        var data = new float[shape.Aggregate(1, (a, b) => a * b)];
        for (int i = 0; i < data.Length; i++) data[i] = (float)(mean + Normal() * std);
        return Const($"w{_counter++}.{kind}", data, shape);
    }

    private double Normal() => Math.Sqrt(-2 * Math.Log(1 - _rng.NextDouble())) * Math.Cos(2 * Math.PI * _rng.NextDouble());

    /// <summary>Conv with bias (std from the constructor), He-scaled weights (std = gain · sqrt(2 / fan-in)), square kernel,
    /// stride and padding.</summary>
    public string Conv(string x, int cin, int cout, int kernel, int stride = 1, int pad = 0, int group = 1, double gain = 1)
    {
        int fanIn = cin / group * kernel * kernel;
        string w = Weight("weight", gain * Math.Sqrt(2.0 / fanIn), 0, cout, cin / group, kernel, kernel);
        string b = Weight("bias", convBiasStd, 0, cout);
        return Node("Conv", [x, w, b], Ints("kernel_shape", kernel, kernel), Ints("strides", stride, stride),
            Ints("pads", pad, pad, pad, pad), Int("group", group));
    }

    /// <summary>BatchNormalization with scale ~ 1, bias and mean ~ 0 (std 0.1), variance in [0.5, 1.5).</summary>
    public string BatchNorm(string x, int c)
    {
        string scale = Weight("bn_scale", 0.1, 1, c), bias = Weight("bn_bias", 0.1, 0, c), mean = Weight("bn_mean", 0.1, 0, c);
        var v = new float[c];
        for (int i = 0; i < c; i++) v[i] = (float)(0.5 + _rng.NextDouble());
        string variance = Const($"w{_counter++}.bn_var", v, c);
        return Node("BatchNormalization", [x, scale, bias, mean, variance], Float("epsilon", 1e-5f));
    }

    /// <summary>Gemm with transB (PyTorch's nn.Linear layout: weight [out, in]).</summary>
    public string Linear(string x, int fin, int fout) =>
        Node("Gemm", [x, Weight("weight", Math.Sqrt(2.0 / fin), 0, fout, fin), Weight("bias", 0.01, 0, fout)], Int("transB", 1));

    /// <summary>MatMul by [in, out] then Add of the bias (as exported from PyTorch for 3-D inputs).</summary>
    public string Dense(string x, int fin, int fout, double biasStd = 0.01) =>
        Add(Node("MatMul", [x, Weight("weight", Math.Sqrt(1.0 / fin), 0, fin, fout)]), Weight("bias", biasStd, 0, fout));

    /// <summary>LayerNormalization over the last axis: scale 1, random bias; the epsilon attribute only when given.</summary>
    public string LayerNorm(string x, int width, double biasStd = 0.01, float? epsilon = 1e-5f)
    {
        var ones = new float[width];
        Array.Fill(ones, 1f);
        string[] inputs = [x, Const($"ln{_counter++}.scale", ones, width), Weight("bias", biasStd, 0, width)];
        return epsilon is float e ? Node("LayerNormalization", inputs, Int("axis", -1), Float("epsilon", e)) : Node("LayerNormalization", inputs, Int("axis", -1));
    }

    public string Add(string a, string b) => Node("Add", [a, b]);
    public string Relu(string x) => Node("Relu", [x]);
    public string Flatten(string x) => Node("Flatten", [x], Int("axis", 1));

    /// <summary>Clip to [0, 6] with constant min and max inputs.</summary>
    public string Relu6(string x)
    {
        string lo = Const($"clip{_counter++}.min", [0f]), hi = Const($"clip{_counter++}.max", [6f]);
        return Node("Clip", [x, lo, hi]);
    }

    public static Attribute Int(string n, long v) => new() { Name = n, Kind = AttributeKind.Int, I = v };
    public static Attribute Float(string n, float v) => new() { Name = n, Kind = AttributeKind.Float, F = v };
    public static Attribute Ints(string n, params long[] v) => new() { Name = n, Kind = AttributeKind.Ints, Ints = v };
}
