using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.IR;
using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>
/// SpaceToDepth: [N, C, H, W] → [N, C·b², H/b, W/b], the inverse of DepthToSpace in DCR order: output
/// channel (i·b + j)·C + c holds input pixel (y·b + i, x·b + j) of channel c.
/// </summary>
public sealed class SpaceToDepth : Operator
{
    public override string OpType => "SpaceToDepth";
    public override IReadOnlyCollection<string> Attributes => ["blocksize"];

    public override void InferTypes(InferenceContext ctx)
    {
        var type = ctx.InputElemType(0);
        var s = ctx.InputShape(0);
        long b = DepthToSpace.BlockSize(ctx);
        if (s is null) { ctx.SetOutput(0, type, ShapeHelpers.UnknownDims(4)); return; }
        if (s.Length != 4) throw ctx.Error(EdgeCodes.ShapeMismatch, $"SpaceToDepth needs a 4-D input, got rank {s.Length}.");
        for (int a = 2; a < 4; a++)
            if (s[a].IsKnown && s[a].Value % b != 0)
                throw ctx.Error(EdgeCodes.ShapeMismatch, $"Spatial dim {s[a].Value} is not divisible by blocksize {b}.");
        ctx.SetOutput(0, type, [s[0], ShapeHelpers.Mul(s[1], b * b), ShapeHelpers.Div(s[2], b), ShapeHelpers.Div(s[3], b)]);
    }

    public override void Execute(ExecutionContext ctx)
    {
        var x = ctx.RequireInput(0);
        int b = (int)DepthToSpace.BlockSize(ctx);
        if (x.Rank != 4) throw ctx.Error(EdgeCodes.ShapeMismatch, $"SpaceToDepth needs a 4-D input, got {Shapes.Format(x.Shape)}.");
        int n = x.Shape[0], c = x.Shape[1], h = x.Shape[2], w = x.Shape[3];
        if (h % b != 0 || w % b != 0)
            throw ctx.Error(EdgeCodes.ShapeMismatch, $"Spatial dims {h}x{w} are not divisible by blocksize {b}.");
        int[] shape = [n, c * b * b, h / b, w / b];
        var strides = Shapes.Strides(x.Shape);
        var idx = ShapeHelpers.IndexMap(shape, o =>
        {
            int block = o[1] / c, channel = o[1] % c;
            int i = block / b, j = block % b;
            return o[0] * strides[0] + channel * strides[1] + (o[2] * b + i) * strides[2] + (o[3] * b + j) * strides[3];
        });
        ctx.SetOutput(0, x.Take(shape, idx));
    }
}
