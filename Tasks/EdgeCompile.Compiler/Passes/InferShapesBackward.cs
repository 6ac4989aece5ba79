using EdgeCompile.Compiler.IR;

namespace EdgeCompile.Compiler.Passes;

/// <summary>
/// Shapes forward inference cannot know but the graph's declared outputs pin down. Expanded functions (ReduceL2 as
/// ReduceSumSquare → Cast → Sqrt → CastLike, the window functions as Range → Mul → Cos → ...) compute a value whose
/// shape depends on a run-time input (the axes, the window size) and then pass it through shape-preserving
/// elementwise operators to an output whose shape the model declares. Walking back from values with static shapes
/// through those operators gives the intermediate shapes (an operand's unknown dimension takes the output's:
/// the non-broadcasting reading).
/// <para>
/// Nothing is assumed unchecked: the assignment is kept only when every value it gives a shape is produced either by
/// one of those elementwise operators (whose forward broadcast must then give their output's shape) or by an
/// operator whose kernel checks its run-time parameters against the compiled output shape and throws otherwise
/// (Reduce.RuntimeAxes for Reduce* with run-time axes, Misc.Range). A wrong reading therefore fails loudly at run
/// time, never silently. Otherwise the graph is left as it was (and lowering reports EDGE2102 as before).
/// </para>
/// </summary>
public static class InferShapesBackward
{
    private static readonly HashSet<string> s_unary = new(StringComparer.Ordinal)
    {
        "Cast", "CastLike", "Identity", "Abs", "Neg", "Sqrt", "Exp", "Log", "Reciprocal", "Floor", "Ceil", "Round", "Relu", "Sigmoid",
        "Tanh", "Sin", "Cos", "Tan", "Erf", "Softplus", "Softsign", "Elu", "Selu", "LeakyRelu", "HardSigmoid", "HardSwish", "Sign", "Not",
    };

    private static readonly HashSet<string> s_binary = new(StringComparer.Ordinal)
    {
        "Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Mod", "And", "Or", "Xor", "Equal", "Less", "LessOrEqual", "Greater", "GreaterOrEqual",
    };

    /// <summary>Producers whose kernels verify the compiled output shape against their run-time parameters.</summary>
    private static readonly HashSet<string> s_checkedAtRunTime = new(StringComparer.Ordinal)
    {
        "ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceSumSquare", "ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "Range",
    };

    /// <summary>Returns the number of values that got a static shape.</summary>
    public static int Run(Model model)
    {
        var g = model.Graph;
        var nodes = g.Nodes.Where(n => n.Domain.Length == 0).ToList();
        var producer = new Dictionary<string, Node>(StringComparer.Ordinal);
        foreach (var n in g.Nodes)
            foreach (var o in n.Outputs)
                if (o.Length > 0) producer[o] = n;

        var assumed = new Dictionary<string, int[]>(StringComparer.Ordinal);
        int[]? Static(string v) => assumed.TryGetValue(v, out var s) ? s : g.TypeOf(v)?.StaticShape;

        for (int i = nodes.Count - 1; i >= 0; i--)
        {
            var n = nodes[i];
            bool unary = s_unary.Contains(n.OpType), binary = s_binary.Contains(n.OpType);
            if (!unary && !binary || n.Outputs.Count != 1 || n.Outputs[0].Length == 0) continue;
            if (Static(n.Outputs[0]) is not { } y) continue;
            var operands = unary ? n.Inputs.Take(1) : n.Inputs.Where(v => v.Length > 0);
            foreach (var v in operands)
            {
                if (Static(v) is not null || g.TypeOf(v) is not { } t || t.Shape is null) continue;
                var dims = t.Shape;
                if (unary ? dims.Length != y.Length : dims.Length > y.Length) continue;
                int offset = y.Length - dims.Length;
                var s = new int[dims.Length];
                for (int d = 0; d < dims.Length; d++)
                    s[d] = dims[d].IsKnown ? (int)dims[d].Value : y[offset + d];
                assumed[v] = s;
            }
        }
        if (assumed.Count == 0) return 0;

        // Every assumed value must be produced by an elementwise operator whose operands now broadcast to it, or by
        // an operator that checks its output shape at run time.
        foreach (var (v, shape) in assumed)
        {
            if (!producer.TryGetValue(v, out var p) || p.Domain.Length > 0) return 0;
            if (s_checkedAtRunTime.Contains(p.OpType)) continue;
            bool unary = s_unary.Contains(p.OpType);
            if (!unary && !s_binary.Contains(p.OpType)) return 0;
            var operands = (unary ? p.Inputs.Take(1) : p.Inputs.Where(i => i.Length > 0)).Select(Static).ToList();
            if (operands.Any(o => o is null)) return 0;
            int[] result = unary ? operands[0]! : operands.Aggregate((a, b) => Broadcast(a!, b!) ?? [-1])!;
            if (!result.SequenceEqual(shape)) return 0;
        }
        foreach (var (v, shape) in assumed)
            g.ValueTypes[v] = IR.ValueType.FromShape(g.TypeOf(v)!.ElemType, shape);
        return assumed.Count;
    }

    private static int[]? Broadcast(int[] a, int[] b)
    {
        if (a.Length == 1 && a[0] == -1 || b.Length == 1 && b[0] == -1) return null;
        int rank = Math.Max(a.Length, b.Length);
        var r = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            int da = i < rank - a.Length ? 1 : a[i - (rank - a.Length)];
            int db = i < rank - b.Length ? 1 : b[i - (rank - b.Length)];
            if (da != db && da != 1 && db != 1) return null;
            r[i] = da == 1 ? db : da;
        }
        return r;
    }
}
