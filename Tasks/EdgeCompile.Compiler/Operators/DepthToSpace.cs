using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.IR;
using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>
/// DepthToSpace: [N, C, H, W] → [N, C/b², H·b, W·b], moving channel blocks into b×b spatial blocks.
/// Mode (opset 11+) DCR (default): channel = (i·b + j)·C' + c; CRD: channel = c·b² + i·b + j, for output
/// channel c, and (i, j) the position inside the spatial block.
/// </summary>
public sealed class DepthToSpace : Operator
{
    public override string OpType => "DepthToSpace";
    public override IReadOnlyCollection<string> Attributes => ["blocksize", "mode"];

    public override void InferTypes(InferenceContext ctx)
    {
        var type = ctx.InputElemType(0);
        var s = ctx.InputShape(0);
        long b = BlockSize(ctx);
        Mode(ctx);
        if (s is null) { ctx.SetOutput(0, type, ShapeHelpers.UnknownDims(4)); return; }
        if (s.Length != 4) throw ctx.Error(EdgeCodes.ShapeMismatch, $"DepthToSpace needs a 4-D input, got rank {s.Length}.");
        if (s[1].IsKnown && s[1].Value % (b * b) != 0)
            throw ctx.Error(EdgeCodes.ShapeMismatch, $"The channel count {s[1].Value} is not divisible by blocksize² = {b * b}.");
        ctx.SetOutput(0, type, [s[0], ShapeHelpers.Div(s[1], b * b), ShapeHelpers.Mul(s[2], b), ShapeHelpers.Mul(s[3], b)]);
    }

    public override void Execute(ExecutionContext ctx)
    {
        var x = ctx.RequireInput(0);
        int b = (int)BlockSize(ctx);
        bool crd = Mode(ctx) == "CRD";
        if (x.Rank != 4) throw ctx.Error(EdgeCodes.ShapeMismatch, $"DepthToSpace needs a 4-D input, got {Shapes.Format(x.Shape)}.");
        int n = x.Shape[0], c = x.Shape[1], h = x.Shape[2], w = x.Shape[3];
        if (c % (b * b) != 0)
            throw ctx.Error(EdgeCodes.ShapeMismatch, $"The channel count {c} is not divisible by blocksize² = {b * b}.");
        int oc = c / (b * b);
        int[] shape = [n, oc, h * b, w * b];
        var strides = Shapes.Strides(x.Shape);
        var idx = ShapeHelpers.IndexMap(shape, o =>
        {
            int i = o[2] % b, j = o[3] % b;
            int channel = crd ? o[1] * b * b + i * b + j : (i * b + j) * oc + o[1];
            return o[0] * strides[0] + channel * strides[1] + o[2] / b * strides[2] + o[3] / b * strides[3];
        });
        ctx.SetOutput(0, x.Take(shape, idx));
    }

    internal static long BlockSize(NodeContext ctx)
    {
        long b = ctx.RequireInt("blocksize");
        if (b < 1) throw ctx.Error(EdgeCodes.InvalidAttribute, $"blocksize must be at least 1, got {b}.");
        return b;
    }

    private static string Mode(NodeContext ctx)
    {
        var m = ctx.GetString("mode", "DCR");
        if (m is not ("DCR" or "CRD")) throw ctx.Error(EdgeCodes.InvalidAttribute, $"mode must be DCR or CRD, got '{m}'.");
        return m;
    }
}
