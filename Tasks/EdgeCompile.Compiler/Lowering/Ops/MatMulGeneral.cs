using EdgeCompile.Compiler.IR;
using static EdgeCompile.Compiler.Lowering.LoweringContext;

namespace EdgeCompile.Compiler.Lowering.Ops;

/// <summary>
/// MatMul outside Gemm's cases: float64 data, or batch dimensions that broadcast against each other (numpy
/// rules, e.g. [2, 1, M, K] x [3, K, N]) → Einsum.Run as the loop "batch..., m, n; sum over k" with stride 0 on
/// broadcast dims (products and sums in double, rounded once; a direct scalar loop). Called from the MatMul lowering.
/// </summary>
public static class MatMulGeneralLowering
{
    public static void Lower(LoweringContext ctx, Node n)
    {
        var t = ctx.TypeOf(n.Outputs[0]);
        if (t is not (DataType.Float or DataType.Double) || ctx.TypeOf(n.Inputs[0]) != t || ctx.TypeOf(n.Inputs[1]) != t)
            throw ctx.Unsupported(n, $"on {ctx.TypeOf(n.Inputs[0]).OnnxName()} data");
        var a = ctx.Shape(n, n.Inputs[0]);
        var b = ctx.Shape(n, n.Inputs[1]);
        var y = ctx.Shape(n, n.Outputs[0]);
        if (a.Length < 2 || b.Length < 2) throw ctx.Unsupported(n, $"on {t.OnnxName()} 1-D operands");
        int m = a[^2], k = a[^1], nn = b[^1];
        int batchRank = y.Length - 2;
        if (batchRank + 3 > 16) throw ctx.Unsupported(n, $"with {batchRank} batch dimensions");
        if (Shapes.Product(y) == 0) return;
        var aOwn = Shapes.Strides(a);
        var bOwn = Shapes.Strides(b);
        // Loop dims: y's batch dims, m, n (the output), then k (summed).
        var dims = new int[batchRank + 3];
        var sa = new int[dims.Length];
        var sb = new int[dims.Length];
        for (int d = 0; d < batchRank; d++)
        {
            dims[d] = y[d];
            int da = d - (batchRank - (a.Length - 2)), db = d - (batchRank - (b.Length - 2));
            sa[d] = da < 0 || a[da] == 1 ? 0 : aOwn[da];
            sb[d] = db < 0 || b[db] == 1 ? 0 : bOwn[db];
        }
        dims[batchRank] = m; sa[batchRank] = k; sb[batchRank] = 0;
        dims[batchRank + 1] = nn; sa[batchRank + 1] = 0; sb[batchRank + 1] = 1;
        dims[batchRank + 2] = k; sa[batchRank + 2] = 1; sb[batchRank + 2] = nn;
        ctx.Emit(n, "Einsum.Run", Read(n.Inputs[0]), Read(n.Inputs[1]), Write(n.Outputs[0]), Ints(dims), I(batchRank + 2), Ints(sa), Ints(sb));
    }
}
