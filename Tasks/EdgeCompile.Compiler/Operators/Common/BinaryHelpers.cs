using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.IR;

namespace EdgeCompile.Compiler.Operators.Common;

/// <summary>
/// Shared pieces of the binary/variadic elementwise group (Sub, Mul, Div, Pow, Mod, logical ops,
/// comparisons, Max/Min/Sum/Mean, Where) and of the small index-building ops (OneHot, Range, CumSum,
/// Trilu, TopK): type checks with coded errors, variadic broadcasting folds and scalar-input reading.
/// </summary>
public static class BinaryHelpers
{
    /// <summary>Every numeric type (not bool).</summary>
    public static bool IsNumeric(DataType t) => t.IsFloat() || t.IsInteger();

    /// <summary>
    /// Checks (when known) that inputs <paramref name="inputs"/> all have the same element type and that it
    /// satisfies <paramref name="allowed"/>; returns that type, or null when none of them is known.
    /// </summary>
    public static DataType? CheckSameType(NodeContext ctx, Func<int, DataType?> typeOf, int[] inputs, Func<DataType, bool> allowed, string allowedText)
    {
        DataType? first = null;
        int firstIndex = -1;
        foreach (int i in inputs)
        {
            var t = typeOf(i);
            if (t is null) continue;
            if (!allowed(t.Value))
                throw ctx.Error(EdgeCodes.ShapeMismatch, $"{ctx.Node.OpType} input {i} is {t.Value.OnnxName()}; it needs {allowedText}.");
            if (first is null) { first = t; firstIndex = i; }
            else if (first != t)
                throw ctx.Error(EdgeCodes.ShapeMismatch,
                    $"{ctx.Node.OpType} inputs {firstIndex} and {i} must have the same type, got {first.Value.OnnxName()} and {t.Value.OnnxName()}.");
        }
        return first;
    }

    /// <summary>Inference-side type check over all given inputs (or the listed ones).</summary>
    public static DataType? CheckSameType(InferenceContext ctx, Func<DataType, bool> allowed, string allowedText, params int[] inputs)
    {
        if (inputs.Length == 0) inputs = Enumerable.Range(0, ctx.InputCount).Where(ctx.HasInput).ToArray();
        return CheckSameType(ctx, i => ctx.InputType(i)?.ElemType, inputs, allowed, allowedText);
    }

    /// <summary>Execution-side type check over all given inputs (or the listed ones).</summary>
    public static DataType CheckSameType(ExecutionContext ctx, Func<DataType, bool> allowed, string allowedText, params int[] inputs)
    {
        if (inputs.Length == 0) inputs = Enumerable.Range(0, ctx.InputCount).Where(i => ctx.Input(i) is not null).ToArray();
        foreach (int i in inputs) ctx.RequireInput(i);
        return CheckSameType(ctx, i => ctx.Input(i)?.DataType, inputs, allowed, allowedText)!.Value;
    }

    /// <summary>
    /// Shape/type rule of a broadcasting op whose inputs share one type: checks the types, broadcasts all
    /// input shapes and sets output 0 to <paramref name="outType"/> (or the common input type).
    /// </summary>
    public static void InferBroadcast(InferenceContext ctx, Func<DataType, bool> allowed, string allowedText, DataType? outType = null)
    {
        var common = CheckSameType(ctx, allowed, allowedText);
        var type = outType ?? common ?? ctx.InputElemType(0);
        if (ctx.Opset < 7 && ctx.GetInt("broadcast", 0) != 0)
        {
            // Legacy (opset 1-6) broadcasting: B is broadcast into A, so the result has A's shape.
            ctx.SetOutput(0, type, ctx.InputShape(0));
            return;
        }
        ShapeRules.Broadcast(ctx, type);
    }

