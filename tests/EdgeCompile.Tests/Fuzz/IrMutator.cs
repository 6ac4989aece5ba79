using EdgeCompile.Compiler;
using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.IR;
using EdgeCompile.Compiler.Onnx;
using EdgeCompile.Compiler.Operators;
using Attribute = EdgeCompile.Compiler.IR.Attribute;
using Constant = EdgeCompile.Compiler.IR.Constant;
using ValueType = EdgeCompile.Compiler.IR.ValueType;

namespace EdgeCompile.Tests.Fuzz;

/// <summary>
/// Semantic mutations: import the bytes, change the IR (op types, attributes of the operator's own schema,
/// opset, input shapes and types, initializer values, wiring) and write a well-formed file again. These
/// get past the parser and validator, so operators' shape rules and reference semantics see hostile values.
/// </summary>
public static class IrMutator
{
    private static readonly Operator[] s_ops = OperatorRegistry.All.Where(o => o.Domain.Length == 0).ToArray();

    private static readonly DataType[] s_types =
    [
        DataType.Float, DataType.Float, DataType.Int64, DataType.Int64, DataType.Int32, DataType.Double, DataType.Float16,
        DataType.BFloat16, DataType.Int8, DataType.UInt8, DataType.Int16, DataType.UInt16, DataType.UInt32, DataType.UInt64, DataType.Bool,
    ];

    private static readonly long[] s_ints = [-3, -2, -1, 0, 0, 1, 1, 2, 3, 4, 5, 7, 64, 1000, int.MaxValue, (long)int.MaxValue + 1, long.MaxValue, long.MinValue, int.MinValue, 1L << 40];
    private static readonly float[] s_floats = [0f, -0f, 1f, -1f, 0.5f, 2f, 1e-7f, 1e38f, float.NaN, float.PositiveInfinity, float.NegativeInfinity, float.Epsilon, 255f];
    private static readonly string[] s_strings = ["", "constant", "reflect", "edge", "wrap", "NOTSET", "SAME_UPPER", "VALID", "linear", "nearest", "tanh", "none", "DCR", "CRD", "half_pixel", "\u00ff\u0000"];

    public static byte[]? TryMutate(byte[] data, Random rng, out string what)
    {
        what = "";
        Model model;
        try { model = ModelFile.Parse(data); }
        catch (EdgeException) { return null; }
        var g = model.Graph;
        int kind = rng.Next(10);
        Node? node = g.Nodes.Count == 0 ? null : g.Nodes[rng.Next(g.Nodes.Count)];
        var names = g.Inputs.Select(i => i.Name).Concat(g.Initializers.Select(c => c.Name)).Concat(g.Nodes.SelectMany(n => n.Outputs)).Append("").ToArray();
        switch (kind)
        {
            case 0 when node is not null:
            {
                var op = s_ops[rng.Next(s_ops.Length)];
                node.OpType = op.OpType;
                node.Attributes.RemoveAll(a => !op.Attributes.Contains(a.Name));
                what = $"[op {node.DisplayName}->{op.OpType}]";
                if (rng.Next(2) == 0) SetAttribute(node, op, rng, ref what);
                break;
            }
            case 1 or 2 when node is not null:
            {
                var op = OperatorRegistry.Find(node.Domain, node.OpType);
                if (op is null || op.Attributes.Count == 0) return null;
                SetAttribute(node, op, rng, ref what);
                break;
            }
            case 3 when node is not null && node.Attributes.Count > 0:
            {
                int i = rng.Next(node.Attributes.Count);
                what = $"[del attr {node.Attributes[i].Name}]";
                node.Attributes.RemoveAt(i);
                break;
            }
            case 4:
            {
                long v = rng.Next(3) == 0 ? s_ints[rng.Next(s_ints.Length)] : rng.Next(1, 25);
                model.Opsets[""] = v;
                what = $"[opset {v}]";
                break;
            }
            case 5 when g.Inputs.Count > 0:
            {
                var input = g.Inputs[rng.Next(g.Inputs.Count)];
                var shape = RandomShape(rng, allowHuge: true);
                var type = rng.Next(3) == 0 ? s_types[rng.Next(s_types.Length)] : input.Type?.ElemType ?? DataType.Float;
                input.Type = new ValueType(type, shape.Select(d => Dim.Known(d)).ToArray());
                what = $"[input {input.Name}: {type}[{string.Join(",", shape)}]]";
                break;
            }
            case 6 or 7:
            {
                var t = RandomTensor(rng);
                string name = g.Initializers.Count > 0 && rng.Next(4) != 0 ? g.Initializers.ElementAt(rng.Next(g.Initializers.Count)).Name : names[rng.Next(names.Length)];
                if (name.Length == 0) return null;
                g.Initializers.Set(new Constant(name, t));
                what = $"[init {name} = {t}]";
                break;
            }
            case 8 when node is not null:
            {
                int r = rng.Next(3);
                if (r == 0 || node.Inputs.Count == 0) node.Inputs.Add(names[rng.Next(names.Length)]);
                else if (r == 1) node.Inputs.RemoveAt(node.Inputs.Count - 1);
                else node.Inputs[rng.Next(node.Inputs.Count)] = names[rng.Next(names.Length)];
                what = $"[inputs {node.DisplayName}: {string.Join(",", node.Inputs)}]";
                break;
            }
            case 9 when node is not null:
            {
                // A Constant node with a hostile value feeding a random input.
                var t = RandomTensor(rng);
                string name = $"fuzzc{rng.Next(1000)}";
                g.Nodes.Insert(0, new Node { Name = name, OpType = "Constant", Outputs = [name], Attributes = [new Attribute { Name = "value", Kind = AttributeKind.Tensor, T = new Constant("", t) }] });
                if (node.Inputs.Count > 0) node.Inputs[rng.Next(node.Inputs.Count)] = name; else node.Inputs.Add(name);
                what = $"[const {t} -> {node.DisplayName}]";
                break;
            }
            default: return null;
        }
        try { return OnnxWriter.Write(model); }
        catch (EdgeException) { return null; }
    }

