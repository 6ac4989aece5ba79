using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.IR;
using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>
/// TopK (opset 1: attribute k; opset 10: K is a one-element int64 input; opset 11: negative axis,
/// 'largest' and 'sorted'). Outputs the K largest (or smallest) elements along 'axis' (default -1) and
/// their int64 indices. Equal values keep the lower index first (the spec's tie rule). NaN ranks above
/// every number (as numpy's sort). With sorted=0 the order is unspecified; we return it sorted anyway.
/// </summary>
public sealed class TopK : Operator
{
    public override string OpType => "TopK";
    public override IReadOnlyCollection<string> Attributes => ["axis", "k", "largest", "sorted"];
    public override int MinInputs => 1;
    public override int MaxInputs => 2;
    public override int MinOutputs => 2;
    public override int MaxOutputs => 2;

    public override void InferTypes(InferenceContext ctx)
    {
        var type = BinaryHelpers.CheckSameType(ctx, BinaryHelpers.IsNumeric, "a numeric type", 0) ?? ctx.InputElemType(0);
        Flags(ctx);
        if (ctx.Opset >= 10) CheckKInput(ctx);
        long? k = ctx.Opset < 10 ? AttributeK(ctx) : ctx.ConstantInput(1) is { } kt ? InputK(ctx, kt) : null;
        var shape = ctx.InputShape(0);
        Dim[]? outShape = null;
        if (shape is not null)
        {
            int axis = ShapeRules.Axis(ctx, ctx.GetInt("axis", -1), shape.Length);
            if (k is { } kv && shape[axis].IsKnown && kv > shape[axis].Value)
                throw ctx.Error(EdgeCodes.InvalidValue, $"TopK k = {kv} exceeds the size {shape[axis].Value} of axis {axis}.");
            outShape = (Dim[])shape.Clone();
            outShape[axis] = k is { } known ? Dim.Known(known) : Dim.Unknown;
        }
        ctx.SetOutput(0, type, outShape);
        ctx.SetOutput(1, DataType.Int64, outShape);
    }

    public override void Execute(ExecutionContext ctx)
    {
        var x = ctx.RequireInput(0);
        BinaryHelpers.CheckSameType(ctx, BinaryHelpers.IsNumeric, "a numeric type", 0);
        var (largest, _) = Flags(ctx);
        if (ctx.Opset >= 10) CheckKInput(ctx);
        long k = ctx.Opset < 10 ? AttributeK(ctx) : InputK(ctx, ctx.RequireInput(1));
        if (x.Rank == 0) throw ctx.Error(EdgeCodes.ShapeMismatch, "TopK needs an input of rank 1 or more.");
        int axis = ShapeRules.Axis(ctx, ctx.GetInt("axis", -1), x.Rank);
        int len = x.Shape[axis];
        if (k > len) throw ctx.Error(EdgeCodes.InvalidValue, $"TopK k = {k} exceeds the size {len} of axis {axis}.");

        // View x as [outer, len, inner]; sort each line of 'len' elements.
        int outer = checked((int)Shapes.Product(x.Shape.AsSpan(0, axis)));
        int inner = checked((int)Shapes.Product(x.Shape.AsSpan(axis + 1)));
        Comparison<int> compareValues = ValueComparison(x); // ascending, on flat indices
        var outShape = (int[])x.Shape.Clone();
        outShape[axis] = (int)k;
        var take = new int[checked((int)Shapes.Product(outShape))];
        var indices = new long[take.Length];
        var line = new int[len];
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                for (int j = 0; j < len; j++) line[j] = (o * len + j) * inner + i;
                Array.Sort(line, (p, q) =>
                {
                    int c = compareValues(p, q);
                    if (largest) c = -c;
                    return c != 0 ? c : p.CompareTo(q); // ties: lower index first
                });
                for (int j = 0; j < k; j++)
                {
                    int at = (o * (int)k + j) * inner + i;
                    take[at] = line[j];
                    indices[at] = (line[j] - i) / inner % len;
                }
            }
        ctx.SetOutput(0, x.Take(outShape, take));
        ctx.SetOutput(1, new Tensor(DataType.Int64, outShape, indices));
    }

    private static Comparison<int> ValueComparison(Tensor x)
    {
        if (x.DataType.IsFloat())
        {
            var v = x.ToDoubles();
            return (p, q) =>
            {
                bool np = double.IsNaN(v[p]), nq = double.IsNaN(v[q]);
                if (np || nq) return np == nq ? 0 : np ? 1 : -1;
                return v[p].CompareTo(v[q]);
            };
        }
        if (x.DataType == DataType.UInt64)
        {
            var u = x.ToUInt64s();
            return (p, q) => u[p].CompareTo(u[q]);
        }
        var l = x.ToInt64s();
        return (p, q) => l[p].CompareTo(l[q]);
    }

    private static (bool Largest, bool Sorted) Flags(NodeContext ctx)
    {
        long l = ctx.GetInt("largest", 1), s = ctx.GetInt("sorted", 1);
        if (l is not (0 or 1)) throw ctx.Error(EdgeCodes.InvalidAttribute, $"TopK attribute largest must be 0 or 1, got {l}.");
        if (s is not (0 or 1)) throw ctx.Error(EdgeCodes.InvalidAttribute, $"TopK attribute sorted must be 0 or 1, got {s}.");
        return (l == 1, s == 1);
    }

    /// <summary>Opset 1-9: k is a required attribute.</summary>
    private static long AttributeK(NodeContext ctx)
    {
        if (ctx.HasInput(1)) throw ctx.Error(EdgeCodes.InvalidArity, "TopK before opset 10 takes k as an attribute, not as input 1.");
        long k = ctx.RequireInt("k");
        if (k < 0) throw ctx.Error(EdgeCodes.InvalidAttribute, $"TopK attribute k must not be negative, got {k}.");
        return k;
    }

    /// <summary>Opset 10+: K is a required input (the attribute no longer exists).</summary>
    private static void CheckKInput(NodeContext ctx)
    {
        if (!ctx.HasInput(1)) throw ctx.Error(EdgeCodes.InvalidArity, "TopK (opset 10+) needs the K input.");
        if (ctx.HasAttribute("k")) throw ctx.Error(EdgeCodes.InvalidAttribute, "TopK attribute 'k' exists only before opset 10; give K as input 1.");
    }

    private static long InputK(NodeContext ctx, Tensor kt)
    {
        if (kt.DataType != DataType.Int64) throw ctx.Error(EdgeCodes.ShapeMismatch, $"TopK K must be int64, got {kt.DataType.OnnxName()}.");
        long k = BinaryHelpers.ScalarInt(ctx, kt, "K");
        if (k < 0) throw ctx.Error(EdgeCodes.InvalidValue, $"TopK K must not be negative, got {k}.");
        return k;
    }
}
