using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.IR;
using EdgeCompile.Compiler.Operators;
using EdgeCompile.Compiler.Passes;

namespace EdgeCompile.Compiler.Reference;

/// <summary>
/// The float reference executor: runs a model node by node with each operator's reference semantics.
/// It is the oracle for every later stage (kernels, quantization) and the calibration engine, so it
/// favours exactness and clarity over speed. Thread-safe: each <see cref="Run"/> has its own values.
/// </summary>
public sealed class ReferenceExecutor
{
    private readonly Model _model;
    private readonly Operator[] _ops;
    private readonly Dictionary<string, int> _lastUse;

    public ReferenceExecutor(Model model)
    {
        _model = model;
        GraphValidator.Validate(model.Graph);
        GraphValidator.CheckSupported(model);
        _ops = model.Graph.Nodes.Select(n => OperatorRegistry.Find(n.Domain, n.OpType)!).ToArray();
        // Free each intermediate after its last reader, so peak memory stays near the live set.
        _lastUse = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < model.Graph.Nodes.Count; i++)
            foreach (var v in GraphValidator.NodeReads(model.Graph.Nodes[i])) _lastUse[v] = i;
        foreach (var o in model.Graph.Outputs) _lastUse[o.Name] = int.MaxValue;
    }

    public Model Model => _model;

    /// <summary>
    /// Runs the model. <paramref name="observe"/>, if given, sees every node output as it is produced
    /// (calibration histograms, debugging dumps).
    /// </summary>
    public Dictionary<string, Tensor> Run(IReadOnlyDictionary<string, Tensor> inputs, Action<Node, string, Tensor>? observe = null)
    {
        var g = _model.Graph;
        var values = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var c in g.Initializers) values[c.Name] = c.Value;
        foreach (var input in g.Inputs)
        {
            if (inputs.TryGetValue(input.Name, out var t))
            {
                CheckInput(input, t);
                values[input.Name] = t;
            }
            else if (!g.Initializers.Contains(input.Name))
                throw new EdgeException(EdgeCodes.BadModelInput, $"Model input '{input.Name}' was not given.", _model.SourcePath);
        }
        RunNodes(g, values, 0, observe);
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var o in g.Outputs)
        {
            if (!values.TryGetValue(o.Name, out var t))
                throw new EdgeException(EdgeCodes.MissingOutput, $"Graph output '{o.Name}' was not produced.", _model.SourcePath);
            result[o.Name] = t;
        }
        return result;
    }

    private void RunNodes(Graph g, Dictionary<string, Tensor> values, int depth, Action<Node, string, Tensor>? observe)
    {
        for (int k = 0; k < g.Nodes.Count; k++)
        {
            var n = g.Nodes[k];
            var op = depth == 0 ? _ops[k] : OperatorRegistry.Find(n.Domain, n.OpType)!;
            var ins = new Tensor?[n.Inputs.Count];
            for (int i = 0; i < ins.Length; i++)
            {
                var name = n.Inputs[i];
                if (name.Length == 0) continue;
                ins[i] = values.TryGetValue(name, out var v) ? v
                    : throw new EdgeException(EdgeCodes.UndefinedValue, $"Value '{name}' is not available.", _model.SourcePath, n.DisplayName, n.OpType);
            }
            var ctx = new Operators.ExecutionContext(n, _model.OpsetFor(n.Domain), ins);
            try
            {
                op.Execute(ctx);
            }
            catch (EdgeException e)
            {
                var coded = e.WithNode(n.DisplayName, n.OpType);
                throw _model.SourcePath is null ? coded : coded.WithFile(_model.SourcePath);
            }
            catch (Exception e) when (e is OverflowException or OutOfMemoryException)
            {
                throw new EdgeException(EdgeCodes.LimitExceeded, $"The operator's result is too large to compute ({e.Message}).", _model.SourcePath, n.DisplayName, n.OpType, e);
            }
            for (int i = 0; i < n.Outputs.Count; i++)
            {
                var name = n.Outputs[i];
                if (name.Length == 0) continue;
                var t = ctx.Outputs[i]
                    ?? throw new InvalidOperationException($"{n.OpType} did not produce output {i} ('{name}').");
                values[name] = t;
                observe?.Invoke(n, name, t);
            }
            if (depth == 0)
                foreach (var name in n.Inputs)
                    if (name.Length > 0 && _lastUse.TryGetValue(name, out var last) && last == k && !g.Initializers.Contains(name))
                        values.Remove(name);
        }
    }

    private void CheckInput(ValueInfo input, Tensor t)
    {
        var type = input.Type;
        if (type is null) return;
        if (type.ElemType != t.DataType)
            throw new EdgeException(EdgeCodes.BadModelInput, $"Model input '{input.Name}' is {type.ElemType.OnnxName()}, but a {t.DataType.OnnxName()} tensor was given.", _model.SourcePath);
        if (type.Shape is null) return;
        if (type.Shape.Length != t.Rank)
            throw new EdgeException(EdgeCodes.BadModelInput, $"Model input '{input.Name}' has rank {type.Shape.Length}, but a tensor of shape {Shapes.Format(t.Shape)} was given.", _model.SourcePath);
        for (int i = 0; i < t.Rank; i++)
            if (type.Shape[i].IsKnown && type.Shape[i].Value != t.Shape[i])
                throw new EdgeException(EdgeCodes.BadModelInput, $"Model input '{input.Name}' has dimension {i} = {type.Shape[i].Value}, but a tensor of shape {Shapes.Format(t.Shape)} was given.", _model.SourcePath);
    }
}
