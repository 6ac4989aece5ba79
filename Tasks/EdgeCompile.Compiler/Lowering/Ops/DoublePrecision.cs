using EdgeCompile.Compiler.IR;
using static EdgeCompile.Compiler.Lowering.LoweringContext;

namespace EdgeCompile.Compiler.Lowering.Ops;

/// <summary>
/// Double-precision unary operators and reductions → the f64 overloads of Elementwise.Unary and Reduce.Axes /
/// Reduce.RuntimeAxes (scalar). Called from the unary and reduce lowerings when the input is double.
/// </summary>
public static class DoublePrecisionLowering
{
    public static void Unary(LoweringContext ctx, Node n, string op)
    {
        if (op is "Erf" or "Gelu" or "GeluTanh") throw ctx.Unsupported(n, "on double data");
        var nc = ctx.NodeContext(n);
        float p0 = 0, p1 = 0;
        switch (n.OpType)
        {
            case "LeakyRelu": p0 = nc.GetFloat("alpha", 0.01f); break;
            case "HardSigmoid": p0 = nc.GetFloat("alpha", 0.2f); p1 = nc.GetFloat("beta", 0.5f); break;
            case "Elu": p0 = nc.GetFloat("alpha", 1f); break;
            case "Selu": p0 = nc.GetFloat("alpha", 1.67326319217681884765625f); p1 = nc.GetFloat("gamma", 1.05070102214813232421875f); break;
            case "Clip": throw ctx.Unsupported(n, "on double data");
        }
        if (ctx.TypeOf(n.Outputs[0]) != DataType.Double) throw ctx.Unsupported(n, "with a non-double output");
        ctx.Emit(n, "Elementwise.Unary", E("UnaryOp." + op), Read(n.Inputs[0]), Write(n.Outputs[0]), F(p0), F(p1));
    }

    public static void Reduce(LoweringContext ctx, Node n, string op)
    {
        var x = ctx.Shape(n, n.Inputs[0]);
        var y = ctx.Shape(n, n.Outputs[0]);
        var nc = ctx.NodeContext(n);
        bool keep = nc.GetInt("keepdims", 1) != 0, noop = nc.GetInt("noop_with_empty_axes", 0) != 0;
        long[]? axes = nc.GetInts("axes");
        if (n.Inputs.Count > 1 && n.Inputs[1].Length > 0)
        {
            if (ctx.Constant(n.Inputs[1]) is not { } axesValue)
            {
                if (x.Length == 0) throw ctx.Unsupported(n, "of a scalar with axes computed at run time");
                if (ctx.TypeOf(n.Inputs[1]) != DataType.Int64) throw ctx.Unsupported(n, "with non-int64 axes");
                ctx.Emit(n, "Reduce.RuntimeAxes", E("ReduceOp." + op), Read(n.Inputs[0]), Read(n.Inputs[1]), Write(n.Outputs[0]),
                    Ints(x), Ints(y), B(keep), B(noop));
                return;
            }
            axes = axesValue.ToInt64s();
        }
        if (axes is null || axes.Length == 0)
        {
            if (noop) { ctx.Alias(n.Outputs[0], n.Inputs[0]); return; }
            axes = Enumerable.Range(0, x.Length).Select(i => (long)i).ToArray();
        }
        var mask = new int[x.Length];
        foreach (var a in axes) mask[Shapes.Axis(a, x.Length)] = 1;
        if (x.Length == 0)
        {
            ctx.Emit(n, "Reduce.Axes", E("ReduceOp." + op), Read(n.Inputs[0]), Write(n.Outputs[0]), Ints(1), Ints(1));
            return;
        }
        ctx.Emit(n, "Reduce.Axes", E("ReduceOp." + op), Read(n.Inputs[0]), Write(n.Outputs[0]), Ints(x), Ints(mask));
    }
}
