using EdgeCompile.Compiler.IR;
using static EdgeCompile.Compiler.Lowering.LoweringContext;

namespace EdgeCompile.Compiler.Lowering.Ops;

/// <summary>
/// Comparisons (bool output) → Elementwise.Compare; And/Or/Xor → Elementwise.Logic; Not → Elementwise.Not;
/// Where → Elementwise.Where. Broadcasting through per-dimension strides, as Binary.
/// </summary>
public sealed class CompareLowering : IOpLowering
{
    public IEnumerable<string> OpTypes => ["Equal", "Less", "LessOrEqual", "Greater", "GreaterOrEqual", "And", "Or", "Xor", "Not", "Where"];

    public void Lower(LoweringContext ctx, Node n)
    {
        var y = ctx.Shape(n, n.Outputs[0]);
        if (y.Length > 8) throw ctx.Unsupported(n, "above rank 8");
        var outShape = y.Length == 0 ? new[] { 1 } : y;
        int[] S(string v) => BinaryLowering.Strides(ctx.Shape(n, v), outShape);
        bool empty = Shapes.Product(y) == 0;
        switch (n.OpType)
        {
            case "Not":
                if (!empty) ctx.Emit(n, "Elementwise.Not", Read(n.Inputs[0]), Write(n.Outputs[0]));
                return;
            case "And" or "Or" or "Xor":
                if (ctx.Opset(n) < 7 && n.GetAttribute("broadcast")?.I == 1 && n.GetAttribute("axis") is not null)
                    throw ctx.Unsupported(n, "with legacy (opset < 7) axis broadcasting");
                if (!empty)
                    ctx.Emit(n, "Elementwise.Logic", E("LogicOp." + n.OpType), Read(n.Inputs[0]), Read(n.Inputs[1]), Write(n.Outputs[0]),
                        Ints(outShape), Ints(S(n.Inputs[0])), Ints(S(n.Inputs[1])));
                return;
            case "Where":
                {
                    var t = ctx.TypeOf(n.Outputs[0]);
                    if (!CastLowering.IsPlanType(t)) throw ctx.Unsupported(n, $"on {t.OnnxName()} data");
                    if (!empty)
                        ctx.Emit(n, "Elementwise.Where", Read(n.Inputs[0]), Read(n.Inputs[1]), Read(n.Inputs[2]), Write(n.Outputs[0]),
                            Ints(outShape), Ints(S(n.Inputs[0])), Ints(S(n.Inputs[1])), Ints(S(n.Inputs[2])));
                    return;
                }
            default:
                {
                    var t = ctx.TypeOf(n.Inputs[0]);
                    if (!CastLowering.IsKernelType(t) || t == DataType.Bool && n.OpType != "Equal") throw ctx.Unsupported(n, $"on {t.OnnxName()} data");
                    if (ctx.Opset(n) < 7 && n.GetAttribute("broadcast")?.I == 1 && n.GetAttribute("axis") is not null)
                        throw ctx.Unsupported(n, "with legacy (opset < 7) axis broadcasting");
                    if (!empty)
                        ctx.Emit(n, "Elementwise.Compare", E("CompareOp." + n.OpType), Read(n.Inputs[0]), Read(n.Inputs[1]), Write(n.Outputs[0]),
                            Ints(outShape), Ints(S(n.Inputs[0])), Ints(S(n.Inputs[1])));
                    return;
                }
        }
    }
}
