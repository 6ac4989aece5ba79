using EdgeCompile.Compiler.IR;

namespace EdgeCompile.Compiler.Passes;

/// <summary>
/// Dead-code removal: keeps only nodes whose outputs reach a graph output (through any chain of
/// readers, subgraph reads included), and initializers something still reads. Other passes leave
/// their debris for this one.
/// </summary>
public static class RemoveDeadCode
{
    public static int Run(Model model)
    {
        var g = model.Graph;
        var live = new HashSet<string>(g.Outputs.Select(o => o.Name), StringComparer.Ordinal);
        var keep = new List<Node>();
        for (int i = g.Nodes.Count - 1; i >= 0; i--)
        {
            var n = g.Nodes[i];
            if (!n.Outputs.Any(live.Contains)) continue;
            keep.Add(n);
            foreach (var r in GraphValidator.NodeReads(n)) live.Add(r);
        }
        keep.Reverse();
        int removed = g.Nodes.Count - keep.Count;
        g.Nodes.Clear();
        g.Nodes.AddRange(keep);
        var graphInputs = new HashSet<string>(g.Inputs.Select(i => i.Name), StringComparer.Ordinal);
        foreach (var c in g.Initializers.ToList())
            if (!live.Contains(c.Name) && !graphInputs.Contains(c.Name)) { g.Initializers.Remove(c.Name); removed++; }
        foreach (var name in g.ValueTypes.Keys.ToList())
            if (!live.Contains(name) && !graphInputs.Contains(name)) g.ValueTypes.Remove(name);
        return removed;
    }
}
