using EdgeCompile.Compiler.IR;
using static EdgeCompile.Compiler.Lowering.LoweringContext;

namespace EdgeCompile.Compiler.Lowering.Ops;

/// <summary>Broadcasting binary operators → Elementwise.Binary with per-dimension strides (0 = broadcast).</summary>
public sealed class BinaryLowering : IOpLowering
{
    public IEnumerable<string> OpTypes => ["Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "PRelu", "Mod", "Sum", "Mean"];

    public void Lower(LoweringContext ctx, Node n)
    {
        var type = ctx.TypeOf(n.Outputs[0]);
        var inputs = n.Inputs.Where(i => i.Length > 0).ToList();
        bool variadic = n.OpType is "Sum" or "Mean" or "Max" or "Min";
        if (!variadic && inputs.Count != 2) throw ctx.Unsupported(n, $"with {inputs.Count} inputs");
        if (inputs.Count == 0) throw ctx.Unsupported(n, "without inputs");
        if (n.OpType == "Pow" && inputs.Count == 2 && (ctx.TypeOf(inputs[1]) != type || type is not (DataType.Float or DataType.Double))) { MixedPowLowering.Lower(ctx, n); return; }
        foreach (var i in inputs)
            if (ctx.TypeOf(i) != type) throw ctx.Unsupported(n, $"on mixed {ctx.TypeOf(i).OnnxName()} and {type.OnnxName()} data");
        string method;
        switch (type)
        {
            case DataType.Float:
            case DataType.Double:
                method = "Elementwise.Binary";
                break;
            case DataType.Int64 or DataType.Int32 or DataType.Int16 or DataType.Int8 or DataType.UInt8 or DataType.UInt16 or DataType.UInt32 or DataType.UInt64
                when n.OpType is "Add" or "Sub" or "Mul" or "Div" or "Max" or "Min" or "Mod" or "Sum":
                method = "Elementwise.BinaryInteger";
                break;
            default:
                throw ctx.Unsupported(n, $"on {type.OnnxName()} data");
        }
        long? legacyAxis = ctx.Opset(n) < 7 && n.GetAttribute("broadcast")?.I == 1 ? n.GetAttribute("axis")?.I : null;
        var y = ctx.Shape(n, n.Outputs[0]);
        if (y.Length > 8) throw ctx.Unsupported(n, "above rank 8");
        var outShape = y.Length == 0 ? new[] { 1 } : y;
        if (Shapes.Product(y) == 0) return;
        if (variadic && inputs.Count == 1)
        {
            ctx.Alias(n.Outputs[0], inputs[0]);
            return;
        }
        // Opset < 8 variadic ops had no broadcasting: every input has the output's shape (the shape rule checks it).
        string op = n.OpType switch
        {
            "Sum" or "Mean" => "Add",
            "Mod" => n.GetAttribute("fmod")?.I == 1 ? "FMod" : "Mod",
            _ => n.OpType,
        };
        if (op == "Mod" && type is DataType.Float or DataType.Double) throw ctx.Unsupported(n, "on floats without fmod=1");
        var a = ctx.Shape(n, inputs[0]);
        var b = ctx.Shape(n, inputs[1]);
        if (legacyAxis is { } la) b = LegacyBroadcast.Align(ctx, n, b, la, y.Length);
        if (n.OpType == "PRelu" && !b.SequenceEqual(y) && b.Length > y.Length) throw ctx.Unsupported(n, "with a slope of higher rank than X");
        // PRelu before opset 7 had no broadcasting rule: a 1-D slope of X's channel count applies per channel
        // (dimension 1), as the reference executor and the shape rule read it, not along the last axis.
        if (n.OpType == "PRelu" && ctx.Opset(n) < 7 && b.Length == 1 && b[0] > 1 && a.Length >= 2 && a[1] == b[0])
            b = [b[0], .. Enumerable.Repeat(1, a.Length - 2)];
        ctx.Emit(n, method, E("BinaryOp." + op), Read(inputs[0]), Read(inputs[1]), Write(n.Outputs[0]),
            Ints(outShape), Ints(Strides(a, outShape)), Ints(Strides(b, outShape)));
        // More inputs accumulate into the output (element i reads and writes only element i).
        var own = Strides(y, outShape);
        for (int k = 2; k < inputs.Count; k++)
            ctx.Emit(n, method, E("BinaryOp." + op), Read(n.Outputs[0]), Read(inputs[k]), Write(n.Outputs[0]),
                Ints(outShape), Ints(own), Ints(Strides(ctx.Shape(n, inputs[k]), outShape)));
        if (n.OpType == "Mean")
        {
            var count = type == DataType.Float ? Tensor.Scalar((float)inputs.Count) : Tensor.Scalar((double)inputs.Count);
            string divisor = ctx.AddConstant(n.DisplayName + "_count", count);
            ctx.Emit(n, method, E("BinaryOp.Div"), Read(n.Outputs[0]), Read(divisor), Write(n.Outputs[0]),
                Ints(outShape), Ints(own), Ints(new int[outShape.Length]));
        }
    }

    /// <summary>Element strides of an operand over the output's dims (right-aligned), 0 where broadcast.</summary>
    public static int[] Strides(int[] shape, int[] outShape)
    {
        var own = Shapes.Strides(shape);
        var r = new int[outShape.Length];
        int offset = outShape.Length - shape.Length;
        for (int i = 0; i < outShape.Length; i++)
        {
            int k = i - offset;
            r[i] = k < 0 || shape[k] == 1 ? 0 : own[k];
        }
        return r;
    }
}
