using EdgeCompile.Compiler.IR;
using static EdgeCompile.Compiler.Lowering.LoweringContext;

namespace EdgeCompile.Compiler.Lowering.Ops;

/// <summary>LpNormalization (float32, p = 1 or 2) → MiscOps.LpNorm.</summary>
public sealed class LpNormalizationLowering : IOpLowering
{
    public IEnumerable<string> OpTypes => ["LpNormalization"];

    public void Lower(LoweringContext ctx, Node n)
    {
        ctx.RequireFloat(n, n.Inputs[0]);
        var x = ctx.Shape(n, n.Inputs[0]);
        if (x.Length == 0) throw ctx.Unsupported(n, "of a scalar");
        var nc = ctx.NodeContext(n);
        int axis = Shapes.Axis(nc.GetInt("axis", -1), x.Length);
        long p = nc.GetInt("p", 2);
        if (p is not (1 or 2)) throw ctx.Unsupported(n, $"with p = {p}");
        ctx.Emit(n, "MiscOps.LpNorm", Read(n.Inputs[0]), Write(n.Outputs[0]),
            I((int)Shapes.Product(x.AsSpan(0, axis))), I(x[axis]), I((int)Shapes.Product(x.AsSpan(axis + 1))), I(p));
    }
}

/// <summary>InstanceNormalization (float32, rank ≥ 3) → MiscOps.InstanceNorm.</summary>
public sealed class InstanceNormalizationLowering : IOpLowering
{
    public IEnumerable<string> OpTypes => ["InstanceNormalization"];

    public void Lower(LoweringContext ctx, Node n)
    {
        ctx.RequireFloat(n, n.Inputs[0], n.Inputs[1], n.Inputs[2]);
        var x = ctx.Shape(n, n.Inputs[0]);
        if (x.Length < 3) throw ctx.Unsupported(n, $"of rank {x.Length}");
        foreach (var p in n.Inputs.Skip(1).Take(2))
            if (ctx.Shape(n, p) is not [var len] || len != x[1]) throw ctx.Unsupported(n, "with scale/bias not 1-D of the channel count");
        ctx.Emit(n, "MiscOps.InstanceNorm", Read(n.Inputs[0]), Read(n.Inputs[1]), Read(n.Inputs[2]), Write(n.Outputs[0]),
            I(x[0]), I(x[1]), I((int)Shapes.Product(x.AsSpan(2))), F(ctx.NodeContext(n).GetFloat("epsilon", 1e-5f)));
    }
}

/// <summary>Sign (float, double, int64, int32) and Tan (float32) → MiscOps.Sign / MiscOps.Tan.</summary>
public sealed class SignTanLowering : IOpLowering
{
    public IEnumerable<string> OpTypes => ["Sign", "Tan"];

    public void Lower(LoweringContext ctx, Node n)
    {
        var t = ctx.TypeOf(n.Inputs[0]);
        bool ok = n.OpType == "Tan" ? t == DataType.Float : t is DataType.Float or DataType.Double or DataType.Int64 or DataType.Int32;
        if (!ok) throw ctx.Unsupported(n, $"on {t.OnnxName()} data");
        ctx.Shape(n, n.Outputs[0]);
        ctx.Emit(n, "MiscOps." + n.OpType, Read(n.Inputs[0]), Write(n.Outputs[0]));
    }
}

/// <summary>
/// ConstantOfShape whose shape input is computed at run time (a constant one is folded before lowering):
/// MiscOps.ConstantOfShape checks the run-time shape against the statically inferred one and fills.
/// </summary>
public sealed class ConstantOfShapeLowering : IOpLowering
{
    public IEnumerable<string> OpTypes => ["ConstantOfShape"];

    public void Lower(LoweringContext ctx, Node n)
    {
        var y = ctx.Shape(n, n.Outputs[0]);
        if (y.Length == 0) throw ctx.Unsupported(n, "with a scalar output");
        if (ctx.TypeOf(n.Inputs[0]) != DataType.Int64) throw ctx.Unsupported(n, "with a non-int64 shape");
        var value = n.GetAttribute("value")?.T?.Value;
        var t = ctx.TypeOf(n.Outputs[0]);
        CallArg v = FillValue(ctx, n, t, value);
        ctx.Emit(n, "MiscOps.ConstantOfShape", Read(n.Inputs[0]), Write(n.Outputs[0]), Ints(y), v);
    }

    internal static CallArg FillValue(LoweringContext ctx, Node n, DataType t, Tensor? value)
    {
        if (value is not null && value.Length != 1) throw ctx.Unsupported(n, "with a value that is not one element");
        switch (t)
        {
            case DataType.Float:
                return F(value is null ? 0f : value.As<float>()[0]);
            case DataType.Int64:
            case DataType.Int32:
                {
                    long l = value is null ? 0 : value.ToInt64s()[0];
                    if (l is < int.MinValue or > int.MaxValue) throw ctx.Unsupported(n, "with a value outside the int32 range");
                    return I(l);
                }
            case DataType.Bool:
                return B(value is not null && value.ToBools()[0]);
            default:
                throw ctx.Unsupported(n, $"of {t.OnnxName()} data");
        }
    }
}

/// <summary>Dropout's mask output in inference (all true; before opset 10 all ones of the input's type) → MiscOps.Fill. Called from the alias lowering.</summary>
public static class DropoutMaskLowering
{
    public static void Lower(LoweringContext ctx, Node n)
    {
        string mask = n.Outputs[1];
        ctx.Shape(n, mask);
        var t = ctx.TypeOf(mask);
        CallArg one = t switch
        {
            DataType.Bool => B(true),
            DataType.Float => F(1f),
            _ => throw ctx.Unsupported(n, $"with a {t.OnnxName()} mask"),
        };
        ctx.Emit(n, "MiscOps.Fill", Write(mask), one);
    }
}
