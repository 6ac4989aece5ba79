using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.IR;
using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>
/// Range (opset 11): a rank-1 tensor [start, start + delta, ...] stopping before limit, with
/// max(ceil((limit - start) / delta), 0) elements; element i = start + i * delta. The three scalar inputs
/// share one numeric type, which the output takes. Integer types compute exactly (wrapping into the type);
/// floating-point types compute in double and round each element once. delta = 0 is a coded error.
/// </summary>
public sealed class Range : Operator
{
    public override string OpType => "Range";
    public override int MinInputs => 3;
    public override int MaxInputs => 3;

    public override void InferTypes(InferenceContext ctx)
    {
        var type = BinaryHelpers.CheckSameType(ctx, BinaryHelpers.IsNumeric, "a numeric type", 0, 1, 2) ?? ctx.InputElemType(0);
        for (int i = 0; i < 3; i++)
            if (ctx.InputShape(i) is { } s && s.Length > 1)
                throw ctx.Error(EdgeCodes.ShapeMismatch, $"Range input {i} must be a scalar, got rank {s.Length}.");
        var start = ctx.ConstantInput(0);
        var limit = ctx.ConstantInput(1);
        var delta = ctx.ConstantInput(2);
        // The length is knowable only when all three values are.
        Dim length = start is not null && limit is not null && delta is not null
            ? Dim.Known(Count(ctx, start, limit, delta))
            : Dim.Unknown;
        ctx.SetOutput(0, type, [length]);
    }

    public override void Execute(ExecutionContext ctx)
    {
        var type = BinaryHelpers.CheckSameType(ctx, BinaryHelpers.IsNumeric, "a numeric type", 0, 1, 2);
        var start = ctx.RequireInput(0);
        var limit = ctx.RequireInput(1);
        var delta = ctx.RequireInput(2);
        int n = Count(ctx, start, limit, delta);
        if (type.IsFloat())
        {
            double s = start.ToDoubles()[0], d = delta.ToDoubles()[0];
            var r = new double[n];
            for (int i = 0; i < n; i++) r[i] = s + i * d;
            ctx.SetOutput(0, Tensor.FromDoubles(type, [n], r));
        }
        else
        {
            long s = start.ToInt64s()[0], d = delta.ToInt64s()[0];
            var r = new long[n];
            for (int i = 0; i < n; i++) r[i] = unchecked(s + i * d);
            ctx.SetOutput(0, Tensor.FromInt64s(type, [n], r));
        }
    }

    /// <summary>Number of elements: max(ceil((limit - start) / delta), 0), with coded errors for bad inputs.</summary>
    private static int Count(NodeContext ctx, Tensor start, Tensor limit, Tensor delta)
    {
        foreach (var (t, name) in new[] { (start, "start"), (limit, "limit"), (delta, "delta") })
            if (t.Length != 1)
                throw ctx.Error(EdgeCodes.ShapeMismatch, $"Range '{name}' must be a scalar, got shape {Shapes.Format(t.Shape)}.");
        double count;
        if (start.DataType.IsFloat())
        {
            double s = start.ToDoubles()[0], l = limit.ToDoubles()[0], d = delta.ToDoubles()[0];
            if (!double.IsFinite(s) || !double.IsFinite(l) || !double.IsFinite(d))
                throw ctx.Error(EdgeCodes.InvalidValue, $"Range inputs must be finite, got start {s}, limit {l}, delta {d}.");
            if (d == 0) throw ctx.Error(EdgeCodes.InvalidValue, "Range delta must not be zero.");
            count = Math.Ceiling((l - s) / d);
        }
        else
        {
            // Exact integer ceiling division in 128 bits (limit - start cannot overflow there).
            Int128 s = Value(start), l = Value(limit), d = Value(delta);
            if (d == 0) throw ctx.Error(EdgeCodes.InvalidValue, "Range delta must not be zero.");
            Int128 diff = l - s;
            Int128 q = diff / d;
            if (diff % d != 0 && (diff < 0) == (d < 0)) q += 1; // the quotient is positive: round up
            count = q <= 0 ? 0 : q > int.MaxValue ? double.PositiveInfinity : (double)q;
        }
        if (count <= 0) return 0;
        if (count > int.MaxValue)
            throw ctx.Error(EdgeCodes.InvalidValue, $"Range would produce {count} elements, more than a tensor can hold.");
        return (int)count;
    }

    private static Int128 Value(Tensor t) => t.DataType == DataType.UInt64 ? (Int128)t.ToUInt64s()[0] : t.ToInt64s()[0];
}
