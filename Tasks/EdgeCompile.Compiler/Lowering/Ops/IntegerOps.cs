using EdgeCompile.Compiler.IR;
using EdgeCompile.Compiler.Operators.Common;
using static EdgeCompile.Compiler.Lowering.LoweringContext;

namespace EdgeCompile.Compiler.Lowering.Ops;

/// <summary>
/// The ONNX integer operators a float model may contain (MatMulInteger, QLinearMatMul, ConvInteger, QLinearConv) →
/// the scalar reference kernels IntegerMatMul / IntegerConv, with the model's own zero points and scales (run-time
/// values or constants; u8/s8 operands; per-tensor, per-row/column or per-output-channel parameters). The int8
/// pipeline the compiler generates itself (Lowering/Int8) uses the packed QGemm/QConv kernels instead.
/// </summary>
public sealed class IntegerOpsLowering : IOpLowering
{
    public IEnumerable<string> OpTypes => ["MatMulInteger", "QLinearMatMul", "ConvInteger", "QLinearConv"];

    public void Lower(LoweringContext ctx, Node n)
    {
        switch (n.OpType)
        {
            case "MatMulInteger": MatMul(ctx, n, a: 0, aZero: 2, b: 1, bZero: 3, null); break;
            case "QLinearMatMul": MatMul(ctx, n, a: 0, aZero: 2, b: 3, bZero: 5, (1, 4, 6, 7)); break;
            case "ConvInteger": Conv(ctx, n, x: 0, xZero: 2, w: 1, wZero: 3, null); break;
            default: Conv(ctx, n, x: 0, xZero: 2, w: 3, wZero: 5, (1, 4, 6, 7)); break;
        }
    }

    private static string In(Node n, int i) => i < n.Inputs.Count ? n.Inputs[i] : "";

    private static void RequireQuantized(LoweringContext ctx, Node n, params string[] values)
    {
        foreach (var v in values)
            if (v.Length > 0 && ctx.TypeOf(v) is not (DataType.UInt8 or DataType.Int8))
                throw ctx.Unsupported(n, $"on {ctx.TypeOf(v).OnnxName()} data ('{v}')");
    }

    /// <summary>The scales' type: float or float16 (the kernels evaluate the multiplier in it).</summary>
    private static DataType ScaleType(LoweringContext ctx, Node n, params string[] scales)
    {
        var t = ctx.TypeOf(scales[0]);
        if (t is not (DataType.Float or DataType.Float16) || scales.Any(s => ctx.TypeOf(s) != t))
            throw ctx.Unsupported(n, $"with {t.OnnxName()} scales");
        return t;
    }

    /// <summary>1 (per tensor) or <paramref name="count"/> entries along <paramref name="fromEnd"/> (1 = last axis, 2 = second to last); else unsupported.</summary>
    private static void RequireParamShape(LoweringContext ctx, Node n, string value, int count, int fromEnd, string what)
    {
        if (value.Length == 0) return;
        var s = ctx.Shape(n, value);
        long p = Shapes.Product(s);
        if (p == 1) return;
        bool ok = p == count && s.Length >= 1 && (s.Length == 1 || s[^fromEnd] == count);
        if (!ok) throw ctx.Unsupported(n, $"with {what} of shape {Shapes.Format(s)} (supported: one value, or {count} along the {(fromEnd == 1 ? "last" : "row")} axis)");
    }

    private static void MatMul(LoweringContext ctx, Node n, int a, int aZero, int b, int bZero, (int AScale, int BScale, int YScale, int YZero)? q)
    {
        string av = In(n, a), bv = In(n, b), az = In(n, aZero), bz = In(n, bZero);
        RequireQuantized(ctx, n, av, bv);
        if (az.Length > 0 && ctx.TypeOf(az) != ctx.TypeOf(av) || bz.Length > 0 && ctx.TypeOf(bz) != ctx.TypeOf(bv))
            throw ctx.Unsupported(n, "with zero points of another type than their operand");
        var sa = ctx.Shape(n, av);
        var sb = ctx.Shape(n, bv);
        var y = ctx.Shape(n, n.Outputs[0]);
        if (sa.Length < 2 || sb.Length < 2) throw ctx.Unsupported(n, "on 1-D operands");
        int m = sa[^2], k = sa[^1], nn = sb[^1];
        int aBatch = (int)Shapes.Product(sa.AsSpan(0, sa.Length - 2));
        int bBatch = (int)Shapes.Product(sb.AsSpan(0, sb.Length - 2));
        int batch = (int)Shapes.Product(y.AsSpan(0, y.Length - 2));
        bool sameBatch = sa.Length == sb.Length && sa.AsSpan(0, sa.Length - 2).SequenceEqual(sb.AsSpan(0, sb.Length - 2));
        if (aBatch != 1 && aBatch != batch || bBatch != 1 && bBatch != batch || aBatch != 1 && bBatch != 1 && !sameBatch)
            throw ctx.Unsupported(n, "with batch dimensions that broadcast in a way other than 'same' or 'one side is a single matrix'");
        RequireParamShape(ctx, n, az, m, 2, "a_zero_point");
        RequireParamShape(ctx, n, bz, nn, 1, "b_zero_point");
        if (Shapes.Product(y) == 0) return;
        var common = new[] { I(batch), I(m), I(k), I(nn), I(aBatch == 1 ? 0 : m * k), I(bBatch == 1 ? 0 : k * nn) };
        string ta = Lowerer.PlanType(ctx.TypeOf(av)), tb = Lowerer.PlanType(ctx.TypeOf(bv));
        if (q is not { } p)
        {
            ctx.Emit(n, $"IntegerMatMul.Run<{ta},{tb}>",
                [Read(av), az.Length > 0 ? Read(az) : Empty(ctx.TypeOf(av)), Read(bv), bz.Length > 0 ? Read(bz) : Empty(ctx.TypeOf(bv)), Write(n.Outputs[0]), .. common]);
            return;
        }
        string aScale = In(n, p.AScale), bScale = In(n, p.BScale), yScale = In(n, p.YScale), yZero = In(n, p.YZero);
        var ts = ScaleType(ctx, n, aScale, bScale, yScale);
        RequireQuantized(ctx, n, yZero);
        RequireParamShape(ctx, n, aScale, m, 2, "a_scale");
        RequireParamShape(ctx, n, bScale, nn, 1, "b_scale");
        if (Shapes.Product(ctx.Shape(n, yScale)) != 1 || Shapes.Product(ctx.Shape(n, yZero)) != 1) throw ctx.Unsupported(n, "with a y_scale or y_zero_point of more than one value");
        ctx.Emit(n, $"IntegerMatMul.QLinear<{ta},{tb},{Lowerer.PlanType(ctx.TypeOf(yZero))},{Lowerer.PlanType(ts)}>",
            [Read(av), Read(aScale), az.Length > 0 ? Read(az) : Empty(ctx.TypeOf(av)), Read(bv), Read(bScale), bz.Length > 0 ? Read(bz) : Empty(ctx.TypeOf(bv)),
             Read(yScale), Read(yZero), Write(n.Outputs[0]), .. common]);
    }

