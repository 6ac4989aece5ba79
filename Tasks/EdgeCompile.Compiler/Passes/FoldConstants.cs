using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.IR;
using EdgeCompile.Compiler.Operators;

namespace EdgeCompile.Compiler.Passes;

/// <summary>
/// Constant folding: a node whose inputs are all constants (initializers that are not overridable graph
/// inputs, or outputs of already folded nodes) is evaluated once with the reference semantics and replaced
/// by initializers. Shape-computing subgraphs (Shape → Gather → Concat → Reshape) collapse this way once
/// shapes are static. Results larger than the limit stay as nodes (no blow-up of the model).
/// </summary>
public static class FoldConstants
{
    /// <summary>Ops whose value is not a pure function of their inputs, never folded.</summary>
    private static readonly HashSet<string> s_nonDeterministic = new(StringComparer.Ordinal)
    { "RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike", "Multinomial", "Bernoulli" };

    /// <param name="model">The model, changed in place.</param>
    /// <param name="maxElements">Largest result folded (elements).</param>
    /// <param name="preserveQuantization">Keep QuantizeLinear/DequantizeLinear nodes (a pre-quantized model's
    /// weight DequantizeLinear would otherwise fold into float weights and lose its scales).</param>
    public static int Run(Model model, long maxElements = 1 << 20, bool preserveQuantization = false)
    {
        var g = model.Graph;
        var graphInputs = new HashSet<string>(g.Inputs.Select(i => i.Name), StringComparer.Ordinal);
        int folded = 0;
        var keep = new List<Node>(g.Nodes.Count);
        foreach (var n in g.Nodes)
        {
            bool quantizationNode = n.OpType is "QuantizeLinear" or "DequantizeLinear" && n.Domain.Length == 0;
            if (preserveQuantization && quantizationNode || !TryFold(model, n, graphInputs, maxElements)) { keep.Add(n); continue; }
            folded++;
        }
        if (folded > 0)
        {
            g.Nodes.Clear();
            g.Nodes.AddRange(keep);
        }
        return folded;
    }

    private static bool TryFold(Model model, Node n, HashSet<string> graphInputs, long maxElements)
    {
        var g = model.Graph;
        if (s_nonDeterministic.Contains(n.OpType) || n.Domain.Length > 0) return false;
        if (n.Attributes.Any(a => a.G is not null || a.Graphs.Length > 0)) return false;
        var op = OperatorRegistry.Find(n.Domain, n.OpType);
        if (op is null) return false;
        var inputs = new Tensor?[n.Inputs.Count];
        for (int i = 0; i < inputs.Length; i++)
        {
            var name = n.Inputs[i];
            if (name.Length == 0) continue;
            if (graphInputs.Contains(name) || !g.Initializers.TryGet(name, out var c)) return false;
            if (c.ElementCount > maxElements || !c.DataType.IsSupported()) return false;
            inputs[i] = c.Value;
        }
        // Predict the output size from inferred shapes before computing anything.
        foreach (var o in n.Outputs)
        {
            if (o.Length == 0) continue;
            var t = g.TypeOf(o);
            if (t?.StaticShape is not { } s || Shapes.Product(s) > maxElements) return false;
        }
        var ctx = new Operators.ExecutionContext(n, model.OpsetFor(n.Domain), inputs);
        try { op.Execute(ctx); }
        catch (EdgeException e) { throw e.WithNode(n.DisplayName, n.OpType); }
        catch (Exception e) when (e is OverflowException or OutOfMemoryException)
        {
            // Same policy as the executor: a result too large to compute is a limit, not a crash.
            throw new EdgeException(EdgeCodes.LimitExceeded, $"Folding this constant computation overflows ({e.Message}).", nodeName: n.DisplayName, opType: n.OpType, inner: e);
        }
        for (int i = 0; i < n.Outputs.Count; i++)
        {
            if (n.Outputs[i].Length == 0) continue;
            var value = ctx.Outputs[i]!;
            g.Initializers.Set(new IR.Constant(n.Outputs[i], value));
            g.ValueTypes[n.Outputs[i]] = IR.ValueType.FromShape(value.DataType, value.Shape);
        }
        return true;
    }
}
