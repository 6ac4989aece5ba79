using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.IR;
using EdgeCompile.Compiler.Operators;

namespace EdgeCompile.Compiler.Passes;

/// <summary>
/// Structural checks, then a stable topological sort (ONNX requires topological order; we restore it
/// rather than trust it): duplicate names (EDGE1201), values nothing produces (EDGE1202), cycles
/// (EDGE1203), graph outputs never produced (EDGE1204). Subgraphs may read values of enclosing scopes.
/// </summary>
public static class GraphValidator
{
    public static void Validate(Graph graph, IReadOnlySet<string>? outerScope = null)
    {
        var defined = new HashSet<string>(outerScope ?? new HashSet<string>(), StringComparer.Ordinal);
        var local = new HashSet<string>(StringComparer.Ordinal);
        foreach (var i in graph.Inputs)
        {
            if (!local.Add(i.Name)) throw new EdgeException(EdgeCodes.DuplicateName, $"Graph input '{i.Name}' is declared twice.");
        }
        foreach (var c in graph.Initializers) local.Add(c.Name); // an initializer may also be listed as an input (default value)
        var producer = new Dictionary<string, Node>(StringComparer.Ordinal);
        foreach (var n in graph.Nodes)
        {
            foreach (var o in n.Outputs)
            {
                if (o.Length == 0) continue;
                if (local.Contains(o) || !producer.TryAdd(o, n))
                    throw new EdgeException(EdgeCodes.DuplicateName, $"Value '{o}' is produced more than once (here by node '{n.DisplayName}'); ONNX graphs are in SSA form.", nodeName: n.DisplayName, opType: n.OpType);
            }
        }
        defined.UnionWith(local);

        // Kahn's algorithm, taking ready nodes in their original order so the sort is stable.
        var pending = new Dictionary<Node, int>();
        var consumers = new Dictionary<string, List<Node>>(StringComparer.Ordinal);
        foreach (var n in graph.Nodes)
        {
            int waits = 0;
            foreach (var input in NodeReads(n).Distinct())
            {
                if (defined.Contains(input)) continue;
                if (!producer.ContainsKey(input))
                    throw new EdgeException(EdgeCodes.UndefinedValue, $"Node reads value '{input}', which is not a graph input, an initializer or any node's output.", nodeName: n.DisplayName, opType: n.OpType);
                waits++;
                if (!consumers.TryGetValue(input, out var list)) consumers[input] = list = new List<Node>();
                list.Add(n);
            }
            pending[n] = waits;
        }
        var order = new List<Node>(graph.Nodes.Count);
        var index = graph.Nodes.Select((n, i) => (n, i)).ToDictionary(p => p.n, p => p.i);
        var ready = new SortedSet<int>(graph.Nodes.Where(n => pending[n] == 0).Select(n => index[n]));
        while (ready.Count > 0)
        {
            int first = ready.Min;
            ready.Remove(first);
            var n = graph.Nodes[first];
            order.Add(n);
            foreach (var o in n.Outputs)
            {
                if (o.Length == 0 || !consumers.TryGetValue(o, out var list)) continue;
                foreach (var c in list)
                    if (--pending[c] == 0) ready.Add(index[c]);
            }
        }
        if (order.Count != graph.Nodes.Count)
        {
            var sorted = new HashSet<Node>(order); // a set: List.Contains here made a late cycle in a large graph quadratic
            var stuck = graph.Nodes.First(n => !sorted.Contains(n));
            throw new EdgeException(EdgeCodes.Cycle, $"The graph has a cycle through node '{stuck.DisplayName}'; a node cannot depend on its own output.", nodeName: stuck.DisplayName, opType: stuck.OpType);
        }
        graph.Nodes.Clear();
        graph.Nodes.AddRange(order);

        foreach (var o in graph.Outputs)
            if (!defined.Contains(o.Name) && !producer.ContainsKey(o.Name))
                throw new EdgeException(EdgeCodes.MissingOutput, $"Graph output '{o.Name}' is not produced by any node, input or initializer.");

        // Subgraphs see everything defined here.
        var scope = new HashSet<string>(defined, StringComparer.Ordinal);
        scope.UnionWith(producer.Keys);
        foreach (var n in graph.Nodes)
            foreach (var a in n.Attributes)
            {
                try
                {
                    if (a.G is not null) Validate(a.G, scope);
                    foreach (var g in a.Graphs) Validate(g, scope);
                }
                catch (EdgeException e) { throw e.WithNode(n.DisplayName, n.OpType); }
            }
    }