    /// <summary>
    /// Broadcasting fold over 1..N inputs of one numeric type (Max, Min, Sum, Mean): floats accumulate in
    /// double and round once, signed/narrow integers in long (wrapping), uint64 in ulong.
    /// <paramref name="finish"/> post-processes the float accumulator (Mean divides by N).
    /// </summary>
    public static void Variadic(ExecutionContext ctx, Func<DataType, bool> allowed, string allowedText,
        Func<double, double, double> f, Func<long, long, long>? fi, Func<ulong, ulong, ulong>? fu, Func<double, double>? finish = null)
    {
        var type = CheckSameType(ctx, allowed, allowedText);
        var inputs = Enumerable.Range(0, ctx.InputCount).Select(ctx.RequireInput).ToArray();
        var shape = Elementwise.BroadcastShape(ctx, inputs);
        var maps = inputs.Select(t => Shapes.BroadcastIndex(t.Shape, shape)).ToArray();
        int n = checked((int)Shapes.Product(shape));
        if (type.IsFloat() || fi is null)
        {
            var acc = new double[n];
            for (int k = 0; k < inputs.Length; k++)
            {
                var v = inputs[k].ToDoubles();
                var map = maps[k];
                for (int i = 0; i < n; i++) acc[i] = k == 0 ? v[map[i]] : f(acc[i], v[map[i]]);
            }
            if (finish is not null) for (int i = 0; i < n; i++) acc[i] = finish(acc[i]);
            ctx.SetOutput(0, Tensor.FromDoubles(type, shape, acc));
        }
        else if (type == DataType.UInt64 && fu is not null)
        {
            var acc = new ulong[n];
            for (int k = 0; k < inputs.Length; k++)
            {
                var v = inputs[k].ToUInt64s();
                var map = maps[k];
                for (int i = 0; i < n; i++) acc[i] = k == 0 ? v[map[i]] : fu(acc[i], v[map[i]]);
            }
            ctx.SetOutput(0, Tensor.FromUInt64s(type, shape, acc));
        }
        else
        {
            var acc = new long[n];
            for (int k = 0; k < inputs.Length; k++)
            {
                var v = inputs[k].ToInt64s();
                var map = maps[k];
                for (int i = 0; i < n; i++) acc[i] = k == 0 ? v[map[i]] : fi(acc[i], v[map[i]]);
            }
            ctx.SetOutput(0, Tensor.FromInt64s(type, shape, acc));
        }
    }

    /// <summary>Broadcasting bool × bool → bool (And, Or, Xor).</summary>
    public static void Logical(ExecutionContext ctx, Func<bool, bool, bool> f)
    {
        CheckSameType(ctx, t => t == DataType.Bool, "bool", 0, 1);
        var a = ctx.RequireInput(0);
        var b = ctx.RequireInput(1);
        var shape = Elementwise.BroadcastShape(ctx, a, b);
        var ia = Shapes.BroadcastIndex(a.Shape, shape);
        var ib = Shapes.BroadcastIndex(b.Shape, shape);
        var x = a.As<bool>();
        var y = b.As<bool>();
        var r = new bool[ia.Length];
        for (int i = 0; i < r.Length; i++) r[i] = f(x[ia[i]], y[ib[i]]);
        ctx.SetOutput(0, new Tensor(DataType.Bool, shape, r));
    }

    /// <summary>Broadcasting comparison on inputs of one type (numeric, or bool where <paramref name="allowBool"/>).</summary>
    public static void Compare(ExecutionContext ctx, bool allowBool, Func<int, bool> onSign)
    {
        CheckSameType(ctx, t => IsNumeric(t) || allowBool && t == DataType.Bool, allowBool ? "a numeric or bool type" : "a numeric type", 0, 1);
        // NaN compares false with everything (IEEE), so it is tested separately rather than through CompareTo.
        Elementwise.Compare(ctx,
            (a, b) => !double.IsNaN(a) && !double.IsNaN(b) && onSign(a.CompareTo(b)),
            (a, b) => onSign(a.CompareTo(b)),
            (a, b) => onSign(a.CompareTo(b)));
    }

    /// <summary>Inference for comparisons: broadcast shape, bool output.</summary>
    public static void InferCompare(InferenceContext ctx, bool allowBool) =>
        InferBroadcast(ctx, t => IsNumeric(t) || allowBool && t == DataType.Bool,
            allowBool ? "a numeric or bool type" : "a numeric type", DataType.Bool);

    /// <summary>
    /// Reads a scalar input (rank 0, or a one-element tensor) as long; floats truncate toward zero.
    /// </summary>
    public static long ScalarInt(NodeContext ctx, Tensor t, string what)
    {
        if (t.Length != 1)
            throw ctx.Error(EdgeCodes.ShapeMismatch, $"{ctx.Node.OpType}: '{what}' must hold exactly one value, got shape {Shapes.Format(t.Shape)}.");
        if (t.DataType.IsFloat())
        {
            double d = t.ToDoubles()[0];
            if (!double.IsFinite(d)) throw ctx.Error(EdgeCodes.InvalidValue, $"{ctx.Node.OpType}: '{what}' is {d}; it must be finite.");
        }
        return t.ToInt64s()[0];
    }

    /// <summary>The tensor's data plus one trailing default (zero / false) element, as a Take source.</summary>
    public static Tensor WithTrailingZero(Tensor t)
    {
        var data = Array.CreateInstance(t.DataType.ClrType(), t.Length + 1);
        Array.Copy(t.Data, data, t.Length);
        return new Tensor(t.DataType, [t.Length + 1], data);
    }

    /// <summary>The two tensors' data, one after the other, as a rank-1 Take source (same type required).</summary>
    public static Tensor Concat(Tensor a, Tensor b)
    {
        var data = Array.CreateInstance(a.DataType.ClrType(), a.Length + b.Length);
        Array.Copy(a.Data, 0, data, 0, a.Length);
        Array.Copy(b.Data, 0, data, a.Length, b.Length);
        return new Tensor(a.DataType, [a.Length + b.Length], data);
    }
}
