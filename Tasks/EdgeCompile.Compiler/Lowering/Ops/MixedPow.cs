using EdgeCompile.Compiler.IR;
using static EdgeCompile.Compiler.Lowering.LoweringContext;

namespace EdgeCompile.Compiler.Lowering.Ops;

/// <summary>Pow with an integer base or a mixed exponent type (float/double/int32/int64 base) → MixedPow.Pow. Called from the binary lowering.</summary>
public static class MixedPowLowering
{
    public static void Lower(LoweringContext ctx, Node n)
    {
        var ta = ctx.TypeOf(n.Inputs[0]);
        var tb = ctx.TypeOf(n.Inputs[1]);
        bool ok = (ta, tb) switch
        {
            (DataType.Float or DataType.Double, DataType.Int32 or DataType.Int64) => true,
            (DataType.Float, DataType.UInt32 or DataType.UInt64) => true,
            (DataType.Int32 or DataType.Int64, DataType.Float or DataType.Int32 or DataType.Int64) => true,
            _ => false,
        };
        if (!ok) throw ctx.Unsupported(n, $"on {ta.OnnxName()} base and {tb.OnnxName()} exponent");
        if (ctx.Opset(n) < 7) throw ctx.Unsupported(n, "before opset 7");
        var y = ctx.Shape(n, n.Outputs[0]);
        if (y.Length > 8) throw ctx.Unsupported(n, "above rank 8");
        if (Shapes.Product(y) == 0) return;
        var outShape = y.Length == 0 ? new[] { 1 } : y;
        ctx.Emit(n, "MixedPow.Pow", Read(n.Inputs[0]), Read(n.Inputs[1]), Write(n.Outputs[0]), Ints(outShape),
            Ints(BinaryLowering.Strides(ctx.Shape(n, n.Inputs[0]), outShape)), Ints(BinaryLowering.Strides(ctx.Shape(n, n.Inputs[1]), outShape)));
    }
}
