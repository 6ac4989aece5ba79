using EdgeCompile.Compiler.IR;
using static EdgeCompile.Compiler.Lowering.LoweringContext;

namespace EdgeCompile.Compiler.Lowering.Ops;

/// <summary>Unary elementwise operators → Elementwise.Unary (float32).</summary>
public sealed class UnaryLowering : IOpLowering
{
    private static readonly Dictionary<string, string> s_ops = new(StringComparer.Ordinal)
    {
        ["Relu"] = "Relu", ["LeakyRelu"] = "LeakyRelu", ["Clip"] = "Clip", ["Sigmoid"] = "Sigmoid", ["Tanh"] = "Tanh",
        ["HardSigmoid"] = "HardSigmoid", ["HardSwish"] = "HardSwish", ["Exp"] = "Exp", ["Log"] = "Log", ["Sqrt"] = "Sqrt",
        ["Reciprocal"] = "Reciprocal", ["Neg"] = "Neg", ["Abs"] = "Abs", ["Floor"] = "Floor", ["Ceil"] = "Ceil", ["Round"] = "Round",
        ["Erf"] = "Erf", ["Gelu"] = "Gelu", ["Softplus"] = "Softplus", ["Softsign"] = "Softsign", ["Elu"] = "Elu", ["Selu"] = "Selu",
        ["Mish"] = "Mish", ["Sin"] = "Sin", ["Cos"] = "Cos",
    };

    public IEnumerable<string> OpTypes => s_ops.Keys;

    public void Lower(LoweringContext ctx, Node n)
    {
        if (ctx.TypeOf(n.Inputs[0]) == DataType.Double) { DoublePrecisionLowering.Unary(ctx, n, n.OpType == "Gelu" && ctx.NodeContext(n).GetString("approximate", "none") == "tanh" ? "GeluTanh" : s_ops[n.OpType]); return; }
        if (n.OpType == "Clip" && ctx.Opset(n) >= 11 && ctx.TypeOf(n.Inputs[0]) is DataType.Int8 or DataType.UInt8 or DataType.Int32 or DataType.Int64) { RuntimeClipLowering.Lower(ctx, n); return; }
        ctx.RequireFloat(n, n.Inputs[0]);
        var nc = ctx.NodeContext(n);
        string op = s_ops[n.OpType];
        float p0 = 0, p1 = 0;
        switch (n.OpType)
        {
            case "LeakyRelu": p0 = nc.GetFloat("alpha", 0.01f); break;
            case "HardSigmoid": p0 = nc.GetFloat("alpha", 0.2f); p1 = nc.GetFloat("beta", 0.5f); break;
            case "Elu": p0 = nc.GetFloat("alpha", 1f); break;
            case "Selu": p0 = nc.GetFloat("alpha", 1.67326319217681884765625f); p1 = nc.GetFloat("gamma", 1.05070102214813232421875f); break;
            case "Gelu": if (nc.GetString("approximate", "none") == "tanh") op = "GeluTanh"; break;
            case "Clip":
                if (ctx.ClipBounds(n) is not { } b) { RuntimeClipLowering.Lower(ctx, n); return; }
                (p0, p1) = (b.Min, b.Max);
                break;
        }
        ctx.Emit(n, "Elementwise.Unary", E("UnaryOp." + op), Read(n.Inputs[0]), Write(n.Outputs[0]), F(p0), F(p1));
    }
}
