using EdgeCompile.Compiler.IR;
using static EdgeCompile.Compiler.Lowering.LoweringContext;

namespace EdgeCompile.Compiler.Lowering.Ops;

/// <summary>
/// MatMul with a 1-D operand (numpy: a 1-D left operand is a row [1, K], a 1-D right operand a column [K, 1], and the
/// added dimension is dropped; the row-major data is the same) → Gemm.Run / Gemm.MatMul. Called from the MatMul lowering.
/// </summary>
public static class MatMul1DLowering
{
    public static void Lower(LoweringContext ctx, Node n, int[] a, int[] b)
    {
        if (a.Length == 0 || b.Length == 0) throw ctx.Unsupported(n, "with scalar operands");
        ctx.Shape(n, n.Outputs[0]);
        if (b.Length == 1)
        {
            // [..., M, K] (or [K]) x [K]: rows of a times one column.
            int k = b[0];
            if (a[^1] != k) throw ctx.Unsupported(n, "with mismatched inner dimensions");
            int rows = (int)Shapes.Product(a.AsSpan(0, a.Length - 1));
            ctx.Emit(n, "Gemm.Run", Read(n.Inputs[0]), Read(n.Inputs[1]), Empty(), Write(n.Outputs[0]),
                I(rows), I(k), I(1), B(false), B(false), F(1f), F(1f), I(0), I(0), E("Activation.None"), F(0f), F(0f));
            return;
        }
        // [K] x [..., K, N]: one row times every batch matrix of b.
        int kk = a[0], nn = b[^1];
        if (b[^2] != kk) throw ctx.Unsupported(n, "with mismatched inner dimensions");
        int batch = (int)Shapes.Product(b.AsSpan(0, b.Length - 2));
        ctx.Emit(n, "Gemm.MatMul", Read(n.Inputs[0]), Read(n.Inputs[1]), Write(n.Outputs[0]),
            I(batch), I(1), I(kk), I(nn), I(0), I(kk * nn));
    }
}
