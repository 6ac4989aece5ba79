namespace EdgeCompile.Compiler.Operators;

/// <summary>
/// All operators, found once by scanning this assembly for <see cref="Operator"/> subclasses (the compiler
/// runs as a tool, not in trimmed user code, so reflection is fine here; it keeps operators one file each
/// with no central list to edit).
/// </summary>
public static class OperatorRegistry
{
    private static readonly Dictionary<(string Domain, string OpType), Operator> s_ops = Discover();

    private static Dictionary<(string, string), Operator> Discover()
    {
        var d = new Dictionary<(string, string), Operator>();
        foreach (var t in typeof(Operator).Assembly.GetTypes())
        {
            if (t.IsAbstract || !typeof(Operator).IsAssignableFrom(t) || t.GetConstructor(Type.EmptyTypes) is null) continue;
            var op = (Operator)Activator.CreateInstance(t)!;
            if (!d.TryAdd((op.Domain, op.OpType), op))
                throw new InvalidOperationException($"Operator {op.Domain}::{op.OpType} is defined twice ({t.FullName} and {d[(op.Domain, op.OpType)].GetType().FullName}).");
        }
        return d;
    }

    public static Operator? Find(string domain, string opType) =>
        s_ops.TryGetValue((domain == "ai.onnx" ? "" : domain, opType), out var op) ? op : null;

    public static IEnumerable<Operator> All => s_ops.Values.OrderBy(o => o.Domain, StringComparer.Ordinal).ThenBy(o => o.OpType, StringComparer.Ordinal);
}
