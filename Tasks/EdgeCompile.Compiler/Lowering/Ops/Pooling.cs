using EdgeCompile.Compiler.IR;
using EdgeCompile.Compiler.Operators.Common;
using static EdgeCompile.Compiler.Lowering.LoweringContext;

namespace EdgeCompile.Compiler.Lowering.Ops;

/// <summary>MaxPool, AveragePool (2-D, and 1-D as 2-D), GlobalAveragePool, GlobalMaxPool → Pool.*.</summary>
public sealed class PoolingLowering : IOpLowering
{
    public IEnumerable<string> OpTypes => ["MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool"];

    public void Lower(LoweringContext ctx, Node n)
    {
        ctx.RequireFloat(n, n.Inputs[0]);
        var x = ctx.Shape(n, n.Inputs[0]);
        if (n.OpType.StartsWith("Global", StringComparison.Ordinal))
        {
            int channels = x[0] * x[1];
            int spatial = (int)Shapes.Product(x.AsSpan(2));
            ctx.Emit(n, n.OpType == "GlobalAveragePool" ? "Pool.GlobalAverage" : "Pool.GlobalMax", Read(n.Inputs[0]), Write(n.Outputs[0]), I(channels), I(spatial));
            return;
        }
        if (n.Outputs.Count > 1 && n.Outputs[1].Length > 0) { WindowNdLowering.MaxPoolWithIndices(ctx, n); return; }
        if (x.Length > 4) { WindowNdLowering.Pool(ctx, n); return; }
        if (x.Length is not (3 or 4)) throw ctx.Unsupported(n, $"with {x.Length - 2} spatial dimensions");
        var nc = ctx.NodeContext(n);
        var a = ConvHelpers.ReadPoolAttributes(nc, x.Select(d => Dim.Known(d)).ToArray());
        var geo = ConvHelpers.Forward(nc, a, x[2..], a.KernelShape!);
        bool oneD = x.Length == 3;
        int h = oneD ? 1 : x[2], width = oneD ? x[2] : x[3];
        int kh = oneD ? 1 : a.KernelShape![0], kw = oneD ? a.KernelShape![0] : a.KernelShape![1];
        int oh = oneD ? 1 : geo.OutputSpatial[0], ow = oneD ? geo.OutputSpatial[0] : geo.OutputSpatial[1];
        int sh = oneD ? 1 : a.Strides[0], sw = oneD ? a.Strides[0] : a.Strides[1];
        int pt = oneD ? 0 : geo.PadsBegin[0], pl = oneD ? geo.PadsBegin[0] : geo.PadsBegin[1];
        int pb = oneD ? 0 : geo.PadsEnd[0], pr = oneD ? geo.PadsEnd[0] : geo.PadsEnd[1];
        if (n.OpType == "MaxPool")
        {
            if (nc.GetInt("storage_order", 0) != 0) throw ctx.Unsupported(n, "with storage_order 1");
            int dh = oneD ? 1 : a.Dilations[0], dw = oneD ? a.Dilations[0] : a.Dilations[1];
            ctx.Emit(n, "Pool.MaxPool2D", Read(n.Inputs[0]), Write(n.Outputs[0]), I(x[0]), I(x[1]), I(h), I(width), I(kh), I(kw), I(oh), I(ow),
                I(sh), I(sw), I(pt), I(pl), I(dh), I(dw));
        }
        else
        {
            if (a.Dilations.Any(d => d != 1)) { WindowNdLowering.Pool(ctx, n); return; }
            ctx.Emit(n, "Pool.AveragePool2D", Read(n.Inputs[0]), Write(n.Outputs[0]), I(x[0]), I(x[1]), I(h), I(width), I(kh), I(kw), I(oh), I(ow),
                I(sh), I(sw), I(pt), I(pl), I(pb), I(pr), B(nc.GetInt("count_include_pad", 0) != 0));
        }
    }
}
