using EdgeCompile.Compiler.IR;
using EdgeCompile.Compiler.Operators.Common;
using static EdgeCompile.Compiler.Lowering.LoweringContext;

namespace EdgeCompile.Compiler.Lowering.Ops;

/// <summary>
/// QuantizeLinear (float32 → uint8/int8/uint16/int16/int32) and DequantizeLinear (those → float32) as float-model
/// operators → QLinearAxis.Quantize / Dequantize: per-tensor, per-axis or blocked scales and zero points, constant or
/// computed at run time, mapped onto the kernel's [outer, axis, inner] view by strides.
/// </summary>
public sealed class QuantizeLinearLowering : IOpLowering
{
    public IEnumerable<string> OpTypes => ["QuantizeLinear", "DequantizeLinear"];

    public void Lower(LoweringContext ctx, Node n)
    {
        bool quantize = n.OpType == "QuantizeLinear";
        var q = quantize ? ctx.TypeOf(n.Outputs[0]) : ctx.TypeOf(n.Inputs[0]);
        if (q is not (DataType.UInt8 or DataType.Int8 or DataType.UInt16 or DataType.Int16 or DataType.Int32)) throw ctx.Unsupported(n, $"on {q.OnnxName()} data");
        ctx.RequireFloat(n, quantize ? n.Inputs[0] : n.Outputs[0]);
        ctx.RequireFloat(n, n.Inputs[1]);
        var nc = ctx.NodeContext(n);
        if (quantize && nc.GetInt("precision", 0) is not (0 or (long)DataType.Float)) throw ctx.Unsupported(n, "with a division precision other than float32");
        bool hasZero = n.Inputs.Count > 2 && n.Inputs[2].Length > 0;
        if (hasZero && ctx.TypeOf(n.Inputs[2]) != q) throw ctx.Unsupported(n, "with a zero point of another type");
        var x = ctx.Shape(n, n.Inputs[0]);
        var s = ctx.Shape(n, n.Inputs[1]);
        if (hasZero && !ctx.Shape(n, n.Inputs[2]).SequenceEqual(s)) throw ctx.Unsupported(n, "with a zero point of another shape than the scale");
        long blockSize = nc.GetInt("block_size", 0);
        var (kind, ax) = MatMulHelpers.ClassifyScale(nc, x, s, nc.GetInt("axis", 1), blockSize);
        int outer, axis, inner, block = 1, so = 0, sa = 0, si = 0;
        if (kind == MatMulHelpers.Granularity.PerTensor) { outer = 1; axis = 1; inner = checked((int)Shapes.Product(x)); }
        else
        {
            outer = (int)Shapes.Product(x.AsSpan(0, ax)); axis = x[ax]; inner = (int)Shapes.Product(x.AsSpan(ax + 1));
            if (kind == MatMulHelpers.Granularity.PerAxis) sa = 1;
            else { block = checked((int)blockSize); sa = inner; si = 1; so = s[ax] * inner; }
        }
        var zero = hasZero ? Read(n.Inputs[2]) : Empty(q);
        ctx.Emit(n, quantize ? "QLinearAxis.Quantize" : "QLinearAxis.Dequantize", Read(n.Inputs[0]), Read(n.Inputs[1]), zero, Write(n.Outputs[0]),
            I(outer), I(axis), I(inner), I(block), I(so), I(sa), I(si));
    }
}
