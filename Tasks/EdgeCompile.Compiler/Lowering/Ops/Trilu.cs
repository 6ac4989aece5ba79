using EdgeCompile.Compiler.IR;
using static EdgeCompile.Compiler.Lowering.LoweringContext;

namespace EdgeCompile.Compiler.Lowering.Ops;

/// <summary>Trilu whose k is computed at run time → Trilu.Run. Called from the constant-k lowering (Lowering/Ops/GatherScatter.cs).</summary>
public static class RuntimeTriluLowering
{
    public static void Lower(LoweringContext ctx, Node n, int[] x, bool upper)
    {
        if (ctx.TypeOf(n.Inputs[1]) != DataType.Int64 || Shapes.Product(ctx.Shape(n, n.Inputs[1])) != 1)
            throw ctx.Unsupported(n, "with a k that is not one int64 value");
        int rows = x[^2], cols = x[^1];
        ctx.Emit(n, "Trilu.Run", Read(n.Inputs[0]), Read(n.Inputs[1]), Write(n.Outputs[0]),
            I((int)Shapes.Product(x.AsSpan(0, x.Length - 2))), I(rows), I(cols), B(upper));
    }
}
