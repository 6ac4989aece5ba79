using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.IR;
using EdgeCompile.Compiler.Operators;
using ValueType = EdgeCompile.Compiler.IR.ValueType;

namespace EdgeCompile.Compiler.Passes;

/// <summary>
/// Shape and type inference over the whole graph, node by node in topological order, with each
/// operator's own rule (<see cref="Operator.InferTypes"/>). Constants (initializers, and Constant nodes)
/// are visible to rules that need values (Reshape's shape, Slice's starts ...). Results go into
/// <see cref="Graph.ValueTypes"/>; an inferred type that contradicts a declared one is an error.
/// </summary>
public static class InferShapes
{
    public static void Run(Model model)
    {
        var g = model.Graph;
        var constants = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        Tensor? ConstantOf(string name)
        {
            if (constants.TryGetValue(name, out var t)) return t;
            // An initializer that is also a graph input can be overridden at run time: not a constant.
            if (g.Initializers.TryGet(name, out var c) && !g.Inputs.Any(i => i.Name == name)) return c.Value;
            return null;
        }

        // Graph outputs by name (first wins, as FirstOrDefault did): a linear scan per node output was quadratic.
        var graphOutputs = new Dictionary<string, ValueInfo>(StringComparer.Ordinal);
        foreach (var o in g.Outputs) graphOutputs.TryAdd(o.Name, o);

        foreach (var n in g.Nodes)
        {
            var op = OperatorRegistry.Find(n.Domain, n.OpType);
            if (op is null) continue; // unsupported: CheckSupported reports it where that matters
            var ctx = new InferenceContext(n, model.OpsetFor(n.Domain), g.TypeOf, ConstantOf);
            try
            {
                op.InferTypes(ctx);
            }
            catch (EdgeException e) { throw e.WithNode(n.DisplayName, n.OpType); }
            catch (OverflowException e)
            {
                // Rules compute on file-controlled dims with checked arithmetic: an overflow means an impossible shape.
                throw new EdgeException(EdgeCodes.InvalidDimension, $"The output shape cannot be computed: a dimension or element count overflows 64 bits ({e.Message}).", nodeName: n.DisplayName, opType: n.OpType, inner: e);
            }
            for (int i = 0; i < n.Outputs.Count; i++)
            {
                var inferred = ctx.Outputs[i];
                var name = n.Outputs[i];
                if (inferred is null || name.Length == 0) continue;
                var graphOutput = graphOutputs.GetValueOrDefault(name);
                var declared = g.ValueTypes.TryGetValue(name, out var vt) ? vt : graphOutput?.Type;
                if (declared is { IsTensor: true })
                    inferred = Reconcile(n, name, declared, inferred);
                g.ValueTypes[name] = inferred;
                if (graphOutput is not null) graphOutput.Type = inferred;
            }
            // Constant-producing nodes make their values visible to later rules.
            if (n.OpType == "Constant" && n.Domain.Length == 0 && n.Outputs.Count == 1)
            {
                try
                {
                    var ex = new Operators.ExecutionContext(n, model.OpsetFor(""), []);
                    op.Execute(ex);
                    if (ex.Outputs[0] is { } value) constants[n.Outputs[0]] = value;
                }
                catch (EdgeException e) { throw e.WithNode(n.DisplayName, n.OpType); }
            }
        }
    }

    /// <summary>Merges a declared (value_info/output) type with the inferred one, preferring known dims.</summary>
    private static ValueType Reconcile(Node n, string name, ValueType declared, ValueType inferred)
    {
        if (declared.ElemType != DataType.Undefined && declared.ElemType != inferred.ElemType)
            throw new EdgeException(EdgeCodes.ShapeMismatch,
                $"Value '{name}' is declared as {declared.ElemType.OnnxName()} but the operator produces {inferred.ElemType.OnnxName()}.", nodeName: n.DisplayName, opType: n.OpType);
        if (inferred.Shape is null) return declared with { ElemType = inferred.ElemType };
        if (declared.Shape is null) return inferred;
        if (declared.Shape.Length != inferred.Shape.Length)
            throw new EdgeException(EdgeCodes.ShapeMismatch,
                $"Value '{name}' is declared with rank {declared.Shape.Length} but the operator produces rank {inferred.Shape.Length}.", nodeName: n.DisplayName, opType: n.OpType);
        var merged = new Dim[declared.Shape.Length];
        for (int i = 0; i < merged.Length; i++)
        {
            var d = declared.Shape[i];
            var f = inferred.Shape[i];
            if (d.IsKnown && f.IsKnown && d.Value != f.Value)
                throw new EdgeException(EdgeCodes.ShapeMismatch,
                    $"Value '{name}' is declared with dimension {i} = {d.Value} but the operator produces {f.Value}.", nodeName: n.DisplayName, opType: n.OpType);
            merged[i] = f.IsKnown ? f : d.IsKnown ? d : f.Param is not null ? f : d;
        }
        return new ValueType(inferred.ElemType, merged);
    }

    /// <summary>Replaces graph-input dims with concrete sizes (e.g. from test data or InputShapes metadata).</summary>
    public static void BindInputShapes(Model model, IReadOnlyDictionary<string, int[]> shapes)
    {
        foreach (var input in model.Graph.Inputs)
        {
            if (!shapes.TryGetValue(input.Name, out var s) || input.Type is null) continue;
            input.Type = ValueType.FromShape(input.Type.ElemType, s);
        }
    }
}
