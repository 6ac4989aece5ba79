using EdgeCompile.Compiler.IR;
using static EdgeCompile.Compiler.Lowering.LoweringContext;

namespace EdgeCompile.Compiler.Lowering.Ops;

/// <summary>CumSum with a constant axis (float, double, int64, int32) → Misc.CumSum.</summary>
public sealed class CumSumLowering : IOpLowering
{
    public IEnumerable<string> OpTypes => ["CumSum"];

    public void Lower(LoweringContext ctx, Node n)
    {
        var t = ctx.TypeOf(n.Inputs[0]);
        if (t is not (DataType.Float or DataType.Double or DataType.Int64 or DataType.Int32)) throw ctx.Unsupported(n, $"on {t.OnnxName()} data");
        var x = ctx.Shape(n, n.Inputs[0]);
        if (x.Length == 0) throw ctx.Unsupported(n, "of a scalar");
        var nc = ctx.NodeContext(n);
        if (ctx.Constant(n.Inputs[1]) is not { } axisT)
        {
            if (ctx.TypeOf(n.Inputs[1]) is not (DataType.Int64 or DataType.Int32)) throw ctx.Unsupported(n, "with an axis that is not int32/int64");
            ctx.Emit(n, "Misc.CumSum", Read(n.Inputs[0]), Read(n.Inputs[1]), Write(n.Outputs[0]), Ints(x),
                B(nc.GetInt("exclusive", 0) != 0), B(nc.GetInt("reverse", 0) != 0));
            return;
        }
        var av = axisT.ToInt64s();
        if (av.Length != 1) throw ctx.Unsupported(n, "with a non-scalar axis");
        int axis = Shapes.Axis(av[0], x.Length);
        ctx.Emit(n, "Misc.CumSum", Read(n.Inputs[0]), Write(n.Outputs[0]),
            I((int)Shapes.Product(x.AsSpan(0, axis))), I(x[axis]), I((int)Shapes.Product(x.AsSpan(axis + 1))),
            B(nc.GetInt("exclusive", 0) != 0), B(nc.GetInt("reverse", 0) != 0));
    }
}

/// <summary>
/// TopK (float, double, int64, int32, uint64, uint32 values; int64 indices; both outputs used) → Misc.TopK. K constant, or read at run
/// time and checked against the statically inferred output length along the axis.
/// </summary>
public sealed class TopKLowering : IOpLowering
{
    public IEnumerable<string> OpTypes => ["TopK"];

    public void Lower(LoweringContext ctx, Node n)
    {
        var t = ctx.TypeOf(n.Inputs[0]);
        if (t is not (DataType.Float or DataType.Double or DataType.Int64 or DataType.Int32 or DataType.UInt64 or DataType.UInt32)) throw ctx.Unsupported(n, $"on {t.OnnxName()} data");
        if (n.Outputs.Count < 2 || n.Outputs[0].Length == 0 || n.Outputs[1].Length == 0) throw ctx.Unsupported(n, "without both outputs");
        var x = ctx.Shape(n, n.Inputs[0]);
        if (x.Length == 0) throw ctx.Unsupported(n, "of a scalar");
        var nc = ctx.NodeContext(n);
        long k;
        int axis = Shapes.Axis(nc.GetInt("axis", -1), x.Length);
        string kRuntime = "";
        if (ctx.Opset(n) < 10) k = nc.GetInt("k", -1);
        else if (ctx.Constant(n.Inputs[1]) is { } kt)
        {
            var kv = kt.ToInt64s();
            if (kv.Length != 1) throw ctx.Unsupported(n, "with a non-scalar K");
            k = kv[0];
        }
        else
        {
            if (ctx.TypeOf(n.Inputs[1]) != DataType.Int64) throw ctx.Unsupported(n, "with a K that is not int64");
            var ys = ctx.Shape(n, n.Outputs[0]);
            if (ys.Length != x.Length) throw ctx.Unsupported(n, "whose inferred output rank differs from the input's");
            k = ys[axis];
            kRuntime = n.Inputs[1];
        }
        if (k < 0 || k > x[axis]) throw ctx.Unsupported(n, $"with K = {k} outside [0, {x[axis]}]");
        bool largest = ctx.Opset(n) < 11 || nc.GetInt("largest", 1) != 0;
        var y = ctx.Shape(n, n.Outputs[0]);
        if (y.Length != x.Length || y[axis] != k) throw ctx.Unsupported(n, "whose inferred output shape disagrees with K");
        if (ctx.TypeOf(n.Outputs[1]) != DataType.Int64 || !ctx.Shape(n, n.Outputs[1]).SequenceEqual(y)) throw ctx.Unsupported(n, "with unexpected indices");
        var head = kRuntime.Length > 0 ? new[] { Read(n.Inputs[0]), Read(kRuntime) } : new[] { Read(n.Inputs[0]) };
        ctx.Emit(n, "Misc.TopK", [.. head, Write(n.Outputs[0]), Write(n.Outputs[1]),
            I((int)Shapes.Product(x.AsSpan(0, axis))), I(x[axis]), I((int)Shapes.Product(x.AsSpan(axis + 1))), I(k), B(largest)]);
    }
}