    /// <summary>Values a node reads: its inputs, plus outer-scope values its subgraphs read (implicit inputs).</summary>
    public static IEnumerable<string> NodeReads(Node n)
    {
        foreach (var i in n.Inputs) if (i.Length > 0) yield return i;
        foreach (var a in n.Attributes)
        {
            if (a.G is not null) foreach (var v in FreeValues(a.G)) yield return v;
            foreach (var g in a.Graphs) foreach (var v in FreeValues(g)) yield return v;
        }
    }

    /// <summary>Values a subgraph reads from its enclosing scope.</summary>
    public static IEnumerable<string> FreeValues(Graph g)
    {
        var local = new HashSet<string>(g.Inputs.Select(i => i.Name).Concat(g.Initializers.Select(c => c.Name)), StringComparer.Ordinal);
        foreach (var n in g.Nodes) foreach (var o in n.Outputs) local.Add(o);
        var free = new List<string>();
        foreach (var n in g.Nodes)
            foreach (var r in NodeReads(n))
                if (!local.Contains(r)) free.Add(r);
        foreach (var o in g.Outputs) if (!local.Contains(o.Name)) free.Add(o.Name);
        return free.Distinct();
    }

    /// <summary>
    /// Checks every node against the operator registry: known operator (EDGE1301), known attributes
    /// (EDGE1302, unknown ones are never ignored), input/output counts (EDGE1303).
    /// </summary>
    public static void CheckSupported(Model model)
    {
        foreach (var n in model.Graph.Nodes)
        {
            var op = OperatorRegistry.Find(n.Domain, n.OpType)
                ?? throw new EdgeException(EdgeCodes.UnsupportedOperator,
                    $"Operator '{(n.Domain.Length > 0 ? n.Domain + "::" : "")}{n.OpType}' is not supported. See docs/conformance.md for the supported set.",
                    nodeName: n.DisplayName, opType: n.OpType);
            foreach (var a in n.Attributes)
                if (!op.Attributes.Contains(a.Name))
                    throw new EdgeException(EdgeCodes.InvalidAttribute,
                        $"Attribute '{a.Name}' is not known for {n.OpType} (known: {(op.Attributes.Count == 0 ? "none" : string.Join(", ", op.Attributes))}). Unknown attributes are rejected rather than ignored, since they could change the result.",
                        nodeName: n.DisplayName, opType: n.OpType);
            if (n.Inputs.Count < op.MinInputs || n.Inputs.Count > op.MaxInputs)
                throw new EdgeException(EdgeCodes.InvalidArity, $"{n.OpType} takes {Range(op.MinInputs, op.MaxInputs)} inputs; this node has {n.Inputs.Count}.", nodeName: n.DisplayName, opType: n.OpType);
            if (n.Outputs.Count < op.MinOutputs || n.Outputs.Count > op.MaxOutputs)
                throw new EdgeException(EdgeCodes.InvalidArity, $"{n.OpType} produces {Range(op.MinOutputs, op.MaxOutputs)} outputs; this node has {n.Outputs.Count}.", nodeName: n.DisplayName, opType: n.OpType);
        }
    }

    private static string Range(int min, int max) => min == max ? $"{min}" : max == int.MaxValue ? $"at least {min}" : $"{min} to {max}";
}
