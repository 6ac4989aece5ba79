using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.IR;
using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>
/// Einsum (opset 12+): Einstein summation over the inputs per the 'equation' attribute, numpy-style.
/// Terms are letters (a-z, A-Z) with at most one '...' standing for broadcast dims (right-aligned across
/// operands). A label repeated within one term takes the diagonal. Explicit mode ('->') names the output
/// labels; implicit mode outputs the ellipsis dims, then the labels used exactly once, in alphabetical
/// (ASCII) order. Every label not in the output is summed over. The reference loops over the whole index
/// space, accumulating in double (floats) or long (integers, wrapping).
/// </summary>
public sealed class Einsum : Operator
{
    public override string OpType => "Einsum";
    public override IReadOnlyCollection<string> Attributes => ["equation"];
    public override int MinInputs => 1;
    public override int MaxInputs => int.MaxValue;

    /// <summary>Ellipsis dims get labels ≥ this (letters are their char codes, below 128).</summary>
    private const int EllipsisLabel = 1000;

    /// <summary>A parsed term: its letters and where the ellipsis sits (-1: none).</summary>
    private sealed record Term(string Letters, int EllipsisAt);

    private sealed record Equation(Term[] Inputs, Term? Output);

    private static Equation Parse(NodeContext ctx, int inputCount)
    {
        var eq = ctx.GetString("equation", "");
        if (!ctx.HasAttribute("equation")) throw ctx.Error(EdgeCodes.InvalidAttribute, "Einsum needs the 'equation' attribute.");
        var text = new string(eq.Where(ch => !char.IsWhiteSpace(ch)).ToArray());
        var sides = text.Split("->");
        if (sides.Length > 2) throw ctx.Error(EdgeCodes.InvalidAttribute, $"Einsum equation '{eq}' has more than one '->'.");
        var terms = sides[0].Split(',').Select(t => ParseTerm(ctx, t, eq)).ToArray();
        if (terms.Length != inputCount)
            throw ctx.Error(EdgeCodes.InvalidAttribute, $"Einsum equation '{eq}' has {terms.Length} input terms but the node has {inputCount} inputs.");
        Term? output = sides.Length == 2 ? ParseTerm(ctx, sides[1], eq) : null;
        if (output is not null)
        {
            if (output.Letters.Distinct().Count() != output.Letters.Length)
                throw ctx.Error(EdgeCodes.InvalidAttribute, $"Einsum equation '{eq}': the output repeats a label.");
            foreach (var ch in output.Letters)
                if (!terms.Any(t => t.Letters.Contains(ch)))
                    throw ctx.Error(EdgeCodes.InvalidAttribute, $"Einsum equation '{eq}': output label '{ch}' does not appear in any input.");
        }
        return new Equation(terms, output);
    }

    private static Term ParseTerm(NodeContext ctx, string t, string eq)
    {
        int at = t.IndexOf("...", StringComparison.Ordinal);
        var letters = at < 0 ? t : t.Remove(at, 3);
        if (letters.Any(ch => !char.IsAsciiLetter(ch)))
            throw ctx.Error(EdgeCodes.InvalidAttribute, $"Einsum equation '{eq}': term '{t}' may hold only letters and one '...'.");
        return new Term(letters, at);
    }

    /// <summary>The labels of each dim of an operand of the given rank (ellipsis dims numbered from the right-aligned broadcast shape).</summary>
    private static int[] Labels(NodeContext ctx, Term term, int rank, int ellipsisRank)
    {
        int own = rank - term.Letters.Length;
        if (own < 0 || (own > 0 && term.EllipsisAt < 0))
            throw ctx.Error(EdgeCodes.ShapeMismatch, $"Einsum term '{term.Letters}' does not match an input of rank {rank}.");
        var r = new List<int>();
        for (int i = 0; i < term.Letters.Length; i++)
        {
            if (i == term.EllipsisAt)
                for (int e = 0; e < own; e++) r.Add(EllipsisLabel + ellipsisRank - own + e);
            r.Add(term.Letters[i]);
        }
        if (term.EllipsisAt == term.Letters.Length)
            for (int e = 0; e < own; e++) r.Add(EllipsisLabel + ellipsisRank - own + e);
        return r.ToArray();
    }

