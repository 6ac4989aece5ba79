using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.IR;
using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>Transpose: output axis i is input axis perm[i]; perm defaults to reversing the axes.</summary>
public sealed class Transpose : Operator
{
    public override string OpType => "Transpose";
    public override IReadOnlyCollection<string> Attributes => ["perm"];

    public override void InferTypes(InferenceContext ctx)
    {
        var type = ctx.InputElemType(0);
        var s = ctx.InputShape(0);
        if (s is null)
        {
            var p = ctx.GetInts("perm");
            ctx.SetOutput(0, type, p is null ? null : ShapeHelpers.UnknownDims(p.Length));
            return;
        }
        var perm = Perm(ctx, s.Length);
        ctx.SetOutput(0, type, perm.Select(a => s[a]).ToArray());
    }

    public override void Execute(ExecutionContext ctx)
    {
        var x = ctx.RequireInput(0);
        var perm = Perm(ctx, x.Rank);
        var shape = perm.Select(a => x.Shape[a]).ToArray();
        var inStrides = Shapes.Strides(x.Shape);
        var idx = ShapeHelpers.IndexMap(shape, c =>
        {
            int src = 0;
            for (int i = 0; i < c.Length; i++) src += c[i] * inStrides[perm[i]];
            return src;
        });
        ctx.SetOutput(0, x.Take(shape, idx));
    }

    private static int[] Perm(NodeContext ctx, int rank)
    {
        var p = ctx.GetInts("perm");
        if (p is null) return Enumerable.Range(0, rank).Reverse().ToArray();
        if (p.Length != rank)
            throw ctx.Error(EdgeCodes.InvalidAttribute, $"perm [{string.Join(",", p)}] has {p.Length} entries but the input has rank {rank}.");
        var r = ShapeHelpers.Axes(ctx, p, rank, "perm");
        return r;
    }
}
