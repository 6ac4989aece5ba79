using EdgeCompile.Compiler.IR;
using static EdgeCompile.Compiler.Lowering.LoweringContext;

namespace EdgeCompile.Compiler.Lowering.Ops;

/// <summary>
/// MatMul → Gemm.MatMul (batched, with a broadcast weight matrix), or Gemm.Run when a following Add
/// with a constant bias along the last axis can be fused (MatMul + Add = Gemm, the transformer/Linear pattern).
/// </summary>
public sealed class MatMulLowering : IOpLowering
{
    public IEnumerable<string> OpTypes => ["MatMul"];

    public void Lower(LoweringContext ctx, Node n)
    {
        if (ctx.TypeOf(n.Inputs[0]) == DataType.Double) { MatMulGeneralLowering.Lower(ctx, n); return; }
        ctx.RequireFloat(n, n.Inputs[0], n.Inputs[1]);
        var a = ctx.Shape(n, n.Inputs[0]);
        var b = ctx.Shape(n, n.Inputs[1]);
        var y = ctx.Shape(n, n.Outputs[0]);
        if (a.Length < 2 || b.Length < 2) { MatMul1DLowering.Lower(ctx, n, a, b); return; }
        int m = a[^2], k = a[^1], nn = b[^1];
        int aBatch = (int)Shapes.Product(a.AsSpan(0, a.Length - 2));
        int bBatch = (int)Shapes.Product(b.AsSpan(0, b.Length - 2));
        int batch = (int)Shapes.Product(y.AsSpan(0, y.Length - 2));

        if (bBatch == 1)
        {
            // [..., M, K] x [K, N]: one big [batch*M, K] x [K, N] product; try to fuse a bias Add.
            string output = n.Outputs[0];
            string bias = "";
            var add = ctx.SoleConsumer(output);
            if (add is { OpType: "Add", Domain: "" } && add.Outputs.Count == 1)
            {
                string other = add.Inputs[0] == output ? add.Inputs[1] : add.Inputs[0];
                var c = ctx.Constant(other);
                if (c is { DataType: DataType.Float } && c.Shape.Where((d, i) => i < c.Rank - 1).All(d => d == 1) && c.Rank <= y.Length
                    && (c.Rank == 0 ? 1 : c.Shape[^1]) is var cn && (cn == nn || cn == 1) && add.Inputs[0] != add.Inputs[1])
                {
                    bias = other;
                    ctx.MarkFused(add);
                    output = add.Outputs[0];
                }
            }
            var (act, p0, p1, final) = bias.Length > 0 ? ctx.FuseActivation(output) : ("None", 0f, 0f, output);
            int biasCols = bias.Length == 0 ? 0 : (ctx.Constant(bias)!.Rank == 0 ? 1 : ctx.Constant(bias)!.Shape[^1]);
            ctx.Emit(n, "Gemm.Run", Read(n.Inputs[0]), Read(n.Inputs[1]), bias.Length > 0 ? Read(bias) : Empty(), Write(final),
                I(aBatch * m), I(k), I(nn), B(false), B(false), F(1f), F(1f), I(bias.Length > 0 ? 1 : 0), I(biasCols),
                E("Activation." + act), F(p0), F(p1));
            return;
        }
        if (aBatch != 1 && aBatch != batch || bBatch != batch || a.Length != b.Length && aBatch != 1)
        {
            MatMulGeneralLowering.Lower(ctx, n); // batch dims broadcasting against each other
            return;
        }
        ctx.Emit(n, "Gemm.MatMul", Read(n.Inputs[0]), Read(n.Inputs[1]), Write(n.Outputs[0]),
            I(batch), I(m), I(k), I(nn), I(aBatch == 1 ? 0 : m * k), I(k * nn));
    }
}
