using EdgeCompile.Compiler.IR;
using static EdgeCompile.Compiler.Lowering.LoweringContext;

namespace EdgeCompile.Compiler.Lowering.Ops;

/// <summary>
/// Slice (opset 10+) with int64 starts/ends/axes/steps computed at run time → RuntimeSlice.Run, which checks that they
/// give the statically inferred output shape. Called from the data-movement lowering.
/// </summary>
public static class RuntimeSliceLowering
{
    public static void Lower(LoweringContext ctx, Node n, int[] x)
    {
        var y = ctx.Shape(n, n.Outputs[0]);
        if (x.Length == 0 || x.Length > 8 || y.Length != x.Length) throw ctx.Unsupported(n, $"of rank {x.Length} with parameters computed at run time");
        CallArg P(int i)
        {
            if (n.Inputs.Count <= i || n.Inputs[i].Length == 0) return Empty(DataType.Int64);
            if (ctx.TypeOf(n.Inputs[i]) != DataType.Int64) throw ctx.Unsupported(n, "with int32 parameters computed at run time");
            return Read(n.Inputs[i]);
        }
        ctx.Emit(n, "RuntimeSlice.Run", Read(n.Inputs[0]), P(1), P(2), P(3), P(4), Write(n.Outputs[0]), Ints(x), Ints(y));
    }
}
