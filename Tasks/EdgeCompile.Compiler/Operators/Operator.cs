using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.IR;
using Attribute = EdgeCompile.Compiler.IR.Attribute;
using ValueType = EdgeCompile.Compiler.IR.ValueType;

namespace EdgeCompile.Compiler.Operators;

/// <summary>
/// One ONNX operator as the compiler understands it: its schema (attributes, arity), its shape and type
/// rule (<see cref="InferTypes"/>, used on the IR) and its reference semantics (<see cref="Execute"/>,
/// the float oracle). One operator per file under Operators/, named after the op type; later layers
/// (quantization rules, emitters) use the same file name in their own folders.
///
/// To add an operator: subclass, set <see cref="OpType"/>, list <see cref="Attributes"/> (unknown
/// attributes are rejected with EDGE1302, never ignored), set the input/output arity, implement both
/// methods, and let the conformance suite prove it. Operators are discovered by <see cref="OperatorRegistry"/>.
/// </summary>
public abstract class Operator
{
    public abstract string OpType { get; }
    public virtual string Domain => "";
    /// <summary>The attribute names this operator accepts (at any opset it supports).</summary>
    public virtual IReadOnlyCollection<string> Attributes => [];
    public virtual int MinInputs => 1;
    public virtual int MaxInputs => 1;
    public virtual int MinOutputs => 1;
    public virtual int MaxOutputs => 1;

    /// <summary>Sets each output's type and shape from the inputs' (possibly symbolic or unknown) types.</summary>
    public abstract void InferTypes(InferenceContext ctx);

    /// <summary>Computes the outputs from the inputs: the specification, written for exactness.</summary>
    public abstract void Execute(ExecutionContext ctx);
}

/// <summary>What both contexts share: the node, its opset and typed attribute access with coded errors.</summary>
public abstract class NodeContext(Node node, long opset)
{
    public Node Node { get; } = node;
    /// <summary>Version of the operator's domain imported by the model.</summary>
    public long Opset { get; } = opset;
    public int InputCount => Node.Inputs.Count;
    public int OutputCount => Node.Outputs.Count;
    /// <summary>True if input <paramref name="i"/> is given (present and not the empty name).</summary>
    public bool HasInput(int i) => i < Node.Inputs.Count && Node.Inputs[i].Length > 0;
    public bool HasOutput(int i) => i < Node.Outputs.Count && Node.Outputs[i].Length > 0;

    public EdgeException Error(string code, string message) => new(code, message, nodeName: Node.DisplayName, opType: Node.OpType);

    public bool HasAttribute(string name) => Node.GetAttribute(name) is not null;

    private Attribute? Get(string name, AttributeKind kind)
    {
        var a = Node.GetAttribute(name);
        if (a is not null && a.Kind != kind)
            throw Error(EdgeCodes.InvalidAttribute, $"Attribute '{name}' is {a.Kind}, expected {kind}.");
        return a;
    }

    private Attribute Require(string name, AttributeKind kind) =>
        Get(name, kind) ?? throw Error(EdgeCodes.InvalidAttribute, $"Required attribute '{name}' is missing.");

    public long GetInt(string name, long defaultValue) => Get(name, AttributeKind.Int)?.I ?? defaultValue;
    public long RequireInt(string name) => Require(name, AttributeKind.Int).I;
    public float GetFloat(string name, float defaultValue) => Get(name, AttributeKind.Float)?.F ?? defaultValue;
    public float RequireFloat(string name) => Require(name, AttributeKind.Float).F;
    public string GetString(string name, string defaultValue) => Get(name, AttributeKind.String)?.StringValue ?? defaultValue;
    public long[]? GetInts(string name) => Get(name, AttributeKind.Ints)?.Ints;
    public float[]? GetFloats(string name) => Get(name, AttributeKind.Floats)?.Floats;
    public string[]? GetStrings(string name) => Get(name, AttributeKind.Strings)?.Strings.Select(s => System.Text.Encoding.UTF8.GetString(s)).ToArray();
    public Tensor? GetTensor(string name) => Get(name, AttributeKind.Tensor)?.T?.Value;
    public Graph? GetGraph(string name) => Get(name, AttributeKind.Graph)?.G;
}

/// <summary>Context for shape and type inference on the IR.</summary>
public sealed class InferenceContext(Node node, long opset, Func<string, ValueType?> typeOf, Func<string, Tensor?> constantOf) : NodeContext(node, opset)
{
    private readonly ValueType?[] _outputs = new ValueType?[node.Outputs.Count];

    /// <summary>The input's type, or null if unknown (or the input is absent).</summary>
    public ValueType? InputType(int i) => HasInput(i) ? typeOf(Node.Inputs[i]) : null;

    /// <summary>The input's element type; throws if the input's type is unknown.</summary>
    public DataType InputElemType(int i) =>
        InputType(i)?.ElemType ?? throw Error(EdgeCodes.ShapeMismatch, $"The type of input {i} ('{(HasInput(i) ? Node.Inputs[i] : "")}') is unknown.");

    /// <summary>The input's shape; null if its rank is unknown.</summary>
    public Dim[]? InputShape(int i) => InputType(i)?.Shape;

    /// <summary>The input's value when it is a constant (initializer or folded), else null.</summary>
    public Tensor? ConstantInput(int i) => HasInput(i) ? constantOf(Node.Inputs[i]) : null;

    public void SetOutput(int i, DataType elemType, Dim[]? shape)
    {
        if (i < _outputs.Length) _outputs[i] = new ValueType(elemType, shape);
    }

    public void SetOutput(int i, DataType elemType, int[] shape) => SetOutput(i, elemType, shape.Select(d => Dim.Known(d)).ToArray());

    public IReadOnlyList<ValueType?> Outputs => _outputs;
}

/// <summary>Context for reference execution: concrete input tensors in, output tensors out.</summary>
public sealed class ExecutionContext(Node node, long opset, Tensor?[] inputs, Func<Graph, IReadOnlyDictionary<string, Tensor>, Tensor[]>? runSubgraph = null) : NodeContext(node, opset)
{
    private readonly Tensor?[] _outputs = new Tensor?[node.Outputs.Count];

    /// <summary>Input <paramref name="i"/>, or null if absent (optional input omitted).</summary>
    public Tensor? Input(int i) => i < inputs.Length ? inputs[i] : null;

    /// <summary>Input <paramref name="i"/>; a coded error if it is absent.</summary>
    public Tensor RequireInput(int i) =>
        Input(i) ?? throw Error(EdgeCodes.InvalidArity, $"Required input {i} is missing.");

    public void SetOutput(int i, Tensor value)
    {
        if (i < _outputs.Length) _outputs[i] = value;
    }

    public IReadOnlyList<Tensor?> Outputs => _outputs;

    /// <summary>Runs a subgraph attribute (If/Loop bodies) with the given bindings; null if unsupported here.</summary>
    public Func<Graph, IReadOnlyDictionary<string, Tensor>, Tensor[]>? RunSubgraph => runSubgraph;
}
