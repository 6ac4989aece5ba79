using System.Runtime.CompilerServices;

namespace EdgeCompile.Kernels;

/// <summary>
/// The multi-threaded entries of <see cref="Gemm.Run"/> and <see cref="Gemm.MatMul"/> (model metadata <c>Threads</c>).
/// <see cref="RunParallel"/> splits the rows of A and Y (and of C when C has a row per output row) at multiples of
/// <see cref="RowUnit"/> rows, a short last block joining the last part: each part is the single-thread core on its rows,
/// with at least 16 rows when the whole has 32, so it takes the whole's GEMM path (the 8-row zmm and 4-row ymm tiles
/// align, the packed path's 16-row minimum holds) and each output is the same sum in the same order: bit-identical to
/// <see cref="Gemm.Run"/> for m of at least 2 (tested). <see cref="MatMulParallel"/> splits the batch (whole matrices).
/// A transposed A (its rows are columns) runs serially.
/// </summary>
public static unsafe partial class Gemm
{
    /// <summary>Rows per unit of a row split: the packed GEMM path's minimum, a multiple of every register tile's rows.</summary>
    internal const int RowUnit = PackMinRows;

    /// <summary><see cref="Run"/> split by rows over up to <paramref name="threads"/> threads; the same result, bit for bit.</summary>
    public static void RunParallel(ReadOnlySpan<float> a, ReadOnlySpan<float> b, ReadOnlySpan<float> c, Span<float> y,
        int m, int k, int n, bool transA, bool transB, float alpha, float beta, int cRows, int cCols,
        Activation act, float p0, float p1, int threads)
    {
        ValidateRun(a, b, c, y, m, k, n, cRows, cCols);
        int parts = transA || m < 2 ? 1 : WorkerPool.PartsFor(threads, m, RowUnit);
        RunParallelCore(a, b, c, y, m, k, n, transA, transB, alpha, beta, cRows, cCols, act, p0, p1, KernelPaths.BestGemm, parts);
    }

    /// <summary><see cref="MatMul"/> split by whole matrices of the batch over up to <paramref name="threads"/> threads; the same result.</summary>
    public static void MatMulParallel(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y,
        int batch, int m, int k, int n, int aBatchStride, int bBatchStride, int threads)
    {
        ValidateMatMul(a, b, y, batch, m, k, n, aBatchStride, bBatchStride);
        MatMulParallelCore(a, b, y, batch, m, k, n, aBatchStride, bBatchStride, KernelPaths.BestGemm, WorkerPool.PartsFor(threads, batch, 1));
    }

    private struct GemmParts
    {
        public float* A, B, C, Y;
        public int ALength, BLength, CLength, YLength;
        public int M, K, N, CRows, CCols, Batch, AStride, BStride;
        public bool TransB, MatMul;
        public float Alpha, Beta, P0, P1;
        public Activation Act;
        public Isa Isa;
    }

    /// <summary>Runs <paramref name="parts"/> row parts (one: <see cref="RunCore"/> itself); tests call it with any part count.</summary>
    internal static void RunParallelCore(ReadOnlySpan<float> a, ReadOnlySpan<float> b, ReadOnlySpan<float> c, Span<float> y,
        int m, int k, int n, bool transA, bool transB, float alpha, float beta, int cRows, int cCols,
        Activation act, float p0, float p1, Isa isa, int parts)
    {
        if (parts <= 1)
        {
            RunCore(a, b, c, y, m, k, n, transA, transB, alpha, beta, cRows, cCols, act, p0, p1, isa);
            return;
        }
        if (transA) throw new ArgumentException("Gemm.RunParallel: a transposed A is not split.", nameof(transA));
        fixed (float* pa = a, pb = b, pc = c, py = y)
        {
            var s = new GemmParts
            {
                A = pa, B = pb, C = pc, Y = py, ALength = a.Length, BLength = b.Length, CLength = c.Length, YLength = y.Length,
                M = m, K = k, N = n, CRows = cRows, CCols = cCols, TransB = transB, Alpha = alpha, Beta = beta, P0 = p0, P1 = p1, Act = act, Isa = isa,
            };
            WorkerPool.Run(&GemmPart, &s, parts);
        }
    }

    /// <summary>Runs <paramref name="parts"/> parts of whole matrices (one: <see cref="MatMulCore"/> itself).</summary>
    internal static void MatMulParallelCore(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y,
        int batch, int m, int k, int n, int aBatchStride, int bBatchStride, Isa isa, int parts)
    {
        if (parts <= 1)
        {
            MatMulCore(a, b, y, batch, m, k, n, aBatchStride, bBatchStride, isa);
            return;
        }
        fixed (float* pa = a, pb = b, py = y)
        {
            var s = new GemmParts
            {
                A = pa, B = pb, Y = py, ALength = a.Length, BLength = b.Length, YLength = y.Length,
                M = m, K = k, N = n, Batch = batch, AStride = aBatchStride, BStride = bBatchStride, MatMul = true, Isa = isa,
            };
            WorkerPool.Run(&GemmPart, &s, parts);
        }
    }

    private static void GemmPart(void* state, int part, int parts)
    {
        ref GemmParts s = ref Unsafe.AsRef<GemmParts>(state);
        var a = new ReadOnlySpan<float>(s.A, s.ALength);
        var b = new ReadOnlySpan<float>(s.B, s.BLength);
        var y = new Span<float>(s.Y, s.YLength);
        if (s.MatMul)
        {
            var (b0, b1) = WorkerPool.Range(s.Batch, 1, part, parts);
            if (b0 == b1) return;
            // The batches past b0: A and B from their strides (0 broadcasts one matrix), Y contiguous.
            MatMulCore(a.Slice(b0 * s.AStride), b.Slice(b0 * s.BStride), y.Slice(b0 * s.M * s.N, (b1 - b0) * s.M * s.N),
                b1 - b0, s.M, s.K, s.N, s.AStride, s.BStride, s.Isa);
            return;
        }
        var (i0, i1) = WorkerPool.Range(s.M, RowUnit, part, parts);
        if (i0 == i1) return;
        int rows = i1 - i0;
        var c = new ReadOnlySpan<float>(s.C, s.CLength);
        bool cPerRow = !c.IsEmpty && s.CRows == s.M && s.M != 1;
        RunCore(a.Slice(i0 * s.K, rows * s.K), b, cPerRow ? c.Slice(i0 * s.CCols, rows * s.CCols) : c, y.Slice(i0 * s.N, rows * s.N),
            rows, s.K, s.N, false, s.TransB, s.Alpha, s.Beta, cPerRow ? rows : s.CRows, s.CCols, s.Act, s.P0, s.P1, s.Isa);
    }
}
