using EdgeCompile.Compiler.IR;
using static EdgeCompile.Compiler.Lowering.LoweringContext;

namespace EdgeCompile.Compiler.Lowering.Ops;

/// <summary>
/// Reductions over one contiguous run of axes → Reduce.Run on the [outer, axis, inner] view; over axes in any other
/// arrangement → Reduce.Axes (a mask); with the axes input computed at run time → Reduce.RuntimeAxes (which checks
/// that the axes give the compiled output shape).
/// </summary>
public sealed class ReduceLowering : IOpLowering
{
    private static readonly Dictionary<string, string> s_ops = new(StringComparer.Ordinal)
    {
        ["ReduceSum"] = "Sum", ["ReduceMean"] = "Mean", ["ReduceMax"] = "Max", ["ReduceMin"] = "Min", ["ReduceProd"] = "Prod",
        ["ReduceSumSquare"] = "SumSquare", ["ReduceL1"] = "L1", ["ReduceL2"] = "L2", ["ReduceLogSumExp"] = "LogSumExp", ["ReduceLogSum"] = "LogSum",
    };

    public IEnumerable<string> OpTypes => s_ops.Keys;

    public void Lower(LoweringContext ctx, Node n)
    {
        if (ctx.TypeOf(n.Inputs[0]) == DataType.Double) { DoublePrecisionLowering.Reduce(ctx, n, s_ops[n.OpType]); return; }
        ctx.RequireFloat(n, n.Inputs[0]);
        var x = ctx.Shape(n, n.Inputs[0]);
        var nc = ctx.NodeContext(n);
        long[]? axes = nc.GetInts("axes");
        if (n.Inputs.Count > 1 && n.Inputs[1].Length > 0)
        {
            if (ctx.Constant(n.Inputs[1]) is not { } axesValue)
            {
                var y = ctx.Shape(n, n.Outputs[0]);
                if (x.Length == 0) throw ctx.Unsupported(n, "of a scalar with axes computed at run time");
                if (ctx.TypeOf(n.Inputs[1]) != DataType.Int64) throw ctx.Unsupported(n, "with non-int64 axes");
                ctx.Emit(n, "Reduce.RuntimeAxes", E("ReduceOp." + s_ops[n.OpType]), Read(n.Inputs[0]), Read(n.Inputs[1]), Write(n.Outputs[0]),
                    Ints(x), Ints(y), B(nc.GetInt("keepdims", 1) != 0), B(nc.GetInt("noop_with_empty_axes", 0) != 0));
                return;
            }
            axes = axesValue.ToInt64s();
        }
        if (axes is null || axes.Length == 0)
        {
            if (nc.GetInt("noop_with_empty_axes", 0) != 0) { ctx.Alias(n.Outputs[0], n.Inputs[0]); return; }
            axes = Enumerable.Range(0, x.Length).Select(i => (long)i).ToArray();
        }
        var norm = axes.Select(a => Shapes.Axis(a, x.Length)).Distinct().OrderBy(a => a).ToArray();
        if (x.Length > 0 && norm[^1] - norm[0] + 1 != norm.Length)
        {
            // Non-contiguous axes: skip reduced axes of size 1 (they do not change the data order).
            var effective = norm.Where(a => x[a] != 1).ToArray();
            if (effective.Length > 0 && effective[^1] - effective[0] + 1 != effective.Length && !Enumerable.Range(effective[0], effective[^1] - effective[0] + 1).All(a => effective.Contains(a) || x[a] == 1))
            {
                var mask = new int[x.Length];
                foreach (var a in norm) mask[a] = 1;
                ctx.Emit(n, "Reduce.Axes", E("ReduceOp." + s_ops[n.OpType]), Read(n.Inputs[0]), Write(n.Outputs[0]), Ints(x), Ints(mask));
                return;
            }
            norm = effective.Length == 0 ? [norm[0]] : Enumerable.Range(effective[0], effective[^1] - effective[0] + 1).ToArray();
        }
        int first = x.Length == 0 ? 0 : norm[0], lastAxis = x.Length == 0 ? -1 : norm[^1];
        int outer = (int)Shapes.Product(x.AsSpan(0, first));
        int len = x.Length == 0 ? 1 : (int)Shapes.Product(x.AsSpan(first, lastAxis - first + 1));
        int inner = x.Length == 0 ? 1 : (int)Shapes.Product(x.AsSpan(lastAxis + 1));
        ctx.Emit(n, "Reduce.Run", E("ReduceOp." + s_ops[n.OpType]), Read(n.Inputs[0]), Write(n.Outputs[0]), I(outer), I(len), I(inner));
    }
}