    private static void SetAttribute(Node node, Operator op, Random rng, ref string what)
    {
        var names = op.Attributes.OrderBy(n => n, StringComparer.Ordinal).ToArray();
        if (names.Length == 0) return;
        string name = names[rng.Next(names.Length)];
        var existing = node.GetAttribute(name);
        // Mostly keep the kind the attribute already has (the plausible one), sometimes a wrong kind.
        AttributeKind kind = existing is not null && rng.Next(5) != 0 ? existing.Kind
            : new[] { AttributeKind.Int, AttributeKind.Int, AttributeKind.Ints, AttributeKind.Ints, AttributeKind.Float, AttributeKind.Floats, AttributeKind.String, AttributeKind.Tensor, AttributeKind.Strings }[rng.Next(9)];
        Attribute a = kind switch
        {
            AttributeKind.Int => new() { Name = name, Kind = kind, I = s_ints[rng.Next(s_ints.Length)] },
            AttributeKind.Float => new() { Name = name, Kind = kind, F = s_floats[rng.Next(s_floats.Length)] },
            AttributeKind.String => new() { Name = name, Kind = kind, S = System.Text.Encoding.UTF8.GetBytes(s_strings[rng.Next(s_strings.Length)]) },
            AttributeKind.Floats => new() { Name = name, Kind = kind, Floats = Enumerable.Range(0, rng.Next(7)).Select(_ => s_floats[rng.Next(s_floats.Length)]).ToArray() },
            AttributeKind.Strings => new() { Name = name, Kind = kind, Strings = Enumerable.Range(0, rng.Next(4)).Select(_ => System.Text.Encoding.UTF8.GetBytes(s_strings[rng.Next(s_strings.Length)])).ToArray() },
            AttributeKind.Tensor => new() { Name = name, Kind = kind, T = new Constant("", RandomTensor(rng)) },
            _ => new() { Name = name, Kind = AttributeKind.Ints, Ints = Enumerable.Range(0, rng.Next(9)).Select(_ => rng.Next(3) == 0 ? s_ints[rng.Next(s_ints.Length)] : rng.Next(-4, 6)).ToArray() },
        };
        node.Attributes.RemoveAll(x => x.Name == name);
        node.Attributes.Add(a);
        what += $"[attr {node.DisplayName}.{name} {kind}]";
    }

    private static int[] RandomShape(Random rng, bool allowHuge)
    {
        int rank = rng.Next(6);
        var s = new int[rank];
        for (int i = 0; i < rank; i++)
            s[i] = allowHuge && rng.Next(20) == 0 ? new[] { 1 << 16, 1 << 20, int.MaxValue }[rng.Next(3)] : rng.Next(0, 6);
        return s;
    }

    private static Tensor RandomTensor(Random rng)
    {
        var type = s_types[rng.Next(s_types.Length)];
        var shape = RandomShape(rng, allowHuge: false);
        if (rng.Next(3) == 0) shape = rng.Next(2) == 0 ? [] : [rng.Next(0, 6)];
        long n = Shapes.Product(shape);
        var values = new long[n];
        for (int i = 0; i < n; i++) values[i] = rng.Next(3) == 0 ? s_ints[rng.Next(s_ints.Length)] : rng.Next(-4, 8);
        return Tensor.FromInt64s(type, shape, values);
    }
}
