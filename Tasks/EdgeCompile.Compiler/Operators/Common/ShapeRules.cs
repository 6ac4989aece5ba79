using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.IR;

namespace EdgeCompile.Compiler.Operators.Common;

/// <summary>Shape-inference building blocks over symbolic shapes (<see cref="Dim"/>), shared by the operator files.</summary>
public static class ShapeRules
{
    /// <summary>Output 0 has input 0's type and shape (unary elementwise ops).</summary>
    public static void SameAsInput(InferenceContext ctx, int input = 0, int output = 0)
    {
        var t = ctx.InputType(input);
        if (t is null) return;
        ctx.SetOutput(output, t.ElemType, t.Shape);
    }

    /// <summary>Multidirectional (numpy) broadcasting of symbolic shapes; null if any rank is unknown.</summary>
    public static Dim[]? Broadcast(InferenceContext ctx, params Dim[]?[] shapes)
    {
        if (shapes.Any(s => s is null)) return null;
        int rank = shapes.Max(s => s!.Length);
        var r = new Dim[rank];
        for (int i = 0; i < rank; i++)
        {
            Dim acc = Dim.Known(1);
            bool first = true;
            foreach (var s in shapes)
            {
                int k = i - (rank - s!.Length);
                if (k < 0) continue;
                var d = s[k];
                if (first) { acc = d; first = false; continue; }
                acc = Merge(ctx, acc, d, i);
            }
            r[i] = acc;
        }
        return r;
    }

    private static Dim Merge(InferenceContext ctx, Dim a, Dim b, int axis)
    {
        if (a.IsKnown && a.Value == 1) return b;
        if (b.IsKnown && b.Value == 1) return a;
        if (a.IsKnown && b.IsKnown)
        {
            if (a.Value == b.Value) return a;
            throw ctx.Error(EdgeCodes.ShapeMismatch, $"Input shapes cannot be broadcast: dimension {axis} is {a.Value} in one input and {b.Value} in another.");
        }
        if (a.IsKnown) return a; // a known size other than 1 fixes the result (the other must match at run time)
        if (b.IsKnown) return b;
        if (a.Param is not null && a.Param == b.Param) return a;
        return Dim.Unknown;
    }

    /// <summary>Input shapes broadcast; output element type given.</summary>
    public static void Broadcast(InferenceContext ctx, DataType outType)
    {
        var shapes = Enumerable.Range(0, ctx.InputCount).Where(ctx.HasInput).Select(ctx.InputShape).ToArray();
        ctx.SetOutput(0, outType, Broadcast(ctx, shapes));
    }

    public static Dim[] Known(params long[] dims) => dims.Select(d => Dim.Known(d)).ToArray();

    /// <summary>Product of dims if all known, else null.</summary>
    public static long? KnownProduct(IEnumerable<Dim> dims)
    {
        long p = 1;
        foreach (var d in dims) { if (!d.IsKnown) return null; p = checked(p * d.Value); }
        return p;
    }

    /// <summary>Normalizes an axis for a tensor of the given rank, with a coded error on out-of-range.</summary>
    public static int Axis(NodeContext ctx, long axis, int rank, string what = "axis")
    {
        long a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank)
            throw ctx.Error(EdgeCodes.InvalidAttribute, $"{what} {axis} is out of range for rank {rank}.");
        return (int)a;
    }
}
