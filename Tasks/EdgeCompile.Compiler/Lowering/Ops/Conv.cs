using EdgeCompile.Compiler.IR;
using EdgeCompile.Compiler.Operators.Common;
using static EdgeCompile.Compiler.Lowering.LoweringContext;

namespace EdgeCompile.Compiler.Lowering.Ops;

/// <summary>Conv (1-D as 2-D with height 1, and 2-D) → Conv.Conv2D, with a following activation fused.</summary>
public sealed class ConvLowering : IOpLowering
{
    public IEnumerable<string> OpTypes => ["Conv"];

    public void Lower(LoweringContext ctx, Node n)
    {
        ctx.RequireFloat(n, n.Inputs[0], n.Inputs[1]);
        var x = ctx.Shape(n, n.Inputs[0]);
        var w = ctx.Shape(n, n.Inputs[1]);
        if (x.Length > 4) { WindowNdLowering.Conv(ctx, n); return; }
        if (x.Length is not (3 or 4)) throw ctx.Unsupported(n, $"with {x.Length - 2} spatial dimensions");
        var nc = ctx.NodeContext(n);
        int spatial = x.Length - 2;
        var a = ConvHelpers.ReadAttributes(nc, spatial);
        var kernel = w[2..];
        var geo = ConvHelpers.Forward(nc, a, x[2..], kernel);
        string bias = n.Inputs.Count > 2 ? n.Inputs[2] : "";
        if (bias.Length > 0) ctx.RequireFloat(n, bias);
        var (act, p0, p1, output) = ctx.FuseActivation(n.Outputs[0]);
        int group = (int)nc.GetInt("group", 1);
        bool oneD = spatial == 1;
        int h = oneD ? 1 : x[2], width = oneD ? x[2] : x[3];
        int kh = oneD ? 1 : kernel[0], kw = oneD ? kernel[0] : kernel[1];
        int oh = oneD ? 1 : geo.OutputSpatial[0], ow = oneD ? geo.OutputSpatial[0] : geo.OutputSpatial[1];
        int sh = oneD ? 1 : a.Strides[0], sw = oneD ? a.Strides[0] : a.Strides[1];
        int dh = oneD ? 1 : a.Dilations[0], dw = oneD ? a.Dilations[0] : a.Dilations[1];
        int pt = oneD ? 0 : geo.PadsBegin[0], pl = oneD ? geo.PadsBegin[0] : geo.PadsBegin[1];
        ctx.Emit(n, "Conv.Conv2D", Read(n.Inputs[0]), Read(n.Inputs[1]), bias.Length > 0 ? Read(bias) : Empty(), Write(output),
            I(x[0]), I(x[1]), I(h), I(width), I(w[0]), I(kh), I(kw), I(oh), I(ow), I(sh), I(sw), I(pt), I(pl), I(dh), I(dw), I(group),
            E("Activation." + act), F(p0), F(p1));
    }
}