    /// <summary>Output labels: explicit, or implicit (ellipsis dims, then labels used once, sorted).</summary>
    private static int[] OutputLabels(Equation eq, int ellipsisRank)
    {
        var ell = Enumerable.Range(EllipsisLabel, ellipsisRank).ToList();
        if (eq.Output is { } o)
        {
            var r = new List<int>();
            for (int i = 0; i < o.Letters.Length; i++)
            {
                if (i == o.EllipsisAt) r.AddRange(ell);
                r.Add(o.Letters[i]);
            }
            if (o.EllipsisAt == o.Letters.Length) r.AddRange(ell);
            return r.ToArray();
        }
        var counts = eq.Inputs.SelectMany(t => t.Letters).GroupBy(c => c).Where(g => g.Count() == 1).Select(g => (int)g.Key).Order();
        return ell.Concat(counts).ToArray();
    }

    public override void InferTypes(InferenceContext ctx)
    {
        var eq = Parse(ctx, ctx.InputCount);
        var t = ctx.InputElemType(0);
        var shapes = Enumerable.Range(0, ctx.InputCount).Select(ctx.InputShape).ToArray();
        // Ellipsis dims: broadcast of each operand's ellipsis part; unknown if a rank is unknown.
        Dim[]? ellipsis = [];
        var ellParts = new List<Dim[]?>();
        for (int i = 0; i < shapes.Length; i++)
        {
            if (eq.Inputs[i].EllipsisAt < 0) continue;
            var s = shapes[i];
            if (s is null) { ellParts.Add(null); continue; }
            int own = s.Length - eq.Inputs[i].Letters.Length;
            if (own < 0) throw ctx.Error(EdgeCodes.ShapeMismatch, $"Einsum term {i} has more labels than its input has dims ({s.Length}).");
            ellParts.Add(s.Skip(eq.Inputs[i].EllipsisAt).Take(own).ToArray());
        }
        if (ellParts.Count > 0) ellipsis = ShapeRules.Broadcast(ctx, ellParts.ToArray());
        bool outHasEllipsis = eq.Output is null ? ellParts.Count > 0 : eq.Output.EllipsisAt >= 0;
        if (ellipsis is null && outHasEllipsis) { ctx.SetOutput(0, t, (Dim[]?)null); return; }
        int ellRank = ellipsis?.Length ?? 0;
        var size = new Dictionary<int, Dim>();
        for (int e = 0; e < ellRank; e++) size[EllipsisLabel + e] = ellipsis![e];
        for (int i = 0; i < shapes.Length; i++)
        {
            var s = shapes[i];
            if (s is null) continue;
            var labels = Labels(ctx, eq.Inputs[i], s.Length, ellRank);
            for (int d = 0; d < labels.Length; d++)
            {
                if (labels[d] >= EllipsisLabel) continue;
                if (!size.TryGetValue(labels[d], out var cur) || !cur.IsKnown && (s[d].IsKnown || cur.Param is null)) size[labels[d]] = s[d];
                else if (cur.IsKnown && s[d].IsKnown && cur.Value != s[d].Value)
                    throw ctx.Error(EdgeCodes.ShapeMismatch, $"Einsum label '{(char)labels[d]}' has sizes {cur.Value} and {s[d].Value}.");
            }
        }
        var outLabels = OutputLabels(eq, ellRank);
        ctx.SetOutput(0, t, outLabels.Select(l => size.TryGetValue(l, out var d) ? d : Dim.Unknown).ToArray());
    }

    /// <summary>
    /// The loop the reference runs (shared with the Einsum lowering): the size of every loop label — the output labels
    /// first (<c>OutRank</c> of them), then the summed labels in order — and per operand the element stride of each loop label.
    /// </summary>
    public static (int[] Dims, int OutRank, int[][] Strides) LoopPlan(NodeContext ctx, int[][] inputShapes)
        => LoopPlan(ctx, Parse(ctx, inputShapes.Length), inputShapes);

