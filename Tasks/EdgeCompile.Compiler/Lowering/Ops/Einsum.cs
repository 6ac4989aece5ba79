using EdgeCompile.Compiler.IR;
using static EdgeCompile.Compiler.Lowering.LoweringContext;

namespace EdgeCompile.Compiler.Lowering.Ops;

/// <summary>
/// Einsum of one or two float32 or float64 operands → Einsum.Run over the reference executor's own loop plan
/// (Operators/Einsum.cs, LoopPlan): output labels then summed labels, a stride per operand and label.
/// </summary>
public sealed class EinsumLowering : IOpLowering
{
    public IEnumerable<string> OpTypes => ["Einsum"];

    public void Lower(LoweringContext ctx, Node n)
    {
        if (n.Inputs.Count is < 1 or > 2) throw ctx.Unsupported(n, $"with {n.Inputs.Count} operands");
        var t = ctx.TypeOf(n.Outputs[0]);
        if (t is not (DataType.Float or DataType.Double) || n.Inputs.Any(i => ctx.TypeOf(i) != t)) throw ctx.Unsupported(n, $"on {ctx.TypeOf(n.Inputs[0]).OnnxName()} data");
        var shapes = n.Inputs.Select(i => ctx.Shape(n, i)).ToArray();
        var (dims, outRank, strides) = Operators.Einsum.LoopPlan(ctx.NodeContext(n), shapes);
        if (dims.Length > 16) throw ctx.Unsupported(n, $"with {dims.Length} labels (the kernel takes 16)");
        if (!ctx.Shape(n, n.Outputs[0]).SequenceEqual(dims[..outRank])) throw ctx.Unsupported(n, "with an output shape other than the inferred one");
        bool two = n.Inputs.Count == 2;
        ctx.Emit(n, "Einsum.Run", Read(n.Inputs[0]), two ? Read(n.Inputs[1]) : Empty(t), Write(n.Outputs[0]), Ints(dims), I(outRank),
            Ints(strides[0]), two ? Ints(strides[1]) : Empty(DataType.Int32));
    }
}
