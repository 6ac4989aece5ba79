using EdgeCompile.Kernels.Tests.Support;

namespace EdgeCompile.Kernels.Tests;

public class ReduceTests
{
    [Fact]
    public void FastPathsMatchScalarReference()
    {
        var r = new Random(31);
        foreach (ReduceOp op in Enum.GetValues<ReduceOp>())
            for (int t = 0; t < 30; t++)
            {
                int outer = r.Next(1, 4), axis = r.Next(1, 50), inner = r.Next(2) == 0 ? 1 : r.Next(1, 20);
                var x = op == ReduceOp.Prod ? Check.Data(r, outer * axis * inner, 0.8f, 1.25f) : Check.Data(r, outer * axis * inner);
                var expected = new float[outer * inner];
                Reduce.RunScalar(op, x, expected, outer, axis, inner);
                foreach (var isa in Check.FastPaths())
                {
                    var y = new float[expected.Length];
                    Reduce.RunCore(op, x, y, outer, axis, inner, isa);
                    string what = $"{op} outer={outer} axis={axis} inner={inner} {isa}";
                    // Across inner every lane follows the reference's order (exact); along a row lanes reorder the sum.
                    if (inner > 1 || op is ReduceOp.Max or ReduceOp.Min) Check.Exact(expected, y, what);
                    else Check.Close(expected, y, what);
                }
            }
    }

    [Fact]
    public void HandComputedValues()
    {
        float[] x = [1, -2, 3, 4, 5, -6];   // [outer 1, axis 2, inner 3]
        var y = new float[3];
        void Run(ReduceOp op) => Reduce.Run(op, x, y, 1, 2, 3);
        Run(ReduceOp.Sum); Assert.Equal(new float[] { 5, 3, -3 }, y);
        Run(ReduceOp.Mean); Assert.Equal(new float[] { 2.5f, 1.5f, -1.5f }, y);
        Run(ReduceOp.Max); Assert.Equal(new float[] { 4, 5, 3 }, y);
        Run(ReduceOp.Min); Assert.Equal(new float[] { 1, -2, -6 }, y);
        Run(ReduceOp.Prod); Assert.Equal(new float[] { 4, -10, -18 }, y);
        Run(ReduceOp.SumSquare); Assert.Equal(new float[] { 17, 29, 45 }, y);
        Run(ReduceOp.L1); Assert.Equal(new float[] { 5, 7, 9 }, y);
        Run(ReduceOp.L2); Check.Close([MathF.Sqrt(17), MathF.Sqrt(29), MathF.Sqrt(45)], y, "L2", 0f, 0f);
        Run(ReduceOp.LogSumExp);
        Check.Close([(float)Math.Log(Math.Exp(1) + Math.Exp(4)), (float)Math.Log(Math.Exp(-2) + Math.Exp(5)), (float)Math.Log(Math.Exp(3) + Math.Exp(-6))], y, "LogSumExp", 1e-6f, 0f);
        var big = new float[1];
        Reduce.Run(ReduceOp.LogSumExp, [1000, 1000], big, 1, 2, 1);
        Check.Close([1000 + MathF.Log(2)], big, "LogSumExp large", 1e-6f, 0f);
    }

    [Fact]
    public void RejectsMismatchedLengths() =>
        Assert.Equal("y", Assert.Throws<ArgumentException>(() => Reduce.Run(ReduceOp.Sum, new float[6], new float[2], 1, 2, 3)).ParamName);
}
