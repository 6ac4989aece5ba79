using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>
/// Trilu (opset 14): keeps the upper (upper=1, default) or lower (upper=0) triangle of each matrix in the
/// last two dimensions and zeroes the rest. The optional scalar int64 input k shifts the diagonal:
/// upper keeps column - row >= k, lower keeps column - row &lt;= k. Any element type.
/// </summary>
public sealed class Trilu : Operator
{
    public override string OpType => "Trilu";
    public override IReadOnlyCollection<string> Attributes => ["upper"];
    public override int MinInputs => 1;
    public override int MaxInputs => 2;

    public override void InferTypes(InferenceContext ctx)
    {
        Upper(ctx);
        if (ctx.InputShape(0) is { } s && s.Length < 2)
            throw ctx.Error(EdgeCodes.ShapeMismatch, $"Trilu needs an input of rank 2 or more, got rank {s.Length}.");
        BinaryHelpers.CheckSameType(ctx, t => t == DataType.Int64, "int64 (k)", 1);
        ShapeRules.SameAsInput(ctx);
    }

    public override void Execute(ExecutionContext ctx)
    {
        var x = ctx.RequireInput(0);
        bool upper = Upper(ctx);
        if (x.Rank < 2) throw ctx.Error(EdgeCodes.ShapeMismatch, $"Trilu needs an input of rank 2 or more, got rank {x.Rank}.");
        long k = 0;
        if (ctx.Input(1) is { } kt)
        {
            BinaryHelpers.CheckSameType(ctx, t => t == DataType.Int64, "int64 (k)", 1);
            k = BinaryHelpers.ScalarInt(ctx, kt, "k");
        }
        int rows = x.Shape[^2], cols = x.Shape[^1];
        // Kept elements map to themselves; dropped ones to the zero appended after the data.
        var source = BinaryHelpers.WithTrailingZero(x);
        var idx = new int[x.Length];
        for (int e = 0; e < idx.Length; e++)
        {
            int j = e % cols, i = e / cols % rows;
            long diag = (long)j - i;
            bool keep = upper ? diag >= k : diag <= k;
            idx[e] = keep ? e : x.Length;
        }
        ctx.SetOutput(0, source.Take(x.Shape, idx));
    }

    private static bool Upper(NodeContext ctx)
    {
        long u = ctx.GetInt("upper", 1);
        if (u is not (0 or 1)) throw ctx.Error(EdgeCodes.InvalidAttribute, $"Trilu attribute upper must be 0 or 1, got {u}.");
        return u == 1;
    }
}
