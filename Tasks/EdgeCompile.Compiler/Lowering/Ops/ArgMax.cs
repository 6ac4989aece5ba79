using EdgeCompile.Compiler.IR;
using static EdgeCompile.Compiler.Lowering.LoweringContext;

namespace EdgeCompile.Compiler.Lowering.Ops;

/// <summary>ArgMax/ArgMin (float32 input, int64 output) → Reduce.Arg on the [outer, axis, inner] view.</summary>
public sealed class ArgMaxLowering : IOpLowering
{
    public IEnumerable<string> OpTypes => ["ArgMax", "ArgMin"];

    public void Lower(LoweringContext ctx, Node n)
    {
        ctx.RequireFloat(n, n.Inputs[0]);
        var x = ctx.Shape(n, n.Inputs[0]);
        ctx.Shape(n, n.Outputs[0]);
        if (x.Length == 0) throw ctx.Unsupported(n, "of a scalar");
        var nc = ctx.NodeContext(n);
        int axis = Shapes.Axis(nc.GetInt("axis", 0), x.Length);
        if (x[axis] == 0) throw ctx.Unsupported(n, "over an empty axis");
        ctx.Emit(n, "Reduce.Arg", B(n.OpType == "ArgMax"), Read(n.Inputs[0]), Write(n.Outputs[0]),
            I((int)Shapes.Product(x.AsSpan(0, axis))), I(x[axis]), I((int)Shapes.Product(x.AsSpan(axis + 1))), B(nc.GetInt("select_last_index", 0) != 0));
    }
}