/// <summary>Hardmax (float32; opset &lt; 13 on the 2-D coercion, from 13 along one axis) → Misc.Hardmax.</summary>
public sealed class HardmaxLowering : IOpLowering
{
    public IEnumerable<string> OpTypes => ["Hardmax"];

    public void Lower(LoweringContext ctx, Node n)
    {
        ctx.RequireFloat(n, n.Inputs[0]);
        var x = ctx.Shape(n, n.Inputs[0]);
        if (x.Length == 0) throw ctx.Unsupported(n, "of a scalar");
        var nc = ctx.NodeContext(n);
        bool coerce = ctx.Opset(n) < 13;
        int axis = Shapes.Axis(nc.GetInt("axis", coerce ? 1 : -1), x.Length);
        int outer = (int)Shapes.Product(x.AsSpan(0, axis));
        int lane = coerce ? (int)Shapes.Product(x.AsSpan(axis)) : x[axis];
        int inner = coerce ? 1 : (int)Shapes.Product(x.AsSpan(axis + 1));
        ctx.Emit(n, "Misc.Hardmax", Read(n.Inputs[0]), Write(n.Outputs[0]), I(outer), I(lane), I(inner));
    }
}

/// <summary>
/// Range with run-time inputs (float, double, int64, int32) → Misc.Range, writing a buffer whose length is the
/// statically inferred output length; the kernel throws when the run-time values give another length.
/// </summary>
public sealed class RangeLowering : IOpLowering
{
    public IEnumerable<string> OpTypes => ["Range"];

    public void Lower(LoweringContext ctx, Node n)
    {
        var t = ctx.TypeOf(n.Outputs[0]);
        if (t is not (DataType.Float or DataType.Double or DataType.Int64 or DataType.Int32)) throw ctx.Unsupported(n, $"on {t.OnnxName()} data");
        foreach (var i in n.Inputs.Take(3))
            if (ctx.TypeOf(i) != t || ctx.Shape(n, i).Length > 1 || Shapes.Product(ctx.Shape(n, i)) != 1) throw ctx.Unsupported(n, "with inputs that are not scalars of the output type");
        var y = ctx.Shape(n, n.Outputs[0]);
        if (y.Length != 1) throw ctx.Unsupported(n, "with an output that is not 1-D");
        ctx.Emit(n, "Misc.Range", Read(n.Inputs[0]), Read(n.Inputs[1]), Read(n.Inputs[2]), Write(n.Outputs[0]));
    }
}

/// <summary>Clip (opset 11+) with bounds computed at run time (float32 → Misc.Clip), or on int8/uint8/int32/int64 data (→ ClipInteger.Clip). Called from the unary lowering.</summary>
public static class RuntimeClipLowering
{
    public static void Lower(LoweringContext ctx, Node n)
    {
        string Bound(int i)
        {
            if (n.Inputs.Count <= i || n.Inputs[i].Length == 0) return "";
            if (ctx.TypeOf(n.Inputs[i]) != ctx.TypeOf(n.Inputs[0])) throw ctx.Unsupported(n, "with bounds of another type than the input");
            if (Shapes.Product(ctx.Shape(n, n.Inputs[i])) != 1) throw ctx.Unsupported(n, "with a bound that is not a scalar");
            return n.Inputs[i];
        }
        string lo = Bound(1), hi = Bound(2);
        ctx.Emit(n, ctx.TypeOf(n.Inputs[0]) == DataType.Float ? "Misc.Clip" : "ClipInteger.Clip", Read(n.Inputs[0]), lo.Length > 0 ? Read(lo) : Empty(ctx.TypeOf(n.Inputs[0])), hi.Length > 0 ? Read(hi) : Empty(ctx.TypeOf(n.Inputs[0])), Write(n.Outputs[0]));
    }
}

/// <summary>Inference BatchNormalization (float32) with parameters computed at run time → Misc.BatchNorm. Called from the normalization lowering.</summary>
public static class RuntimeBatchNormLowering
{
    public static void Lower(LoweringContext ctx, Node n, int[] x, float epsilon)
    {
        ctx.RequireFloat(n, n.Inputs[0], n.Inputs[1], n.Inputs[2], n.Inputs[3], n.Inputs[4]);
        int c = x.Length > 1 ? x[1] : 1;
        foreach (var p in n.Inputs.Skip(1).Take(4))
            if (ctx.Shape(n, p) is not [var len] || len != c) throw ctx.Unsupported(n, "with parameters that are not 1-D of the channel count");
        ctx.Emit(n, "Misc.BatchNorm", Read(n.Inputs[0]), Read(n.Inputs[1]), Read(n.Inputs[2]), Read(n.Inputs[3]), Read(n.Inputs[4]), Write(n.Outputs[0]),
            I(x[0]), I(c), I((int)Shapes.Product(x.AsSpan(Math.Min(2, x.Length)))), F(epsilon));
    }
}
