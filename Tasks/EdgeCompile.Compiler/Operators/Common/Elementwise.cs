using EdgeCompile.Compiler.Diagnostics;

namespace EdgeCompile.Compiler.Operators.Common;

/// <summary>
/// Elementwise evaluation helpers. Float types compute in double and round once to the output type
/// (for +,-,*,/,sqrt of float32 this equals IEEE float32 arithmetic exactly); integer types compute in
/// long (two's complement wrap, as numpy and ONNX Runtime do) or ulong for uint64.
/// </summary>
public static class Elementwise
{
    /// <summary>Unary op defined on floats (input 0 → output 0, same type).</summary>
    public static void UnaryFloat(ExecutionContext ctx, Func<double, double> f)
    {
        var x = ctx.RequireInput(0);
        if (!x.DataType.IsFloat())
            throw ctx.Error(EdgeCodes.ShapeMismatch, $"{ctx.Node.OpType} needs a floating-point input, got {x.DataType.OnnxName()}.");
        var v = x.ToDoubles();
        for (int i = 0; i < v.Length; i++) v[i] = f(v[i]);
        ctx.SetOutput(0, Tensor.FromDoubles(x.DataType, x.Shape, v));
    }

    /// <summary>Unary op on any numeric type: floats through <paramref name="f"/>, integers through <paramref name="fi"/>.</summary>
    public static void Unary(ExecutionContext ctx, Func<double, double> f, Func<long, long> fi, Func<ulong, ulong>? fu = null)
    {
        var x = ctx.RequireInput(0);
        if (x.DataType.IsFloat()) { UnaryFloat(ctx, f); return; }
        if (x.DataType == DataType.UInt64 && fu is not null)
        {
            var u = x.ToUInt64s();
            for (int i = 0; i < u.Length; i++) u[i] = fu(u[i]);
            ctx.SetOutput(0, Tensor.FromUInt64s(x.DataType, x.Shape, u));
            return;
        }
        var l = x.ToInt64s();
        for (int i = 0; i < l.Length; i++) l[i] = fi(l[i]);
        ctx.SetOutput(0, Tensor.FromInt64s(x.DataType, x.Shape, l));
    }

    /// <summary>
    /// Broadcasting binary op with the result in the inputs' type. <paramref name="fu"/> handles uint64
    /// where unsigned semantics differ (division, comparison); when null, the long path is used (correct for +,-,*).
    /// </summary>
    public static void Binary(ExecutionContext ctx, Func<double, double, double> f, Func<long, long, long>? fi, Func<ulong, ulong, ulong>? fu = null)
    {
        var a = ctx.RequireInput(0);
        var b = LegacyBroadcast(ctx, a, ctx.RequireInput(1));
        RequireSameType(ctx, a, b);
        var shape = BroadcastShape(ctx, a, b);
        var ia = Shapes.BroadcastIndex(a.Shape, shape);
        var ib = Shapes.BroadcastIndex(b.Shape, shape);
        var type = a.DataType;
        if (type.IsFloat() || fi is null)
        {
            var x = a.ToDoubles(); var y = b.ToDoubles();
            var r = new double[ia.Length];
            for (int i = 0; i < r.Length; i++) r[i] = f(x[ia[i]], y[ib[i]]);
            ctx.SetOutput(0, Tensor.FromDoubles(type, shape, r));
        }
        else if (type == DataType.UInt64 && fu is not null)
        {
            var x = a.ToUInt64s(); var y = b.ToUInt64s();
            var r = new ulong[ia.Length];
            for (int i = 0; i < r.Length; i++) r[i] = fu(x[ia[i]], y[ib[i]]);
            ctx.SetOutput(0, Tensor.FromUInt64s(type, shape, r));
        }
        else
        {
            var x = a.ToInt64s(); var y = b.ToInt64s();
            var r = new long[ia.Length];
            for (int i = 0; i < r.Length; i++) r[i] = fi(x[ia[i]], y[ib[i]]);
            ctx.SetOutput(0, Tensor.FromInt64s(type, shape, r));
        }
    }

    /// <summary>Broadcasting comparison producing bool; uint64 compares unsigned.</summary>
    public static void Compare(ExecutionContext ctx, Func<double, double, bool> f, Func<long, long, bool> fi, Func<ulong, ulong, bool> fu)
    {
        var a = ctx.RequireInput(0);
        var b = ctx.RequireInput(1);
        RequireSameType(ctx, a, b);
        var shape = BroadcastShape(ctx, a, b);
        var ia = Shapes.BroadcastIndex(a.Shape, shape);
        var ib = Shapes.BroadcastIndex(b.Shape, shape);
        var r = new bool[ia.Length];
        if (a.DataType.IsFloat())
        {
            var x = a.ToDoubles(); var y = b.ToDoubles();
            for (int i = 0; i < r.Length; i++) r[i] = f(x[ia[i]], y[ib[i]]);
        }
        else if (a.DataType == DataType.UInt64)
        {
            var x = a.ToUInt64s(); var y = b.ToUInt64s();
            for (int i = 0; i < r.Length; i++) r[i] = fu(x[ia[i]], y[ib[i]]);
        }
        else
        {
            var x = a.ToInt64s(); var y = b.ToInt64s();
            for (int i = 0; i < r.Length; i++) r[i] = fi(x[ia[i]], y[ib[i]]);
        }
        ctx.SetOutput(0, new Tensor(DataType.Bool, shape, r));
    }

    /// <summary>Binary ONNX operators constrain both operands to one type T; mixing types is a model error.</summary>
    public static void RequireSameType(ExecutionContext ctx, Tensor a, Tensor b)
    {
        if (a.DataType != b.DataType)
            throw ctx.Error(EdgeCodes.ShapeMismatch, $"{ctx.Node.OpType} needs inputs of one type; got {a.DataType.OnnxName()} and {b.DataType.OnnxName()}.");
    }

    /// <summary>
    /// Opset 1-6 arithmetic broadcasting: with broadcast=1, B's shape must match a contiguous run of A's
    /// dims starting at 'axis' (default: the suffix). Returns B reshaped so numpy broadcasting gives that result.
    /// </summary>
    public static Tensor LegacyBroadcast(ExecutionContext ctx, Tensor a, Tensor b)
    {
        if (ctx.Opset >= 7 || ctx.GetInt("broadcast", 0) == 0 || !ctx.HasAttribute("axis")) return b;
        int axis = ShapeRules.Axis(ctx, ctx.GetInt("axis", 0), a.Rank);
        if (axis + b.Rank > a.Rank)
            throw ctx.Error(EdgeCodes.ShapeMismatch, $"Legacy broadcast: B's rank {b.Rank} does not fit in A's rank {a.Rank} at axis {axis}.");
        var shape = b.Shape.Concat(Enumerable.Repeat(1, a.Rank - axis - b.Rank)).ToArray();
        return b.Reshape(shape);
    }

    /// <summary>The attribute names of the legacy (opset 1-6) broadcasting form.</summary>
    public static readonly IReadOnlyCollection<string> LegacyBroadcastAttributes = ["broadcast", "axis", "consumed_inputs"];

    public static int[] BroadcastShape(ExecutionContext ctx, params Tensor[] ts)
    {
        try { return Shapes.Broadcast(ts.Select(t => t.Shape).ToArray()); }
        catch (EdgeException e) { throw e.WithNode(ctx.Node.DisplayName, ctx.Node.OpType); }
    }
}