    private static (int[] Dims, int OutRank, int[][] Strides) LoopPlan(NodeContext ctx, Equation eq, int[][] shapes)
    {
        // Ellipsis rank and broadcast shape.
        int ellRank = 0;
        for (int i = 0; i < shapes.Length; i++)
            if (eq.Inputs[i].EllipsisAt >= 0) ellRank = Math.Max(ellRank, shapes[i].Length - eq.Inputs[i].Letters.Length);

        // Size of every label (ellipsis dims broadcast: 1 stretches).
        var size = new Dictionary<int, int>();
        var opLabels = new int[shapes.Length][];
        for (int i = 0; i < shapes.Length; i++)
        {
            var labels = opLabels[i] = Labels(ctx, eq.Inputs[i], shapes[i].Length, ellRank);
            for (int d = 0; d < labels.Length; d++)
            {
                int n = shapes[i][d];
                if (!size.TryGetValue(labels[d], out int cur) || (cur == 1 && labels[d] >= EllipsisLabel)) size[labels[d]] = n;
                else if (cur != n && !(n == 1 && labels[d] >= EllipsisLabel))
                    throw ctx.Error(EdgeCodes.ShapeMismatch, labels[d] >= EllipsisLabel
                        ? $"Einsum: the '...' dims of the inputs do not broadcast ({cur} vs {n})."
                        : $"Einsum label '{(char)labels[d]}' has sizes {cur} and {n}.");
            }
        }
        for (int e = 0; e < ellRank; e++) size.TryAdd(EllipsisLabel + e, 1);

        // Loop order: output labels, then summed labels.
        var outLabels = OutputLabels(eq, ellRank);
        var all = outLabels.Concat(size.Keys.Where(l => !outLabels.Contains(l)).Order()).ToArray();
        var dims = all.Select(l => size[l]).ToArray();

        // Per operand, the stride of each loop label (a repeated label adds strides: the diagonal;
        // a broadcast size-1 ellipsis dim has stride 0).
        var strides = new int[shapes.Length][];
        for (int i = 0; i < shapes.Length; i++)
        {
            var st = Shapes.Strides(shapes[i]);
            strides[i] = new int[all.Length];
            for (int d = 0; d < opLabels[i].Length; d++)
                if (shapes[i][d] != 1 || size[opLabels[i][d]] == 1)
                    strides[i][Array.IndexOf(all, opLabels[i][d])] += st[d];
        }

        return (dims, outLabels.Length, strides);
    }

    public override void Execute(ExecutionContext ctx)
    {
        var eq = Parse(ctx, ctx.InputCount);
        var inputs = Enumerable.Range(0, ctx.InputCount).Select(ctx.RequireInput).ToArray();
        var type = inputs[0].DataType;
        if (inputs.Any(x => x.DataType != type))
            throw ctx.Error(EdgeCodes.ShapeMismatch, "Einsum inputs must all have the same type.");
        if (type == DataType.Bool) throw ctx.Error(EdgeCodes.ShapeMismatch, "Einsum does not accept bool inputs.");

        var (dims, outRank, strides) = LoopPlan(ctx, eq, inputs.Select(x => x.Shape).ToArray());
        var outShape = dims[..outRank];
        int outCount = checked((int)Shapes.Product(outShape));

        bool isFloat = type.IsFloat();
        var dv = isFloat ? inputs.Select(x => MatMulHelpers.DoubleValues(x)).ToArray() : null;
        var lv = isFloat ? null : inputs.Select(x => MatMulHelpers.Int64Values(x)).ToArray();
        var accD = new double[outCount];
        var accL = new long[outCount];
        long total = Shapes.Product(dims);
        var counter = new int[dims.Length];
        var offset = new int[inputs.Length];
        var outStrides = Shapes.Strides(outShape);
        for (long step = 0; step < total; step++)
        {
            int o = 0;
            for (int d = 0; d < outRank; d++) o += counter[d] * outStrides[d];
            if (isFloat)
            {
                double p = 1;
                for (int i = 0; i < inputs.Length; i++) p *= dv![i][offset[i]];
                accD[o] += p;
            }
            else
            {
                long p = 1;
                for (int i = 0; i < inputs.Length; i++) p = unchecked(p * lv![i][offset[i]]);
                accL[o] = unchecked(accL[o] + p);
            }
            for (int d = dims.Length - 1; d >= 0; d--)
            {
                counter[d]++;
                for (int i = 0; i < inputs.Length; i++) offset[i] += strides[i][d];
                if (counter[d] < dims[d]) break;
                for (int i = 0; i < inputs.Length; i++) offset[i] -= strides[i][d] * counter[d];
                counter[d] = 0;
            }
        }
        ctx.SetOutput(0, isFloat ? Tensor.FromDoubles(type, outShape, accD) : Tensor.FromInt64s(type, outShape, accL));
    }
}