    private static void Conv(LoweringContext ctx, Node n, int x, int xZero, int w, int wZero, (int XScale, int WScale, int YScale, int YZero)? q)
    {
        string xv = In(n, x), wv = In(n, w), xz = In(n, xZero), wz = In(n, wZero);
        RequireQuantized(ctx, n, xv, wv);
        if (xz.Length > 0 && ctx.TypeOf(xz) != ctx.TypeOf(xv) || wz.Length > 0 && ctx.TypeOf(wz) != ctx.TypeOf(wv))
            throw ctx.Unsupported(n, "with zero points of another type than their operand");
        var sx = ctx.Shape(n, xv);
        var sw = ctx.Shape(n, wv);
        if (sx.Length < 3 || sx.Length > 10 || sw.Length != sx.Length) throw ctx.Unsupported(n, $"with input rank {sx.Length}");
        var nc = ctx.NodeContext(n);
        int rank = sx.Length - 2;
        var attrs = ConvHelpers.ReadAttributes(nc, rank);
        var kernel = sw[2..];
        if (attrs.KernelShape is { } ks && !ks.SequenceEqual(kernel)) throw ctx.Unsupported(n, "with kernel_shape different from W's");
        var geo = ConvHelpers.Forward(nc, attrs, sx[2..], kernel);
        int group = (int)nc.GetInt("group", 1);
        var y = ctx.Shape(n, n.Outputs[0]);
        if (!y.SequenceEqual(new[] { sx[0], sw[0] }.Concat(geo.OutputSpatial)))
            throw ctx.Unsupported(n, "whose inferred output shape disagrees with the kernel geometry");
        if (xz.Length > 0 && Shapes.Product(ctx.Shape(n, xz)) != 1) throw ctx.Unsupported(n, "with a per-channel x_zero_point");
        RequireParamShape(ctx, n, wz, sw[0], 1, "w_zero_point");
        if (Shapes.Product(y) == 0) return;
        var geometry = new[] { I(sx[0]), I(sx[1]), I(sw[0]), I(group), Ints(sx[2..]), Ints(geo.OutputSpatial), Ints(kernel), Ints(attrs.Strides), Ints(geo.PadsBegin), Ints(attrs.Dilations) };
        string tx = Lowerer.PlanType(ctx.TypeOf(xv)), tw = Lowerer.PlanType(ctx.TypeOf(wv));
        if (q is not { } p)
        {
            ctx.Emit(n, $"IntegerConv.Run<{tx},{tw}>",
                [Read(xv), xz.Length > 0 ? Read(xz) : Empty(ctx.TypeOf(xv)), Read(wv), wz.Length > 0 ? Read(wz) : Empty(ctx.TypeOf(wv)), Write(n.Outputs[0]), .. geometry]);
            return;
        }
        string xScale = In(n, p.XScale), wScale = In(n, p.WScale), yScale = In(n, p.YScale), yZero = In(n, p.YZero), bias = In(n, 8);
        var ts = ScaleType(ctx, n, xScale, wScale, yScale);
        RequireQuantized(ctx, n, yZero);
        RequireParamShape(ctx, n, wScale, sw[0], 1, "w_scale");
        if (Shapes.Product(ctx.Shape(n, xScale)) != 1 || Shapes.Product(ctx.Shape(n, yScale)) != 1 || Shapes.Product(ctx.Shape(n, yZero)) != 1)
            throw ctx.Unsupported(n, "with a per-channel x_scale, y_scale or y_zero_point");
        if (bias.Length > 0 && (ctx.TypeOf(bias) != DataType.Int32 || Shapes.Product(ctx.Shape(n, bias)) != sw[0])) throw ctx.Unsupported(n, "with a bias that is not int32 per output channel");
        ctx.Emit(n, $"IntegerConv.QLinear<{tx},{tw},{Lowerer.PlanType(ctx.TypeOf(yZero))},{Lowerer.PlanType(ts)}>",
            [Read(xv), Read(xScale), xz.Length > 0 ? Read(xz) : Empty(ctx.TypeOf(xv)), Read(wv), Read(wScale), wz.Length > 0 ? Read(wz) : Empty(ctx.TypeOf(wv)),
             Read(yScale), Read(yZero), bias.Length > 0 ? Read(bias) : Empty(DataType.Int32), Write(n.Outputs[0]), .. geometry]);
    }
}
