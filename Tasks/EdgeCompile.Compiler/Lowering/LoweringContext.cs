using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.IR;
using EdgeCompile.Compiler.Operators;

namespace EdgeCompile.Compiler.Lowering;

/// <summary>
/// What an operator's lowering sees: static shapes and constants of values, consumers (for fusion), and
/// the ways to produce code: emit a kernel call, alias an output to an input (no copy), add a constant.
/// </summary>
public sealed class LoweringContext
{
    private readonly Model _model;
    private readonly Dictionary<string, List<Node>> _consumers = new(StringComparer.Ordinal);
    private readonly HashSet<string> _graphOutputs;
    internal readonly List<KernelCall> Calls = new();
    internal readonly Dictionary<string, string> Aliases = new(StringComparer.Ordinal);
    internal readonly HashSet<Node> Fused = new();
    /// <summary>float16/bfloat16 values → their float32 copies (HalfPrecision), made once, read by every consumer.</summary>
    internal readonly Dictionary<string, string> Widened = new(StringComparer.Ordinal);
    private int _constantCounter;

    public LoweringContext(Model model)
    {
        _model = model;
        foreach (var n in model.Graph.Nodes)
            foreach (var i in Passes.GraphValidator.NodeReads(n))
            {
                if (!_consumers.TryGetValue(i, out var l)) _consumers[i] = l = new List<Node>();
                l.Add(n);
            }
        _graphOutputs = new HashSet<string>(model.Graph.Outputs.Select(o => o.Name), StringComparer.Ordinal);
    }

    public Model Model => _model;
    public Graph Graph => _model.Graph;
    public long Opset(Node n) => _model.OpsetFor(n.Domain);

    public EdgeException Unsupported(Node n, string why) =>
        new(EdgeCodes.NoKernel, $"{n.OpType} {why}: no runtime kernel handles this yet. The reference executor supports it; see docs/kernels.md for what compiles.", nodeName: n.DisplayName, opType: n.OpType);

    /// <summary>Static shape of a value; coded error when it is not static.</summary>
    public int[] Shape(Node n, string value)
    {
        var t = Graph.TypeOf(value);
        if (t?.StaticShape is { } s) return s;
        throw new EdgeException(EdgeCodes.DynamicShape,
            $"Value '{value}' has shape {t?.ToString() ?? "unknown"}, which is not static. Give the model's symbolic input dimensions concrete sizes with the InputShapes metadata (e.g. InputShapes=\"input:1x3x224x224\").",
            nodeName: n.DisplayName, opType: n.OpType);
    }

    public DataType TypeOf(string value) => Graph.TypeOf(value)?.ElemType ?? DataType.Undefined;

    /// <summary>The constant value of a value, or null when it is computed at run time.</summary>
    public Tensor? Constant(string value)
    {
        if (value.Length == 0) return null;
        if (Graph.Inputs.Any(i => i.Name == value)) return null;
        return Graph.Initializers.TryGet(value, out var c) ? c.Value : null;
    }

    /// <summary>Adds a constant tensor (e.g. folded weights) and returns its value name.</summary>
    public string AddConstant(string hint, Tensor value)
    {
        string name = $"{hint}__edge{_constantCounter++}";
        Graph.Initializers.Add(new IR.Constant(name, value));
        Graph.ValueTypes[name] = IR.ValueType.FromShape(value.DataType, value.Shape);
        return name;
    }

    /// <summary>A value name no other value has (for values the lowering introduces).</summary>
    internal string FreshName(string hint) => $"{hint}__edge{_constantCounter++}";

    public NodeContext NodeContext(Node n) =>
        new InferenceContext(n, Opset(n), Graph.TypeOf, v => Constant(v));

    /// <summary>The only consumer of <paramref name="value"/>, if exactly one node reads it and it is not a graph output.</summary>
    public Node? SoleConsumer(string value)
    {
        if (_graphOutputs.Contains(value)) return null;
        return _consumers.TryGetValue(value, out var l) && l.Count == 1 ? l[0] : null;
    }

