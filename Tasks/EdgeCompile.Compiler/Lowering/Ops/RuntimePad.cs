using EdgeCompile.Compiler.IR;
using static EdgeCompile.Compiler.Lowering.LoweringContext;

namespace EdgeCompile.Compiler.Lowering.Ops;

/// <summary>
/// Pad (opset 11+) whose pads, constant value or axes are computed at run time → RuntimePad.Run, and Tile whose repeats
/// are → RuntimeTile.Run; both throw unless the run-time parameters give the compiled (inferred) output shape. Called
/// from the constant-parameter lowering (PadTile.cs).
/// </summary>
public static class RuntimePadLowering
{
    public static void LowerPad(LoweringContext ctx, Node n, int[] x, int[] y, string mode)
    {
        if (x.Length > 8 || y.Length != x.Length) throw ctx.Unsupported(n, $"of rank {x.Length} with parameters computed at run time");
        string padMode = mode switch
        {
            "constant" => "Constant", "reflect" => "Reflect", "edge" => "Edge", "wrap" => "Wrap",
            _ => throw ctx.Unsupported(n, $"in mode '{mode}'"),
        };
        var type = ctx.TypeOf(n.Inputs[0]);
        if (ctx.TypeOf(n.Inputs[1]) != DataType.Int64) throw ctx.Unsupported(n, "with pads that are not int64");
        CallArg value = Empty(type);
        if (mode == "constant" && n.Inputs.Count > 2 && n.Inputs[2].Length > 0)
        {
            if (ctx.TypeOf(n.Inputs[2]) != type) throw ctx.Unsupported(n, "with a value of another type than the data");
            if (Shapes.Product(ctx.Shape(n, n.Inputs[2])) > 0) value = Read(n.Inputs[2]);
        }
        CallArg axes = Empty(DataType.Int64);
        if (n.Inputs.Count > 3 && n.Inputs[3].Length > 0)
        {
            if (ctx.TypeOf(n.Inputs[3]) != DataType.Int64) throw ctx.Unsupported(n, "with axes that are not int64");
            axes = Read(n.Inputs[3]);
        }
        ctx.Emit(n, "RuntimePad.Run", Read(n.Inputs[0]), Read(n.Inputs[1]), value, axes, Write(n.Outputs[0]), Ints(x), Ints(y), E("PadMode." + padMode));
    }

    public static void LowerTile(LoweringContext ctx, Node n, int[] x, int[] y)
    {
        if (x.Length > 8 || y.Length != x.Length) throw ctx.Unsupported(n, $"of rank {x.Length} with repeats computed at run time");
        if (ctx.TypeOf(n.Inputs[1]) != DataType.Int64) throw ctx.Unsupported(n, "with repeats that are not int64");
        ctx.Emit(n, "RuntimeTile.Run", Read(n.Inputs[0]), Read(n.Inputs[1]), Write(n.Outputs[0]), Ints(x), Ints(y));
    }
}
