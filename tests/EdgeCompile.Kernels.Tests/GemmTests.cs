using EdgeCompile.Kernels.Tests.Support;

namespace EdgeCompile.Kernels.Tests;

public class GemmTests
{
    /// <summary>
    /// The blocked core across its block edges (k and n around <see cref="Gemm.KBlock"/>/<see cref="Gemm.NBlock"/>,
    /// column tails of 1..15, row tails, below and above the packing thresholds in m and k) with each prologue (zeros, accumulate into C, row bias) and a fused
    /// activation, against the same sum done in order in scalar code. Tolerance: the stated 1e-5 relative plus
    /// 1e-5 absolute per unit of sqrt(k) (FMA rounding over sums of up to 600 products of values in [-1, 1]).
    /// </summary>
    [Fact]
    public void BlockedMultiplyMatchesInOrderSums()
    {
        var r = new Random(77);
        int[] ks = [0, 1, 7, Gemm.KBlock - 1, Gemm.KBlock, Gemm.KBlock + 1, 600];
        int[] ns = [1, 3, 17, 49, Gemm.NBlock - 1, Gemm.NBlock + 5, 300];
        for (int t = 0; t < 98; t++)
        {
            // Half the cases with m >= PackMinRows (the packed-B path of Vector256), half below (unpacked kernels).
            int m = t % 2 == 0 ? r.Next(1, Gemm.PackMinRows) : r.Next(Gemm.PackMinRows, 3 * Gemm.PackMinRows), k = ks[t % ks.Length], n = ns[(t / ks.Length) % ns.Length];
            int mode = r.Next(3);   // 0: zeros, 1: accumulate, 2: row bias
            var act = Check.RandomActivation(r, out float p0, out float p1);
            int ldc = n + r.Next(0, 3), ldb = n + r.Next(0, 3);
            Check.MultiplyNNMatchesReference(r, m, k, n, mode, act, p0, p1, ldb, ldc);
        }
    }

    [Fact]
    public void RunMatchesScalarReference()
    {
        var r = new Random(42);
        for (int t = 0; t < 150; t++)
        {
            int m = r.Next(1, 40), k = r.Next(1, 70), n = r.Next(1, 40);
            bool ta = r.Next(2) == 0, tb = r.Next(2) == 0;
            float alpha = r.Next(2) == 0 ? 1f : 0.5f + (float)r.NextDouble(), beta = r.Next(2) == 0 ? 1f : (float)r.NextDouble();
            var a = Check.Data(r, m * k);
            var b = Check.Data(r, k * n);
            int cRows = 0, cCols = 0;
            float[] c = [];
            if (r.Next(4) != 0)
            {
                cRows = r.Next(2) == 0 ? 1 : m;
                cCols = r.Next(2) == 0 ? 1 : n;
                c = Check.Data(r, cRows * cCols);
            }
            var act = Check.RandomActivation(r, out float p0, out float p1);
            var expected = new float[m * n];
            Gemm.RunScalar(a, b, c, expected, m, k, n, ta, tb, alpha, beta, cRows, cCols, act, p0, p1);
            foreach (var isa in Check.GemmPaths())
            {
                var y = new float[m * n];
                Gemm.RunCore(a, b, c, y, m, k, n, ta, tb, alpha, beta, cRows, cCols, act, p0, p1, isa);
                Check.Close(expected, y, $"Gemm m={m} k={k} n={n} tA={ta} tB={tb} c=[{cRows},{cCols}] {act} {isa}");
            }
        }
    }

    [Fact]
    public void MatMulMatchesScalarReference()
    {
        var r = new Random(43);
        for (int t = 0; t < 80; t++)
        {
            int batch = r.Next(1, 4), m = r.Next(1, 30), k = r.Next(1, 50), n = r.Next(1, 45);
            int sa = r.Next(3) == 0 ? 0 : m * k, sb = r.Next(3) == 0 ? 0 : k * n;
            var a = Check.Data(r, sa == 0 ? m * k : batch * m * k);
            var b = Check.Data(r, sb == 0 ? k * n : batch * k * n);
            var expected = new float[batch * m * n];
            Gemm.MatMulScalar(a, b, expected, batch, m, k, n, sa, sb);
            foreach (var isa in Check.GemmPaths())
            {
                var y = new float[expected.Length];
                Gemm.MatMulCore(a, b, y, batch, m, k, n, sa, sb, isa);
                Check.Close(expected, y, $"MatMul b={batch} m={m} k={k} n={n} sa={sa} sb={sb} {isa}");
            }
        }
    }

    [Fact]
    public void HandComputedProducts()
    {
        // [[1, 2], [3, 4]] @ [[5, 6], [7, 8]] = [[19, 22], [43, 50]]
        float[] y = new float[4];
        Gemm.MatMul([1, 2, 3, 4], [5, 6, 7, 8], y, 1, 2, 2, 2, 0, 0);
        Assert.Equal(new float[] { 19, 22, 43, 50 }, y);
        // transB with b stored [n, k] = [[5, 7], [6, 8]]; alpha 2, c row [1, -100] with beta 1, Relu.
        Gemm.Run([1, 2, 3, 4], [5, 7, 6, 8], [1, -100], y, 2, 2, 2, false, true, 2f, 1f, 1, 2, Activation.Relu, 0, 0);
        Assert.Equal(new float[] { 39, 0, 87, 0 }, y);
        // transA with a stored [k, m] = [[1, 3], [2, 4]]; c a column [10, 20] with beta 0.5.
        Gemm.Run([1, 3, 2, 4], [5, 6, 7, 8], [10, 20], y, 2, 2, 2, true, false, 1f, 0.5f, 2, 1, Activation.None, 0, 0);
        Assert.Equal(new float[] { 24, 27, 53, 60 }, y);
    }

    [Fact]
    public void RejectsMismatchedLengths()
    {
        Assert.Equal("a", Assert.Throws<ArgumentException>(() => Gemm.Run(new float[3], new float[4], [], new float[4], 2, 2, 2, false, false, 1, 1, 0, 0, Activation.None, 0, 0)).ParamName);
        Assert.Equal("c", Assert.Throws<ArgumentException>(() => Gemm.Run(new float[4], new float[4], new float[3], new float[4], 2, 2, 2, false, false, 1, 1, 1, 2, Activation.None, 0, 0)).ParamName);
        Assert.Equal("b", Assert.Throws<ArgumentException>(() => Gemm.MatMul(new float[8], new float[4], new float[8], 2, 2, 2, 2, 4, 4)).ParamName);
    }
}