    /// <summary>Marks a node as computed by another node's kernel (fusion).</summary>
    public void MarkFused(Node n) => Fused.Add(n);

    public void Emit(Node n, string method, params CallArg[] args) => Calls.Add(new KernelCall(method, args, n.DisplayName, n.OpType));

    /// <summary>The output is the input's buffer viewed with another shape: no code, no copy.</summary>
    public void Alias(string output, string input) => Aliases[output] = input;

    public static CallArg Read(string v) => new CallArg.Value(v, false);
    public static CallArg Write(string v) => new CallArg.Value(v, true);
    public static CallArg I(long v) => new CallArg.Int(v);
    public static CallArg F(float v) => new CallArg.Float(v);
    public static CallArg B(bool v) => new CallArg.Bool(v);
    public static CallArg E(string typeAndMember) => new CallArg.Enum(typeAndMember);
    public static CallArg Ints(params int[] v) => new CallArg.Ints(v);
    public static CallArg Empty(DataType t = DataType.Float) => new CallArg.Empty(t);

    /// <summary>
    /// If the only reader of <paramref name="value"/> is an activation the Conv/Gemm kernels apply in their
    /// epilogue, fuses it: returns the activation, its parameters and the value the kernel should write.
    /// </summary>
    public (string Activation, float P0, float P1, string Output) FuseActivation(string value)
    {
        var next = SoleConsumer(value);
        if (next is null || next.Domain.Length > 0 || next.Outputs.Count != 1) return ("None", 0, 0, value);
        var ctx = NodeContext(next);
        (string, float, float)? act = next.OpType switch
        {
            "Relu" => ("Relu", 0f, 0f),
            "LeakyRelu" => ("LeakyRelu", ctx.GetFloat("alpha", 0.01f), 0f),
            "Sigmoid" => ("Sigmoid", 0f, 0f),
            "Tanh" => ("Tanh", 0f, 0f),
            "HardSigmoid" => ("HardSigmoid", ctx.GetFloat("alpha", 0.2f), ctx.GetFloat("beta", 0.5f)),
            "HardSwish" => ("HardSwish", 0f, 0f),
            "Clip" => ClipBounds(next) is { } b ? ("Clip", b.Min, b.Max) : null,
            _ => null,
        };
        if (act is null) return ("None", 0, 0, value);
        MarkFused(next);
        return (act.Value.Item1, act.Value.Item2, act.Value.Item3, next.Outputs[0]);
    }

    /// <summary>Clip's bounds (attributes before opset 11, constant inputs from 11); null when not constant.</summary>
    public (float Min, float Max)? ClipBounds(Node clip)
    {
        var ctx = NodeContext(clip);
        if (Opset(clip) < 11) return (ctx.GetFloat("min", float.MinValue), ctx.GetFloat("max", float.MaxValue));
        float lo = float.NegativeInfinity, hi = float.PositiveInfinity;
        if (clip.Inputs.Count > 1 && clip.Inputs[1].Length > 0)
        {
            if (Constant(clip.Inputs[1]) is not { DataType: DataType.Float } t) return null;
            lo = t.As<float>()[0];
        }
        if (clip.Inputs.Count > 2 && clip.Inputs[2].Length > 0)
        {
            if (Constant(clip.Inputs[2]) is not { DataType: DataType.Float } t) return null;
            hi = t.As<float>()[0];
        }
        return (lo, hi);
    }

    /// <summary>Requires float32 for the listed values (the v1 kernels compute in float32).</summary>
    public void RequireFloat(Node n, params string[] values)
    {
        foreach (var v in values)
            if (v.Length > 0 && TypeOf(v) != DataType.Float)
                throw Unsupported(n, $"on {TypeOf(v).OnnxName()} data ('{v}')");
    }
}

/// <summary>Lowers one ONNX operator to kernel calls. One class per operator, in Lowering/Ops/&lt;OpType&gt;.cs.</summary>
public interface IOpLowering
{
    IEnumerable<string> OpTypes { get; }
    void Lower(LoweringContext ctx, Node node);
}
