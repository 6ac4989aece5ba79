using EdgeCompile.Compiler.IR;
using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>
/// Shape (opset 1+): the input's shape as a 1-D int64 tensor. From opset 15, 'start' and 'end' select
/// a range of axes; negative values count from the back and both are clamped to [0, rank] (spec), so an
/// empty range gives an empty tensor rather than an error.
/// </summary>
public sealed class Shape : Operator
{
    public override string OpType => "Shape";
    public override IReadOnlyCollection<string> Attributes => ["start", "end"];

    public override void InferTypes(InferenceContext ctx)
    {
        var s = ctx.InputShape(0);
        if (s is null) { ctx.SetOutput(0, DataType.Int64, (Dim[]?)null); return; }
        var (start, end) = Range(ctx, s.Length);
        ctx.SetOutput(0, DataType.Int64, [Dim.Known(end - start)]);
    }

    public override void Execute(ExecutionContext ctx)
    {
        var x = ctx.RequireInput(0);
        var (start, end) = Range(ctx, x.Rank);
        var dims = x.Shape[start..end].Select(d => (long)d).ToArray();
        ctx.SetOutput(0, Tensor.FromArray(dims, dims.Length));
    }

    private static (int Start, int End) Range(NodeContext ctx, int rank)
    {
        long start = ctx.GetInt("start", 0);
        long end = ctx.GetInt("end", rank);
        static int Clamp(long v, int rank) => (int)Math.Clamp(v < 0 ? v + rank : v, 0, rank);
        int s = Clamp(start, rank), e = Clamp(end, rank);
        return (s, Math.Max(s, e));
    }
}
