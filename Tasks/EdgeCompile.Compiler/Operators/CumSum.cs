using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>
/// CumSum (opset 11, 14): cumulative sum of x along the axis given by the scalar input 'axis'
/// (int32/int64, negative counts from the end). exclusive=1 leaves the current element out (the first
/// output is 0); reverse=1 sums from the end. Floats accumulate in double and round each output once;
/// integers wrap.
/// </summary>
public sealed class CumSum : Operator
{
    public override string OpType => "CumSum";
    public override IReadOnlyCollection<string> Attributes => ["exclusive", "reverse"];
    public override int MinInputs => 2;
    public override int MaxInputs => 2;

    public override void InferTypes(InferenceContext ctx)
    {
        BinaryHelpers.CheckSameType(ctx, BinaryHelpers.IsNumeric, "a numeric type", 0);
        BinaryHelpers.CheckSameType(ctx, t => t is DataType.Int32 or DataType.Int64, "int32 or int64 (the axis)", 1);
        Flags(ctx);
        if (ctx.InputShape(1) is { } axisShape && axisShape.Length > 1)
            throw ctx.Error(EdgeCodes.ShapeMismatch, $"CumSum 'axis' must be a scalar, got rank {axisShape.Length}.");
        if (ctx.ConstantInput(1) is { } axis && ctx.InputShape(0) is { } shape)
            ShapeRules.Axis(ctx, BinaryHelpers.ScalarInt(ctx, axis, "axis"), shape.Length);
        ShapeRules.SameAsInput(ctx);
    }

    public override void Execute(ExecutionContext ctx)
    {
        var x = ctx.RequireInput(0);
        BinaryHelpers.CheckSameType(ctx, BinaryHelpers.IsNumeric, "a numeric type", 0);
        BinaryHelpers.CheckSameType(ctx, t => t is DataType.Int32 or DataType.Int64, "int32 or int64 (the axis)", 1);
        var (exclusive, reverse) = Flags(ctx);
        if (x.Rank == 0) throw ctx.Error(EdgeCodes.ShapeMismatch, "CumSum needs an input of rank 1 or more.");
        int axis = ShapeRules.Axis(ctx, BinaryHelpers.ScalarInt(ctx, ctx.RequireInput(1), "axis"), x.Rank);

        // View x as [outer, len, inner]; each (outer, inner) pair is one independent running sum.
        int len = x.Shape[axis];
        int outer = checked((int)Shapes.Product(x.Shape.AsSpan(0, axis)));
        int inner = checked((int)Shapes.Product(x.Shape.AsSpan(axis + 1)));
        int Index(int o, int k, int i) => (o * len + k) * inner + i;

        if (x.DataType.IsFloat())
        {
            var v = x.ToDoubles();
            var r = new double[v.Length];
            Scan(outer, len, inner, reverse, exclusive, Index, 0.0, (sum, at) => sum + v[at], r);
            ctx.SetOutput(0, Tensor.FromDoubles(x.DataType, x.Shape, r));
        }
        else
        {
            var v = x.ToInt64s();
            var r = new long[v.Length];
            Scan(outer, len, inner, reverse, exclusive, Index, 0L, (sum, at) => unchecked(sum + v[at]), r);
            ctx.SetOutput(0, Tensor.FromInt64s(x.DataType, x.Shape, r));
        }
    }

    /// <summary>Running sums along the middle axis of [outer, len, inner]; <paramref name="add"/> adds the element at a flat index.</summary>
    private static void Scan<T>(int outer, int len, int inner, bool reverse, bool exclusive,
        Func<int, int, int, int> index, T zero, Func<T, int, T> add, T[] result)
    {
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                T sum = zero;
                for (int step = 0; step < len; step++)
                {
                    int k = reverse ? len - 1 - step : step;
                    int at = index(o, k, i);
                    if (exclusive) { result[at] = sum; sum = add(sum, at); }
                    else { sum = add(sum, at); result[at] = sum; }
                }
            }
    }

    private static (bool Exclusive, bool Reverse) Flags(NodeContext ctx)
    {
        long e = ctx.GetInt("exclusive", 0), r = ctx.GetInt("reverse", 0);
        if (e is not (0 or 1)) throw ctx.Error(EdgeCodes.InvalidAttribute, $"CumSum attribute exclusive must be 0 or 1, got {e}.");
        if (r is not (0 or 1)) throw ctx.Error(EdgeCodes.InvalidAttribute, $"CumSum attribute reverse must be 0 or 1, got {r}.");
        return (e == 1, r == 1);
    }
}
