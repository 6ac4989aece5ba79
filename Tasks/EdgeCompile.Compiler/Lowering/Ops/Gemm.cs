using EdgeCompile.Compiler.IR;
using static EdgeCompile.Compiler.Lowering.LoweringContext;

namespace EdgeCompile.Compiler.Lowering.Ops;

/// <summary>Gemm → Gemm.Run (C broadcast by rows/columns, activation fused).</summary>
public sealed class GemmLowering : IOpLowering
{
    public IEnumerable<string> OpTypes => ["Gemm"];

    public void Lower(LoweringContext ctx, Node n)
    {
        ctx.RequireFloat(n, n.Inputs[0], n.Inputs[1]);
        var nc = ctx.NodeContext(n);
        var a = ctx.Shape(n, n.Inputs[0]);
        var b = ctx.Shape(n, n.Inputs[1]);
        bool ta = nc.GetInt("transA", 0) != 0, tb = nc.GetInt("transB", 0) != 0;
        int m = ta ? a[1] : a[0], k = ta ? a[0] : a[1], nn = tb ? b[0] : b[1];
        string c = n.Inputs.Count > 2 ? n.Inputs[2] : "";
        int cRows = 0, cCols = 0;
        if (c.Length > 0)
        {
            ctx.RequireFloat(n, c);
            var cs = ctx.Shape(n, c);
            (cRows, cCols) = cs.Length switch
            {
                0 => (1, 1),
                1 => (1, cs[0]),
                _ => (cs[^2], cs[^1]),
            };
            if (cRows is not 1 && cRows != m || cCols is not 1 && cCols != nn) throw ctx.Unsupported(n, "with C of a shape that is not row/column broadcastable");
        }
        var (act, p0, p1, output) = ctx.FuseActivation(n.Outputs[0]);
        ctx.Emit(n, "Gemm.Run", Read(n.Inputs[0]), Read(n.Inputs[1]), c.Length > 0 ? Read(c) : Empty(), Write(output),
            I(m), I(k), I(nn), B(ta), B(tb), F(nc.GetFloat("alpha", 1f)), F(nc.GetFloat("beta", 1f)), I(cRows), I(cCols),
            E("Activation." + act), F(p0), F(p1));
    }
}
