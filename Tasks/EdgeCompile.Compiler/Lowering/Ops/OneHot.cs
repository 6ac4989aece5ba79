using EdgeCompile.Compiler.IR;
using static EdgeCompile.Compiler.Lowering.LoweringContext;

namespace EdgeCompile.Compiler.Lowering.Ops;

/// <summary>
/// OneHot (indices int64/int32/float, depth int64/int32/float, values of any type above) → OneHot.Run; the output's depth
/// is the compiled (inferred) one and the kernel throws when the run-time depth differs.
/// </summary>
public sealed class OneHotLowering : IOpLowering
{
    public IEnumerable<string> OpTypes => ["OneHot"];

    public void Lower(LoweringContext ctx, Node n)
    {
        var it = ctx.TypeOf(n.Inputs[0]);
        var dt = ctx.TypeOf(n.Inputs[1]);
        bool ok = (it, dt) is (DataType.Int64, DataType.Float or DataType.Int64) or (DataType.Float, DataType.Float or DataType.Int64) or (DataType.Int32, DataType.Int32 or DataType.Int64);
        if (!ok) throw ctx.Unsupported(n, $"with {it.OnnxName()} indices and {dt.OnnxName()} depth");
        IndexMaps.RequireSupported(ctx, n, n.Inputs[2]);
        var x = ctx.Shape(n, n.Inputs[0]);
        var y = ctx.Shape(n, n.Outputs[0]);
        if (y.Length != x.Length + 1) throw ctx.Unsupported(n, "with an output of unexpected rank");
        int axis = Shapes.Axis(ctx.NodeContext(n).GetInt("axis", -1), x.Length + 1);
        if (Shapes.Product(ctx.Shape(n, n.Inputs[1])) != 1 || Shapes.Product(ctx.Shape(n, n.Inputs[2])) != 2) throw ctx.Unsupported(n, "with a depth or values of unexpected size");
        ctx.Emit(n, "OneHot.Run", Read(n.Inputs[0]), Read(n.Inputs[1]), Read(n.Inputs[2]), Write(n.Outputs[0]),
            I((int)Shapes.Product(x.AsSpan(0, axis))), I(y[axis]), I((int)Shapes.Product(x.AsSpan(axis))), B(ctx.Opset(n) >= 11));
    }
}
