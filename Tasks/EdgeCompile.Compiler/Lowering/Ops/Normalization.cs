using EdgeCompile.Compiler.IR;
using static EdgeCompile.Compiler.Lowering.LoweringContext;

namespace EdgeCompile.Compiler.Lowering.Ops;

/// <summary>Softmax/LogSoftmax, LayerNormalization and unfused BatchNormalization → Normalization.*.</summary>
public sealed class NormalizationLowering : IOpLowering
{
    public IEnumerable<string> OpTypes => ["Softmax", "LogSoftmax", "LayerNormalization", "BatchNormalization", "RMSNormalization"];

    /// <summary>An arena temporary of <paramref name="count"/> floats for a statistics output the model does not use.</summary>
    private static string Scratch(LoweringContext ctx, Node n, string what, int count)
    {
        string name = $"{n.DisplayName}_{what}__edge_scratch{ctx.Calls.Count}";
        ctx.Graph.ValueTypes[name] = IR.ValueType.FromShape(DataType.Float, [count]);
        return name;
    }

    public void Lower(LoweringContext ctx, Node n)
    {
        // Softmax/LogSoftmax also on float64 (Normalization.Softmax's scalar double overload).
        if (!(n.OpType is "Softmax" or "LogSoftmax" && ctx.TypeOf(n.Inputs[0]) == DataType.Double)) ctx.RequireFloat(n, n.Inputs[0]);
        var x = ctx.Shape(n, n.Inputs[0]);
        var nc = ctx.NodeContext(n);
        switch (n.OpType)
        {
            case "Softmax":
            case "LogSoftmax":
                {
                    int rank = x.Length;
                    bool legacy = ctx.Opset(n) < 13;
                    int axis = Shapes.Axis(nc.GetInt("axis", legacy ? 1 : -1), rank);
                    int outer = (int)Shapes.Product(x.AsSpan(0, axis));
                    // Before opset 13 the input is coerced to 2-D at 'axis': the softmax runs over all trailing dims.
                    int len = legacy ? (int)Shapes.Product(x.AsSpan(axis)) : x[axis];
                    int inner = legacy ? 1 : (int)Shapes.Product(x.AsSpan(axis + 1));
                    ctx.Emit(n, "Normalization.Softmax", Read(n.Inputs[0]), Write(n.Outputs[0]), I(outer), I(len), I(inner), B(n.OpType == "LogSoftmax"));
                    return;
                }
            case "LayerNormalization":
            case "RMSNormalization":
                {
                    int axis = Shapes.Axis(nc.GetInt("axis", -1), x.Length);
                    int outer = (int)Shapes.Product(x.AsSpan(0, axis));
                    int inner = (int)Shapes.Product(x.AsSpan(axis));
                    var scale = ctx.Shape(n, n.Inputs[1]);
                    if (Shapes.Product(scale) != inner) throw ctx.Unsupported(n, "with a broadcast scale");
                    if (n.OpType == "RMSNormalization")
                    {
                        ctx.Emit(n, "Normalization.RmsNorm", Read(n.Inputs[0]), Read(n.Inputs[1]), Write(n.Outputs[0]), I(outer), I(inner), F(nc.GetFloat("epsilon", 1e-5f)));
                        return;
                    }
                    string bias = n.Inputs.Count > 2 ? n.Inputs[2] : "";
                    if (bias.Length > 0 && Shapes.Product(ctx.Shape(n, bias)) != inner) throw ctx.Unsupported(n, "with a broadcast bias");
                    string meanOut = n.Outputs.Count > 1 ? n.Outputs[1] : "", invOut = n.Outputs.Count > 2 ? n.Outputs[2] : "";
                    if (meanOut.Length > 0 || invOut.Length > 0)
                    {
                        foreach (var o in new[] { meanOut, invOut })
                            if (o.Length > 0 && (ctx.TypeOf(o) != DataType.Float || Shapes.Product(ctx.Shape(n, o)) != outer)) throw ctx.Unsupported(n, "with Mean/InvStdDev outputs that are not float32 per row");
                        ctx.Emit(n, "Normalization.LayerNormStats", Read(n.Inputs[0]), Read(n.Inputs[1]), bias.Length > 0 ? Read(bias) : Empty(), Write(n.Outputs[0]),
                            Write(meanOut.Length > 0 ? meanOut : Scratch(ctx, n, "mean", outer)), Write(invOut.Length > 0 ? invOut : Scratch(ctx, n, "invstddev", outer)), I(outer), I(inner), F(nc.GetFloat("epsilon", 1e-5f)));
                        return;
                    }
                    ctx.Emit(n, "Normalization.LayerNorm", Read(n.Inputs[0]), Read(n.Inputs[1]), bias.Length > 0 ? Read(bias) : Empty(), Write(n.Outputs[0]),
                        I(outer), I(inner), F(nc.GetFloat("epsilon", 1e-5f)));
                    return;
                }
            default: // BatchNormalization not folded into a Conv: a per-channel affine map.
                {
                    if (n.Outputs.Skip(1).Any(o => o.Length > 0) || nc.GetInt("training_mode", 0) != 0)
                    {
                        if (ctx.Opset(n) < 14) throw ctx.Unsupported(n, "with the training outputs of opsets before 14");
                        TrainingModeLowering.BatchNorm(ctx, n, x, nc.GetFloat("epsilon", 1e-5f), nc.GetFloat("momentum", 0.9f));
                        return;
                    }
                    var p = n.Inputs.Skip(1).Take(4).Select(ctx.Constant).ToArray();
                    if (p.Any(t => t is null)) { RuntimeBatchNormLowering.Lower(ctx, n, x, nc.GetFloat("epsilon", 1e-5f)); return; }
                    int c = x.Length > 1 ? x[1] : 1;
                    double eps = nc.GetFloat("epsilon", 1e-5f);
                    var g = p[0]!.ToDoubles(); var be = p[1]!.ToDoubles(); var m = p[2]!.ToDoubles(); var v = p[3]!.ToDoubles();
                    var scale = new float[c]; var shift = new float[c];
                    for (int i = 0; i < c; i++)
                    {
                        double s = g[i] / Math.Sqrt(v[i] + eps);
                        scale[i] = (float)s;
                        shift[i] = (float)(be[i] - m[i] * s);
                    }
                    string sName = ctx.AddConstant(n.DisplayName + "_scale", Tensor.FromArray(scale, c));
                    string tName = ctx.AddConstant(n.DisplayName + "_shift", Tensor.FromArray(shift, c));
                    ctx.Emit(n, "Normalization.ChannelAffine", Read(n.Inputs[0]), Read(sName), Read(tName), Write(n.Outputs[0]),
                        I(x[0]), I(c), I((int)Shapes.Product(x.AsSpan(Math.Min(2, x.Length)))));
                    return;
                }
        }
    }
}
