using Check = EdgeCompile.Kernels.Tests.Support.Check;

namespace EdgeCompile.Kernels.Tests;

/// <summary>
/// The multi-threaded products (<see cref="Gemm.RunParallel"/>: rows at multiples of 16, a short block joining the last
/// part; <see cref="Gemm.MatMulParallel"/>: whole matrices of the batch): bit-identical to the serial core on every path
/// for 2 to 5 parts, with C per row, per column, scalar or absent, transB both ways, and odd row counts.
/// </summary>
[Collection(WorkerPoolCollection.Name)]
public class GemmParallelTests
{
    private static void Same(float[] expected, float[] actual, string what)
    {
        for (int i = 0; i < expected.Length; i++)
            if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i]))
                Assert.Fail($"{what}: y[{i}] = {actual[i]:R}, serial {expected[i]:R}");
    }

    /// <summary>The transformer encoder's products (128 rows: 256->256, 256->1024, 1024->256) and odd shapes.</summary>
    [Theory]
    [InlineData(128, 256, 256, true, 1, 256, Activation.None)]
    [InlineData(128, 256, 1024, false, 1, 1024, Activation.Relu)]
    [InlineData(128, 1024, 256, true, 128, 256, Activation.None)]
    [InlineData(37, 19, 50, false, 37, 1, Activation.Sigmoid)]
    [InlineData(33, 70, 17, true, 0, 0, Activation.Clip)]
    [InlineData(64, 5, 3, false, 1, 1, Activation.LeakyRelu)]
    [InlineData(2, 9, 40, true, 2, 40, Activation.None)]
    public void Row_parts_are_bit_identical(int m, int k, int n, bool transB, int cRows, int cCols, Activation act)
    {
        var r = new Random(m * 7 + k + n);
        var a = Check.Data(r, m * k);
        var b = Check.Data(r, k * n);
        var c = Check.Data(r, cRows * cCols);
        Check.ActivationParams(act, out float p0, out float p1);
        foreach (var isa in Check.GemmPaths().Prepend(Isa.Scalar))
        {
            var expected = new float[m * n];
            Gemm.RunCore(a, b, c, expected, m, k, n, false, transB, 0.75f, 1.25f, cRows, cCols, act, p0, p1, isa);
            foreach (int parts in new[] { 2, 3, 5 })
            {
                var y = new float[m * n];
                Array.Fill(y, float.NaN);
                Gemm.RunParallelCore(a, b, c, y, m, k, n, false, transB, 0.75f, 1.25f, cRows, cCols, act, p0, p1, isa, parts);
                Same(expected, y, $"{m}x{k}x{n} transB={transB} c=[{cRows},{cCols}] {act} {isa} parts={parts}");
            }
        }
    }

    [Theory]
    [InlineData(4, 128, 64, 128, true)]
    [InlineData(3, 17, 9, 33, false)]
    [InlineData(5, 8, 16, 8, true)]
    public void Batch_parts_are_bit_identical(int batch, int m, int k, int n, bool broadcastB)
    {
        var r = new Random(batch + m + k + n);
        var a = Check.Data(r, batch * m * k);
        var b = Check.Data(r, (broadcastB ? 1 : batch) * k * n);
        int bStride = broadcastB ? 0 : k * n;
        foreach (var isa in Check.GemmPaths().Prepend(Isa.Scalar))
        {
            var expected = new float[batch * m * n];
            Gemm.MatMulCore(a, b, expected, batch, m, k, n, m * k, bStride, isa);
            foreach (int parts in new[] { 2, 3, 5, 8 })
            {
                var y = new float[expected.Length];
                Array.Fill(y, float.NaN);
                Gemm.MatMulParallelCore(a, b, y, batch, m, k, n, m * k, bStride, isa, parts);
                Same(expected, y, $"batch={batch} {m}x{k}x{n} broadcastB={broadcastB} {isa} parts={parts}");
            }
        }
    }

    /// <summary>The public entries take the pool (one parallel call each on this thread), give the serial result, and a
    /// transposed A stays serial.</summary>
    [Fact]
    public void Public_entries_use_the_pool()
    {
        var r = new Random(3);
        int m = 64, k = 48, n = 40;
        var a = Check.Data(r, m * k);
        var b = Check.Data(r, k * n);
        var c = Check.Data(r, n);
        var expected = new float[m * n];
        var y = new float[m * n];
        int pooled = Environment.ProcessorCount > 1 ? 1 : 0;
        Gemm.Run(a, b, c, expected, m, k, n, false, false, 1, 1, 1, n, Activation.Relu, 0, 0);
        int before = WorkerPool.ParallelCallsOnThisThread;
        Gemm.RunParallel(a, b, c, y, m, k, n, false, false, 1, 1, 1, n, Activation.Relu, 0, 0, threads: 2);
        Assert.Equal(pooled, WorkerPool.ParallelCallsOnThisThread - before);
        Assert.Equal(expected, y);

        Gemm.Run(a, b, c, expected, m, k, n, true, false, 1, 1, 1, n, Activation.None, 0, 0);
        before = WorkerPool.ParallelCallsOnThisThread;
        Gemm.RunParallel(a, b, c, y, m, k, n, true, false, 1, 1, 1, n, Activation.None, 0, 0, threads: 2);
        Assert.Equal(0, WorkerPool.ParallelCallsOnThisThread - before);
        Assert.Equal(expected, y);

        var e2 = new float[2 * m * n];
        var y2 = new float[2 * m * n];
        var a2 = Check.Data(r, 2 * m * k);
        Gemm.MatMul(a2, b, e2, 2, m, k, n, m * k, 0);
        before = WorkerPool.ParallelCallsOnThisThread;
        Gemm.MatMulParallel(a2, b, y2, 2, m, k, n, m * k, 0, threads: 2);
        Assert.Equal(pooled, WorkerPool.ParallelCallsOnThisThread - before);
        Assert.Equal(e2, y2);
    }
}
