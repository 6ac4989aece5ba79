using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EdgeCompile.Kernels;

/// <summary>Matrix products: ONNX Gemm (with fused epilogue) and batched MatMul.</summary>
public static partial class Gemm
{
    /// <summary>
    /// y[m, n] = act(alpha * op(a) @ op(b) + beta * c). op(a) is [m, k] (a is stored [k, m] when
    /// <paramref name="transA"/>); op(b) is [k, n] (b is stored [n, k] when <paramref name="transB"/>).
    /// c is empty or broadcast from [cRows, cCols] with cRows in {1, m} and cCols in {1, n}.
    /// </summary>
    /// <exception cref="ArgumentException">A span length does not match its shape arguments.</exception>
    public static void Run(ReadOnlySpan<float> a, ReadOnlySpan<float> b, ReadOnlySpan<float> c, Span<float> y,
        int m, int k, int n, bool transA, bool transB, float alpha, float beta, int cRows, int cCols,
        Activation act, float p0, float p1)
    {
        ValidateRun(a, b, c, y, m, k, n, cRows, cCols);
        RunCore(a, b, c, y, m, k, n, transA, transB, alpha, beta, cRows, cCols, act, p0, p1, KernelPaths.BestGemm);
    }

    /// <summary>
    /// Batched y[batch, m, n] = a[batch, m, k] @ b[batch, k, n]. <paramref name="aBatchStride"/> and
    /// <paramref name="bBatchStride"/> are element strides between batches (0 broadcasts a single matrix).
    /// </summary>
    /// <exception cref="ArgumentException">A span is shorter than its shape and strides need, or y's length is not batch*m*n.</exception>
    public static void MatMul(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y,
        int batch, int m, int k, int n, int aBatchStride, int bBatchStride)
    {
        ValidateMatMul(a, b, y, batch, m, k, n, aBatchStride, bBatchStride);
        MatMulCore(a, b, y, batch, m, k, n, aBatchStride, bBatchStride, KernelPaths.BestGemm);
    }

    // ---------------------------------------------------------------- validation

    internal static void ValidateRun(ReadOnlySpan<float> a, ReadOnlySpan<float> b, ReadOnlySpan<float> c, Span<float> y,
        int m, int k, int n, int cRows, int cCols)
    {
        if (m < 0 || k < 0 || n < 0) throw new ArgumentException($"Gemm: negative dimension m={m}, k={k}, n={n}.", nameof(m));
        if (a.Length != (long)m * k) throw new ArgumentException($"Gemm: a has {a.Length} elements, expected m*k = {(long)m * k}.", nameof(a));
        if (b.Length != (long)k * n) throw new ArgumentException($"Gemm: b has {b.Length} elements, expected k*n = {(long)k * n}.", nameof(b));
        if (y.Length != (long)m * n) throw new ArgumentException($"Gemm: y has {y.Length} elements, expected m*n = {(long)m * n}.", nameof(y));
        if (!c.IsEmpty)
        {
            if ((cRows != 1 && cRows != m) || (cCols != 1 && cCols != n))
                throw new ArgumentException($"Gemm: c shape [{cRows}, {cCols}] does not broadcast to [{m}, {n}].", nameof(cRows));
            if (c.Length != (long)cRows * cCols)
                throw new ArgumentException($"Gemm: c has {c.Length} elements, expected cRows*cCols = {(long)cRows * cCols}.", nameof(c));
        }
    }

    internal static void ValidateMatMul(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y,
        int batch, int m, int k, int n, int aBatchStride, int bBatchStride)
    {
        if (batch < 0 || m < 0 || k < 0 || n < 0) throw new ArgumentException($"MatMul: negative dimension batch={batch}, m={m}, k={k}, n={n}.", nameof(batch));
        if (aBatchStride < 0) throw new ArgumentException("MatMul: negative batch stride.", nameof(aBatchStride));
        if (bBatchStride < 0) throw new ArgumentException("MatMul: negative batch stride.", nameof(bBatchStride));
        if (y.Length != (long)batch * m * n) throw new ArgumentException($"MatMul: y has {y.Length} elements, expected batch*m*n = {(long)batch * m * n}.", nameof(y));
        if (batch == 0) return;
        long needA = (long)(batch - 1) * aBatchStride + (long)m * k;
        long needB = (long)(batch - 1) * bBatchStride + (long)k * n;
        if (a.Length < needA) throw new ArgumentException($"MatMul: a has {a.Length} elements, needs at least {needA}.", nameof(a));
        if (b.Length < needB) throw new ArgumentException($"MatMul: b has {b.Length} elements, needs at least {needB}.", nameof(b));
    }

    // ---------------------------------------------------------------- scalar reference

    /// <summary>The specification of <see cref="Run"/>: each output sums over k in order, then the epilogue.</summary>
    internal static void RunScalar(ReadOnlySpan<float> a, ReadOnlySpan<float> b, ReadOnlySpan<float> c, Span<float> y,
        int m, int k, int n, bool transA, bool transB, float alpha, float beta, int cRows, int cCols,
        Activation act, float p0, float p1)
    {
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                float acc = 0f;
                for (int p = 0; p < k; p++)
                {
                    float av = transA ? a[p * m + i] : a[i * k + p];
                    float bv = transB ? b[j * k + p] : b[p * n + j];
                    acc += av * bv;
                }
                float v = alpha * acc;
                if (!c.IsEmpty) v += beta * c[(cRows == 1 ? 0 : i) * cCols + (cCols == 1 ? 0 : j)];
                y[i * n + j] = ActivationKernel.Apply(act, v, p0, p1);
            }
    }

    /// <summary>The specification of <see cref="MatMul"/>.</summary>
    internal static void MatMulScalar(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y,
        int batch, int m, int k, int n, int aBatchStride, int bBatchStride)
    {
        for (int bi = 0; bi < batch; bi++)
        {
            int ao = bi * aBatchStride, bo = bi * bBatchStride, yo = bi * m * n;
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                {
                    float acc = 0f;
                    for (int p = 0; p < k; p++) acc += a[ao + i * k + p] * b[bo + p * n + j];
                    y[yo + i * n + j] = acc;
                }
        }
    }

    // ---------------------------------------------------------------- dispatch

    internal static void RunCore(ReadOnlySpan<float> a, ReadOnlySpan<float> b, ReadOnlySpan<float> c, Span<float> y,
        int m, int k, int n, bool transA, bool transB, float alpha, float beta, int cRows, int cCols,
        Activation act, float p0, float p1, Isa isa)
    {
        if (isa == Isa.Scalar || (transA && transB))
        {
            RunScalar(a, b, c, y, m, k, n, transA, transB, alpha, beta, cRows, cCols, act, p0, p1);
            return;
        }
        if (!transB)
            MultiplyNN(a, transA ? 1 : k, transA ? m : 1, b, n, y, n, m, k, n, accumulate: false, isa);
        else
            MultiplyNT(a, k, b, k, y, n, m, k, n, isa.General());

        isa = isa.General();
        // Epilogue, row by row: alpha * acc (+ beta * c), then the activation, as in RunScalar.
        for (int i = 0; i < m; i++)
        {
            Span<float> row = y.Slice(i * n, n);
            if (c.IsEmpty) { if (alpha != 1f) Rows.Scale(row, alpha, isa); }   // 1 * v is v: skip the pass
            else if (cCols == 1) Rows.ScaleAddScalar(row, alpha, beta * c[cRows == 1 ? 0 : i], isa);
            else Rows.ScaleAddScaled(row, alpha, c.Slice(cRows == 1 ? 0 : i * n, n), beta, isa);
            ActivationKernel.ApplyInPlace(act, row, p0, p1, isa);
        }
    }

    internal static void MatMulCore(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y,
        int batch, int m, int k, int n, int aBatchStride, int bBatchStride, Isa isa)
    {
        if (isa == Isa.Scalar)
        {
            MatMulScalar(a, b, y, batch, m, k, n, aBatchStride, bBatchStride);
            return;
        }
        for (int bi = 0; bi < batch; bi++)
            MultiplyNN(a.Slice(bi * aBatchStride), k, 1, b.Slice(bi * bBatchStride), n, y.Slice(bi * m * n, m * n), n, m, k, n, false, isa);
    }

    // ---------------------------------------------------------------- GEMM cores

    /// <summary>Depth of a k block: a 4-row strip of A (4 x 256 floats) stays in L1 across the block's columns.</summary>
    internal const int KBlock = 256;

    /// <summary>Width of an n block: a KBlock x 256 panel of B (256 KiB) stays in L2 across the strips of A.</summary>
    internal const int NBlock = 256;

    // How a micro-kernel starts its accumulators: zeros, the current C, or the row's bias (rowBias[i]).
    private const int InitZero = 0, InitLoad = 1, InitBias = 2;

    /// <summary>
    /// C[m, n] (row stride ldc) = (accumulate ? C : 0) + A @ B, where A[i, p] = a[i*rsA + p*csA] and B is
    /// row-major [k, n] with row stride ldb. Each C element is summed over p in order (the same order as the
    /// scalar references), so only FMA rounding separates the paths. Callers have validated the extents.
    /// </summary>
    internal static void MultiplyNN(ReadOnlySpan<float> a, int rsA, int csA, ReadOnlySpan<float> b, int ldb,
        Span<float> c, int ldc, int m, int k, int n, bool accumulate, Isa isa)
        => MultiplyNN(a, rsA, csA, b, ldb, c, ldc, m, k, n, accumulate, ReadOnlySpan<float>.Empty, Activation.None, 0f, 0f, isa);

    /// <summary>
    /// <see cref="MultiplyNN(ReadOnlySpan{float}, int, int, ReadOnlySpan{float}, int, Span{float}, int, int, int, int, bool, Isa)"/>
    /// with a fused prologue and epilogue: when <paramref name="rowBias"/> is not empty (length at least m), row i of C
    /// starts at rowBias[i] instead of 0 or C (the order of a convolution: bias, then the products in order), and
    /// <paramref name="act"/> is applied to each finished tile while it is still in cache (instead of a pass over C).
    /// Blocked over k (<see cref="KBlock"/>) and n (<see cref="NBlock"/>); the k blocks of one C element run in
    /// order and the partial sums stay float32, so blocking changes no result. Register blocking: 4 rows of C x 16
    /// columns (two 256-bit vectors), broadcasting A along k; column tails take 8-, 4-wide and scalar kernels that
    /// still run 4 rows at once (4 independent sums, not one latency-bound chain).
    /// </summary>
    internal static void MultiplyNN(ReadOnlySpan<float> a, int rsA, int csA, ReadOnlySpan<float> b, int ldb,
        Span<float> c, int ldc, int m, int k, int n, bool accumulate, ReadOnlySpan<float> rowBias,
        Activation act, float p0, float p1, Isa isa)
    {
        if (m == 0 || n == 0) return;
        if (isa == Isa.Vector512)
        {
            if (m >= 8 && n >= 16)
            {
                Multiply512(a, rsA, csA, b, ldb, c, ldc, m, k, n, accumulate, rowBias, act, p0, p1);
                return;
            }
            isa = Isa.Vector256;
        }
        ref float ra = ref MemoryMarshal.GetReference(a);
        ref float rb = ref MemoryMarshal.GetReference(b);
        ref float rc = ref MemoryMarshal.GetReference(c);
        ref float rbias = ref MemoryMarshal.GetReference(rowBias);
        int firstInit = !rowBias.IsEmpty ? InitBias : accumulate ? InitLoad : InitZero;
        if (isa == Isa.Vector256 && m >= PackMinRows && k >= PackMinDepth && n >= 16)
        {
            int n16 = n & ~15;
            MultiplyPacked(ref ra, rsA, csA, ref rb, ldb, c, ldc, m, k, n16, firstInit, ref rbias, act, p0, p1, isa);
            if (n16 < n)   // the last n mod 16 columns: the unpacked kernels (this call does not pack again: n < 16)
                MultiplyNN(a, rsA, csA, k == 0 ? b : b.Slice(n16), ldb, c.Slice(n16), ldc, m, k, n - n16, accumulate, rowBias, act, p0, p1, isa);
            return;
        }
        int pc = 0;
        do
        {
            int kc = Math.Min(KBlock, k - pc);
            int init = pc == 0 ? firstInit : InitLoad;
            bool last = pc + kc >= k;
            ref float ak = ref Unsafe.Add(ref ra, pc * csA);
            ref float bk = ref Unsafe.Add(ref rb, pc * ldb);
            for (int jc = 0; jc < n; jc += NBlock)
            {
                int jEnd = Math.Min(n, jc + NBlock);
                int i = 0;
                for (; i <= m - 4; i += 4)
                {
                    int j = jc;
                    if (isa == Isa.Vector256)
                    {
                        for (; j <= jEnd - 16; j += 16) Kernel4x16(ref ak, rsA, csA, ref Unsafe.Add(ref bk, j), ldb, ref rc, ldc, i, j, kc, init, ref rbias);
                        for (; j <= jEnd - 8; j += 8) Kernel4x8(ref ak, rsA, csA, ref bk, ldb, ref rc, ldc, i, j, kc, init, ref rbias);
                    }
                    for (; j <= jEnd - 4; j += 4) Kernel4x4(ref ak, rsA, csA, ref bk, ldb, ref rc, ldc, i, j, kc, init, ref rbias);
                    for (; j < jEnd; j++) Kernel4x1(ref ak, rsA, csA, ref bk, ldb, ref rc, ldc, i, j, kc, init, ref rbias);
                    if (last && act != Activation.None)
                        for (int r = 0; r < 4; r++) ActivationKernel.ApplyInPlace(act, c.Slice((i + r) * ldc + jc, jEnd - jc), p0, p1, isa);
                }
                for (; i < m; i++)
                {
                    int j = jc;
                    if (isa == Isa.Vector256)
                        for (; j <= jEnd - 8; j += 8) Kernel1x8(ref ak, rsA, csA, ref bk, ldb, ref rc, ldc, i, j, kc, init, ref rbias);
                    for (; j <= jEnd - 4; j += 4) Kernel1x4(ref ak, rsA, csA, ref bk, ldb, ref rc, ldc, i, j, kc, init, ref rbias);
                    for (; j < jEnd; j++) ScalarDot(ref ak, rsA, csA, ref bk, ldb, ref rc, ldc, i, j, kc, init, ref rbias);
                    if (last && act != Activation.None)
                        ActivationKernel.ApplyInPlace(act, c.Slice(i * ldc + jc, jEnd - jc), p0, p1, isa);
                }
            }
            pc += kc;
        }
        while (pc < k);
    }

    /// <summary>Rows of C from which <see cref="MultiplyPacked"/> pays for copying B (each copy serves m/4 tiles).</summary>
    internal const int PackMinRows = 16;

    /// <summary>
    /// Depth from which <see cref="MultiplyPacked"/> is taken: below it a k x 16 strip of B is at most a few KiB and
    /// stays in L1 unpacked, and the unpacked loop writes C row by row (the packed one walks down the columns of C,
    /// which for a wide C such as a 1x1 convolution over 112x112 pixels touches one line per row of C per tile).
    /// </summary>
    internal const int PackMinDepth = 64;

    /// <summary>
    /// The Vector256 path for m &gt;= <see cref="PackMinRows"/>: per k block, each 16-column strip of B is copied into a
    /// contiguous stack panel (k block x 16, 16 KiB) and every 4-row strip of A is multiplied with it, so B is read from
    /// L1 in order instead of with the row stride of B (a 4 KiB stride, as in a 1024-wide B, maps every row to the
    /// same L1 set). n is a multiple of 16 here (the caller runs the column tail); row tails take the unpacked kernel.
    /// Same order of sums per element.
    /// </summary>
    [SkipLocalsInit]
    private static void MultiplyPacked(ref float ra, int rsA, int csA, ref float rb, int ldb, Span<float> c, int ldc,
        int m, int k, int n, int firstInit, ref float rbias, Activation act, float p0, float p1, Isa isa)
    {
        Span<float> panel = stackalloc float[KBlock * 16];
        ref float rp = ref MemoryMarshal.GetReference(panel);
        ref float rc = ref MemoryMarshal.GetReference(c);
        int n16 = n;   // a multiple of 16 (the caller handles the rest)
        bool prefetchA = csA == 1 && Sse.IsSupported;
        int pc = 0;
        do
        {
            int kc = Math.Min(KBlock, k - pc);
            int init = pc == 0 ? firstInit : InitLoad;
            bool last = pc + kc >= k;
            ref float ak = ref Unsafe.Add(ref ra, pc * csA);
            ref float bk = ref Unsafe.Add(ref rb, pc * ldb);
            // The last k block applies a piecewise-linear activation in registers; the others are applied per tile.
            Activation inRegisters = last && IsVectorActivation(act) ? act : Activation.None;
            for (int j = 0; j < n16; j += 16)
            {
                ref float src = ref Unsafe.Add(ref bk, j);
                for (int p = 0; p < kc; p++)
                {
                    Vector256.LoadUnsafe(ref src).StoreUnsafe(ref rp, (nuint)(p * 16));
                    Vector256.LoadUnsafe(ref src, 8).StoreUnsafe(ref rp, (nuint)(p * 16 + 8));
                    src = ref Unsafe.Add(ref src, ldb);
                }
                int i = 0;
                for (; i <= m - 4; i += 4)
                {
                    // The first strip reads each 4-row block of A (the weights, cold) first: fetch the next one meanwhile.
                    if (prefetchA && j == 0 && i + 8 <= m) PrefetchRows(ref Unsafe.Add(ref ak, (i + 4) * rsA), rsA, 4, kc);
                    Kernel4x16(ref ak, rsA, csA, ref rp, 16, ref rc, ldc, i, j, kc, init, ref rbias, inRegisters, p0, p1);
                    if (last && act != Activation.None && inRegisters == Activation.None)
                        for (int r = 0; r < 4; r++) ActivationKernel.ApplyInPlace(act, c.Slice((i + r) * ldc + j, 16), p0, p1, isa);
                }
                for (; i < m; i++)
                {
                    Kernel1x16Packed(ref ak, rsA, csA, ref rp, ref rc, ldc, i, j, kc, init, ref rbias);
                    if (last && act != Activation.None) ActivationKernel.ApplyInPlace(act, c.Slice(i * ldc + j, 16), p0, p1, isa);
                }
            }
            pc += kc;
        }
        while (pc < k);
    }

    /// <summary>The activations with a vector form (<see cref="ActivationKernel.Apply256"/>), same results as the scalar one.</summary>
    internal static bool IsVectorActivation(Activation act)
        => act is Activation.Relu or Activation.Clip or Activation.LeakyRelu or Activation.HardSigmoid or Activation.HardSwish;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float InitScalar(int init, ref float cij, ref float rbias, int i)
        => init == InitLoad ? cij : init == InitBias ? Unsafe.Add(ref rbias, i) : 0f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Init256(int init, ref float cij, ref float rbias, int i)
        => init == InitLoad ? Vector256.LoadUnsafe(ref cij) : init == InitBias ? Vector256.Create(Unsafe.Add(ref rbias, i)) : Vector256<float>.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Init128(int init, ref float cij, ref float rbias, int i)
        => init == InitLoad ? Vector128.LoadUnsafe(ref cij) : init == InitBias ? Vector128.Create(Unsafe.Add(ref rbias, i)) : Vector128<float>.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ScalarDot(ref float ra, int rsA, int csA, ref float rb, int ldb, ref float rc, int ldc, int i, int j, int k, int init, ref float rbias)
    {
        ref float cij = ref Unsafe.Add(ref rc, i * ldc + j);
        float s = InitScalar(init, ref cij, ref rbias, i);
        for (int p = 0; p < k; p++) s += Unsafe.Add(ref ra, i * rsA + p * csA) * Unsafe.Add(ref rb, p * ldb + j);
        cij = s;
    }

    /// <summary>One column of 4 rows: four independent sums, so the adds overlap instead of waiting on each other.</summary>
    private static void Kernel4x1(ref float ra, int rsA, int csA, ref float rb, int ldb, ref float rc, int ldc, int i, int j, int k, int init, ref float rbias)
    {
        ref float c0 = ref Unsafe.Add(ref rc, i * ldc + j);
        ref float c1 = ref Unsafe.Add(ref c0, ldc);
        ref float c2 = ref Unsafe.Add(ref c1, ldc);
        ref float c3 = ref Unsafe.Add(ref c2, ldc);
        float s0 = InitScalar(init, ref c0, ref rbias, i), s1 = InitScalar(init, ref c1, ref rbias, i + 1);
        float s2 = InitScalar(init, ref c2, ref rbias, i + 2), s3 = InitScalar(init, ref c3, ref rbias, i + 3);
        ref float a0 = ref Unsafe.Add(ref ra, i * rsA);
        ref float bp = ref Unsafe.Add(ref rb, j);
        for (int p = 0; p < k; p++)
        {
            float bv = bp;
            ref float ap = ref Unsafe.Add(ref a0, p * csA);
            s0 += ap * bv;
            s1 += Unsafe.Add(ref ap, rsA) * bv;
            s2 += Unsafe.Add(ref ap, 2 * rsA) * bv;
            s3 += Unsafe.Add(ref ap, 3 * rsA) * bv;
            bp = ref Unsafe.Add(ref bp, ldb);
        }
        c0 = s0; c1 = s1; c2 = s2; c3 = s3;
    }

    /// <summary>One row of 16 columns of C at (i, j) from a packed B strip (row stride 16): the row tail of the packed path.</summary>
    private static void Kernel1x16Packed(ref float ra, int rsA, int csA, ref float bp, ref float rc, int ldc, int i, int j, int k, int init, ref float rbias)
    {
        ref float c0 = ref Unsafe.Add(ref rc, i * ldc + j);
        Vector256<float> v0 = Init256(init, ref c0, ref rbias, i), v1 = Init256(init, ref Unsafe.Add(ref c0, 8), ref rbias, i);
        ref float a0 = ref Unsafe.Add(ref ra, i * rsA);
        for (int p = 0; p < k; p++)
        {
            var av = Vector256.Create(Unsafe.Add(ref a0, p * csA));
            v0 = Simd.MulAdd(av, Vector256.LoadUnsafe(ref bp), v0);
            v1 = Simd.MulAdd(av, Vector256.LoadUnsafe(ref bp, 8), v1);
            bp = ref Unsafe.Add(ref bp, 16);
        }
        v0.StoreUnsafe(ref c0); v1.StoreUnsafe(ref c0, 8);
    }

    /// <summary>A 4x16 tile of C at (i, j); <paramref name="bCol"/> is B at row 0, column j (row stride ldb).</summary>
    private static void Kernel4x16(ref float ra, int rsA, int csA, ref float bCol, int ldb, ref float rc, int ldc, int i, int j, int k, int init, ref float rbias)
        => Kernel4x16(ref ra, rsA, csA, ref bCol, ldb, ref rc, ldc, i, j, k, init, ref rbias, Activation.None, 0f, 0f);

    /// <summary>
    /// As above, applying <paramref name="act"/> (a piecewise-linear one, <see cref="IsVectorActivation"/>, or None) to
    /// the registers before they are stored: no second pass and no call per tile.
    /// </summary>
    private static void Kernel4x16(ref float ra, int rsA, int csA, ref float bCol, int ldb, ref float rc, int ldc, int i, int j, int k, int init, ref float rbias,
        Activation act, float p0, float p1)
    {
        ref float c0 = ref Unsafe.Add(ref rc, i * ldc + j);
        ref float c1 = ref Unsafe.Add(ref c0, ldc);
        ref float c2 = ref Unsafe.Add(ref c1, ldc);
        ref float c3 = ref Unsafe.Add(ref c2, ldc);
        Vector256<float> c00 = Init256(init, ref c0, ref rbias, i), c01 = Init256(init, ref Unsafe.Add(ref c0, 8), ref rbias, i);
        Vector256<float> c10 = Init256(init, ref c1, ref rbias, i + 1), c11 = Init256(init, ref Unsafe.Add(ref c1, 8), ref rbias, i + 1);
        Vector256<float> c20 = Init256(init, ref c2, ref rbias, i + 2), c21 = Init256(init, ref Unsafe.Add(ref c2, 8), ref rbias, i + 2);
        Vector256<float> c30 = Init256(init, ref c3, ref rbias, i + 3), c31 = Init256(init, ref Unsafe.Add(ref c3, 8), ref rbias, i + 3);
        ref float a0 = ref Unsafe.Add(ref ra, i * rsA);
        ref float a1 = ref Unsafe.Add(ref a0, rsA);
        ref float a2 = ref Unsafe.Add(ref a1, rsA);
        ref float a3 = ref Unsafe.Add(ref a2, rsA);
        ref float bp = ref bCol;
        for (int p = 0; p < k; p++)
        {
            var b0 = Vector256.LoadUnsafe(ref bp);
            var b1 = Vector256.LoadUnsafe(ref bp, 8);
            int ap = p * csA;
            var av = Vector256.Create(Unsafe.Add(ref a0, ap));
            c00 = Simd.MulAdd(av, b0, c00); c01 = Simd.MulAdd(av, b1, c01);
            av = Vector256.Create(Unsafe.Add(ref a1, ap));
            c10 = Simd.MulAdd(av, b0, c10); c11 = Simd.MulAdd(av, b1, c11);
            av = Vector256.Create(Unsafe.Add(ref a2, ap));
            c20 = Simd.MulAdd(av, b0, c20); c21 = Simd.MulAdd(av, b1, c21);
            av = Vector256.Create(Unsafe.Add(ref a3, ap));
            c30 = Simd.MulAdd(av, b0, c30); c31 = Simd.MulAdd(av, b1, c31);
            bp = ref Unsafe.Add(ref bp, ldb);
        }
        if (act != Activation.None)
        {
            var v0 = Vector256.Create(p0); var v1 = Vector256.Create(p1);
            c00 = ActivationKernel.Apply256(act, c00, v0, v1); c01 = ActivationKernel.Apply256(act, c01, v0, v1);
            c10 = ActivationKernel.Apply256(act, c10, v0, v1); c11 = ActivationKernel.Apply256(act, c11, v0, v1);
            c20 = ActivationKernel.Apply256(act, c20, v0, v1); c21 = ActivationKernel.Apply256(act, c21, v0, v1);
            c30 = ActivationKernel.Apply256(act, c30, v0, v1); c31 = ActivationKernel.Apply256(act, c31, v0, v1);
        }
        c00.StoreUnsafe(ref c0); c01.StoreUnsafe(ref c0, 8);
        c10.StoreUnsafe(ref c1); c11.StoreUnsafe(ref c1, 8);
        c20.StoreUnsafe(ref c2); c21.StoreUnsafe(ref c2, 8);
        c30.StoreUnsafe(ref c3); c31.StoreUnsafe(ref c3, 8);
    }

    private static void Kernel4x8(ref float ra, int rsA, int csA, ref float rb, int ldb, ref float rc, int ldc, int i, int j, int k, int init, ref float rbias)
    {
        ref float c0 = ref Unsafe.Add(ref rc, i * ldc + j);
        ref float c1 = ref Unsafe.Add(ref c0, ldc);
        ref float c2 = ref Unsafe.Add(ref c1, ldc);
        ref float c3 = ref Unsafe.Add(ref c2, ldc);
        Vector256<float> v0 = Init256(init, ref c0, ref rbias, i), v1 = Init256(init, ref c1, ref rbias, i + 1);
        Vector256<float> v2 = Init256(init, ref c2, ref rbias, i + 2), v3 = Init256(init, ref c3, ref rbias, i + 3);
        ref float a0 = ref Unsafe.Add(ref ra, i * rsA);
        ref float bp = ref Unsafe.Add(ref rb, j);
        for (int p = 0; p < k; p++)
        {
            var bv = Vector256.LoadUnsafe(ref bp);
            ref float ap = ref Unsafe.Add(ref a0, p * csA);
            v0 = Simd.MulAdd(Vector256.Create(ap), bv, v0);
            v1 = Simd.MulAdd(Vector256.Create(Unsafe.Add(ref ap, rsA)), bv, v1);
            v2 = Simd.MulAdd(Vector256.Create(Unsafe.Add(ref ap, 2 * rsA)), bv, v2);
            v3 = Simd.MulAdd(Vector256.Create(Unsafe.Add(ref ap, 3 * rsA)), bv, v3);
            bp = ref Unsafe.Add(ref bp, ldb);
        }
        v0.StoreUnsafe(ref c0); v1.StoreUnsafe(ref c1); v2.StoreUnsafe(ref c2); v3.StoreUnsafe(ref c3);
    }

    private static void Kernel4x4(ref float ra, int rsA, int csA, ref float rb, int ldb, ref float rc, int ldc, int i, int j, int k, int init, ref float rbias)
    {
        ref float c0 = ref Unsafe.Add(ref rc, i * ldc + j);
        ref float c1 = ref Unsafe.Add(ref c0, ldc);
        ref float c2 = ref Unsafe.Add(ref c1, ldc);
        ref float c3 = ref Unsafe.Add(ref c2, ldc);
        Vector128<float> v0 = Init128(init, ref c0, ref rbias, i), v1 = Init128(init, ref c1, ref rbias, i + 1);
        Vector128<float> v2 = Init128(init, ref c2, ref rbias, i + 2), v3 = Init128(init, ref c3, ref rbias, i + 3);
        ref float a0 = ref Unsafe.Add(ref ra, i * rsA);
        ref float bp = ref Unsafe.Add(ref rb, j);
        for (int p = 0; p < k; p++)
        {
            var bv = Vector128.LoadUnsafe(ref bp);
            ref float ap = ref Unsafe.Add(ref a0, p * csA);
            v0 = Simd.MulAdd(Vector128.Create(ap), bv, v0);
            v1 = Simd.MulAdd(Vector128.Create(Unsafe.Add(ref ap, rsA)), bv, v1);
            v2 = Simd.MulAdd(Vector128.Create(Unsafe.Add(ref ap, 2 * rsA)), bv, v2);
            v3 = Simd.MulAdd(Vector128.Create(Unsafe.Add(ref ap, 3 * rsA)), bv, v3);
            bp = ref Unsafe.Add(ref bp, ldb);
        }
        v0.StoreUnsafe(ref c0); v1.StoreUnsafe(ref c1); v2.StoreUnsafe(ref c2); v3.StoreUnsafe(ref c3);
    }

    private static void Kernel1x8(ref float ra, int rsA, int csA, ref float rb, int ldb, ref float rc, int ldc, int i, int j, int k, int init, ref float rbias)
    {
        ref float c0 = ref Unsafe.Add(ref rc, i * ldc + j);
        var v = Init256(init, ref c0, ref rbias, i);
        ref float a0 = ref Unsafe.Add(ref ra, i * rsA);
        ref float bp = ref Unsafe.Add(ref rb, j);
        for (int p = 0; p < k; p++)
        {
            v = Simd.MulAdd(Vector256.Create(Unsafe.Add(ref a0, p * csA)), Vector256.LoadUnsafe(ref bp), v);
            bp = ref Unsafe.Add(ref bp, ldb);
        }
        v.StoreUnsafe(ref c0);
    }

    private static void Kernel1x4(ref float ra, int rsA, int csA, ref float rb, int ldb, ref float rc, int ldc, int i, int j, int k, int init, ref float rbias)
    {
        ref float c0 = ref Unsafe.Add(ref rc, i * ldc + j);
        var v = Init128(init, ref c0, ref rbias, i);
        ref float a0 = ref Unsafe.Add(ref ra, i * rsA);
        ref float bp = ref Unsafe.Add(ref rb, j);
        for (int p = 0; p < k; p++)
        {
            v = Simd.MulAdd(Vector128.Create(Unsafe.Add(ref a0, p * csA)), Vector128.LoadUnsafe(ref bp), v);
            bp = ref Unsafe.Add(ref bp, ldb);
        }
        v.StoreUnsafe(ref c0);
    }

    // ---------------------------------------------------------------- 512-bit tiles (Isa.Vector512)

    /// <summary>
    /// <see cref="MultiplyNN(ReadOnlySpan{float}, int, int, ReadOnlySpan{float}, int, Span{float}, int, int, int, int, bool, ReadOnlySpan{float}, Activation, float, float, Isa)"/>
    /// on 8x16 tiles of zmm accumulators (8 rows of C x one 16-float vector: 8 independent FMA chains, one B load and
    /// eight broadcasts per k). m &gt;= 8 and n &gt;= 16. Rows past the last multiple of 8 take the Vector256 path. With
    /// k &gt;= <see cref="PackMinDepth"/> B is packed per k block into 16-column strips; a last strip of fewer than
    /// <see cref="DotTailMaxWidth"/> columns (a 7x7 plane is 49 = 3 x 16 + 1 columns) is computed as dot products along k
    /// when A's rows are contiguous (<see cref="DotTile8x1"/>, a reordered sum), else zero-padded to 16 and computed into a
    /// stack tile. Below that depth the tiles read B in place, row strip by row strip of C, and the column tail takes
    /// the Vector256 path. The tiles keep the order of sums per element of the other paths (bias, then the products in
    /// order).
    /// </summary>
    [SkipLocalsInit]
    private static void Multiply512(ReadOnlySpan<float> a, int rsA, int csA, ReadOnlySpan<float> b, int ldb,
        Span<float> c, int ldc, int m, int k, int n, bool accumulate, ReadOnlySpan<float> rowBias,
        Activation act, float p0, float p1)
    {
        int m8 = m & ~7;
        ref float ra = ref MemoryMarshal.GetReference(a);
        ref float rb = ref MemoryMarshal.GetReference(b);
        ref float rc = ref MemoryMarshal.GetReference(c);
        ref float rbias = ref MemoryMarshal.GetReference(rowBias);
        bool hasBias = !rowBias.IsEmpty;
        int firstInit = hasBias ? InitBias : accumulate ? InitLoad : InitZero;
        if (k >= PackMinDepth)
            Multiply512Packed(ref ra, rsA, csA, ref rb, ldb, c, ldc, m8, k, n, firstInit, ref rbias, act, p0, p1);
        else
        {
            // Small k (a 1x1 convolution over a wide plane): one k block; C written row strip by row strip.
            int n16 = n & ~15;
            Activation inRegisters = IsVectorActivation(act) ? act : Activation.None;
            for (int i = 0; i < m8; i += 8)
            {
                ref float ai = ref Unsafe.Add(ref ra, i * rsA);
                ref float ci = ref Unsafe.Add(ref rc, i * ldc);
                ref float bi = ref Unsafe.Add(ref rbias, hasBias ? i : 0);
                for (int j = 0; j < n16; j += 16)
                    Kernel8x16x512(ref ai, rsA, csA, ref Unsafe.Add(ref rb, j), ldb, ref Unsafe.Add(ref ci, j), ldc, k, firstInit, ref bi, inRegisters, p0, p1);
                if (act != Activation.None && inRegisters == Activation.None)
                    for (int r = 0; r < 8; r++) ActivationKernel.ApplyInPlace(act, c.Slice((i + r) * ldc, n16), p0, p1, Isa.Vector256);
            }
            if (n16 < n)
                MultiplyNN(a, rsA, csA, k == 0 ? b : b.Slice(n16), ldb, c.Slice(n16), ldc, m8, k, n - n16, accumulate,
                    hasBias ? rowBias.Slice(0, m8) : rowBias, act, p0, p1, Isa.Vector256);
        }
        if (m8 < m)
            MultiplyNN(a.Slice(m8 * rsA), rsA, csA, b, ldb, c.Slice(m8 * ldc), ldc, m - m8, k, n, accumulate,
                hasBias ? rowBias.Slice(m8) : rowBias, act, p0, p1, Isa.Vector256);
    }

    /// <summary>
    /// Column strips of B up to which <see cref="Multiply512Packed"/> packs every strip of a k block before the first
    /// row strip of A and then runs the row strips outermost (each 8 x kc strip of A read once per k block, from L1 for
    /// all the strips, instead of once per column strip): a narrow C such as a convolution over a 7x7 plane (49 columns:
    /// 3 strips and a dot-product tail), where A, the weights, is the large operand.
    /// </summary>
    internal const int RowOuterMaxStrips = 3;

    /// <summary>
    /// The packed part of <see cref="Multiply512"/>: rows [0, m8) (a multiple of 8), all n columns. Stack: the B panel
    /// (<see cref="KBlock"/> x 16 floats, 16 KiB; <see cref="KBlock"/> x (16 x <see cref="RowOuterMaxStrips"/> +
    /// <see cref="DotTailMaxWidth"/>) floats, 56 KiB, when n fits that many strips) and one 8x16 tile (512 bytes) for
    /// the zero-padded last strip. The loop order does not change any sum (same k blocks, same tiles).
    /// </summary>
    [SkipLocalsInit]
    private static void Multiply512Packed(ref float ra, int rsA, int csA, ref float rb, int ldb, Span<float> c, int ldc,
        int m8, int k, int n, int firstInit, ref float rbias, Activation act, float p0, float p1)
    {
        // A last strip narrower than DotTailMaxWidth, when A's rows are contiguous along k, is computed as dot products
        // (B's columns copied contiguous along k into the panel): a padded 16-wide strip would do 16 columns' work.
        int tailW = n & 15;
        bool dotTail = csA == 1 && tailW > 0 && tailW < DotTailMaxWidth;
        int nVec = dotTail ? n - tailW : n;
        int strips = (nVec + 15) / 16;
        bool rowOuter = strips <= RowOuterMaxStrips && m8 > 8;
        const int StripFloats = KBlock * 16;
        Span<float> panel = stackalloc float[rowOuter ? StripFloats * RowOuterMaxStrips + KBlock * DotTailMaxWidth : StripFloats];
        Span<float> tile = stackalloc float[8 * 16];
        ref float rp = ref MemoryMarshal.GetReference(panel);
        // The dot tail's columns: after the strips in the row-outer order, else at the panel's start (used up before
        // the first strip is packed).
        ref float rtail = ref rowOuter ? ref Unsafe.Add(ref rp, StripFloats * RowOuterMaxStrips) : ref rp;
        ref float rc = ref MemoryMarshal.GetReference(c);
        bool hasBias = firstInit == InitBias;
        bool prefetchA = csA == 1 && Sse.IsSupported;
        int pc = 0;
        do
        {
            int kc = Math.Min(KBlock, k - pc);
            int init = pc == 0 ? firstInit : InitLoad;
            bool last = pc + kc >= k;
            ref float ak = ref Unsafe.Add(ref ra, pc * csA);
            ref float bk = ref Unsafe.Add(ref rb, pc * ldb);
            Activation inRegisters = last && IsVectorActivation(act) ? act : Activation.None;
            bool perTile = last && act != Activation.None && inRegisters == Activation.None;
            Activation tailAct = last ? act : Activation.None;
            if (dotTail)
                for (int t = 0; t < tailW; t++)
                {
                    ref float src = ref Unsafe.Add(ref bk, nVec + t);
                    ref float dst = ref Unsafe.Add(ref rtail, t * KBlock);
                    for (int p = 0; p < kc; p++) Unsafe.Add(ref dst, p) = Unsafe.Add(ref src, p * ldb);
                }
            if (rowOuter)
            {
                for (int s = 0; s < strips; s++)
                    PackStrip512(ref Unsafe.Add(ref bk, s * 16), ldb, Math.Min(16, n - s * 16), kc, ref Unsafe.Add(ref rp, s * StripFloats));
                for (int i = 0; i < m8; i += 8)
                {
                    ref float ai = ref Unsafe.Add(ref ak, i * rsA);
                    ref float bi = ref Unsafe.Add(ref rbias, hasBias ? i : 0);
                    if (prefetchA && i + 8 < m8) PrefetchRows(ref Unsafe.Add(ref ai, 8 * rsA), rsA, 8, kc);
                    for (int s = 0; s < strips; s++)
                        StripTile512(ref ai, rsA, csA, ref Unsafe.Add(ref rp, s * StripFloats), c, ref rc, ldc, i, s * 16, Math.Min(16, n - s * 16),
                            kc, init, ref bi, inRegisters, perTile, act, p0, p1, tile);
                    for (int t = 0; t < tailW && dotTail; t++)
                        DotTile8x1(ref ai, rsA, ref Unsafe.Add(ref rtail, t * KBlock), kc, ref Unsafe.Add(ref rc, i * ldc + nVec + t), ldc, init, ref bi,
                            tailAct, p0, p1);
                }
            }
            else
            {
                if (dotTail)
                    for (int i = 0; i < m8; i += 8)
                    {
                        ref float ai = ref Unsafe.Add(ref ak, i * rsA);
                        ref float bi = ref Unsafe.Add(ref rbias, hasBias ? i : 0);
                        if (prefetchA && i + 8 < m8) PrefetchRows(ref Unsafe.Add(ref ai, 8 * rsA), rsA, 8, kc);
                        for (int t = 0; t < tailW; t++)
                            DotTile8x1(ref ai, rsA, ref Unsafe.Add(ref rtail, t * KBlock), kc, ref Unsafe.Add(ref rc, i * ldc + nVec + t), ldc, init, ref bi,
                                tailAct, p0, p1);
                    }
                for (int j = 0; j < nVec; j += 16)
                {
                    int w = Math.Min(16, n - j);
                    PackStrip512(ref Unsafe.Add(ref bk, j), ldb, w, kc, ref rp);
                    for (int i = 0; i < m8; i += 8)
                    {
                        // The first pass over A (the dot tail's, else the first strip's) reads each 8-row block for the
                        // first time (cold: a layer's weights): fetch the next block into L2 while this one is computed.
                        if (prefetchA && !dotTail && j == 0 && i + 8 < m8) PrefetchRows(ref Unsafe.Add(ref ak, (i + 8) * rsA), rsA, 8, kc);
                        StripTile512(ref Unsafe.Add(ref ak, i * rsA), rsA, csA, ref rp, c, ref rc, ldc, i, j, w, kc, init,
                            ref Unsafe.Add(ref rbias, hasBias ? i : 0), inRegisters, perTile, act, p0, p1, tile);
                    }
                }
            }
            pc += kc;
        }
        while (pc < k);
    }

    /// <summary>
    /// Asks for the cache lines of <paramref name="rows"/> rows of A (row stride rsA, kc floats each, contiguous) to be
    /// brought into L2 (prefetcht1; a hint: no fault, no effect on results). A block of weights read once per call is
    /// short (a 160-float row is 10 lines), too short for the hardware's stream prefetcher to run ahead of it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void PrefetchRows(ref float a, int rsA, int rows, int kc)
    {
        for (int r = 0; r < rows; r++)
        {
            float* row = (float*)Unsafe.AsPointer(ref Unsafe.Add(ref a, r * rsA));
            for (int p = 0; p < kc; p += 16) Sse.Prefetch1(row + p);
            Sse.Prefetch1(row + kc - 1);
        }
    }

    /// <summary>Copies a kc x w block of B (row stride ldb, w &lt;= 16) into dst as kc rows of 16, zero-padded past w.</summary>
    private static void PackStrip512(ref float src, int ldb, int w, int kc, ref float dst)
    {
        if (w == 16)
            for (int p = 0; p < kc; p++)
            {
                Vector512.LoadUnsafe(ref src).StoreUnsafe(ref dst, (nuint)(p * 16));
                src = ref Unsafe.Add(ref src, ldb);
            }
        else
            for (int p = 0; p < kc; p++)
            {
                ref float d = ref Unsafe.Add(ref dst, p * 16);
                Vector512<float>.Zero.StoreUnsafe(ref d);
                MemoryMarshal.CreateReadOnlySpan(ref src, w).CopyTo(MemoryMarshal.CreateSpan(ref d, w));
                src = ref Unsafe.Add(ref src, ldb);
            }
    }

    /// <summary>
    /// The 8 x w tile of C at (i, j) from a packed strip (w &lt;= 16): a partial strip goes through the stack tile (C's
    /// columns past w are never read or written); <paramref name="perTile"/> applies a non-vector activation after.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StripTile512(ref float ai, int rsA, int csA, ref float strip, Span<float> c, ref float rc, int ldc, int i, int j, int w,
        int kc, int init, ref float bi, Activation inRegisters, bool perTile, Activation act, float p0, float p1, Span<float> tile)
    {
        ref float cij = ref Unsafe.Add(ref rc, i * ldc + j);
        if (w == 16)
            Kernel8x16x512(ref ai, rsA, csA, ref strip, 16, ref cij, ldc, kc, init, ref bi, inRegisters, p0, p1);
        else
        {
            if (init == InitLoad)
                for (int r = 0; r < 8; r++)
                    MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref cij, r * ldc), w).CopyTo(tile.Slice(r * 16, w));
            Kernel8x16x512(ref ai, rsA, csA, ref strip, 16, ref MemoryMarshal.GetReference(tile), 16, kc, init, ref bi, inRegisters, p0, p1);
            for (int r = 0; r < 8; r++)
                tile.Slice(r * 16, w).CopyTo(MemoryMarshal.CreateSpan(ref Unsafe.Add(ref cij, r * ldc), w));
        }
        if (perTile)
            for (int r = 0; r < 8; r++) ActivationKernel.ApplyInPlace(act, c.Slice((i + r) * ldc + j, w), p0, p1, Isa.Vector256);
    }

    /// <summary>Last strips narrower than this (with csA = 1) take <see cref="DotTile8x1"/> in <see cref="Multiply512Packed"/>.</summary>
    internal const int DotTailMaxWidth = 8;

    /// <summary>
    /// One column of 8 rows as dot products along k: C[r] = init + A[r, 0..k) . col[0..k) for r in [0, 8) (A rows at a0 +
    /// r*rsA, contiguous along k; col contiguous), then <paramref name="act"/> (any activation, scalar). The sum runs in 16
    /// lanes (then 8, then in order) and is reduced across lanes, so it is reordered against the reference: tolerance,
    /// as for <see cref="MultiplyNT"/>. Init and bias come first, as in the tiles.
    /// </summary>
    private static void DotTile8x1(ref float a0, int rsA, ref float col, int k, ref float c0, int ldc, int init, ref float bias0,
        Activation act, float p0, float p1)
    {
        ref float a1 = ref Unsafe.Add(ref a0, rsA);
        ref float a2 = ref Unsafe.Add(ref a1, rsA);
        ref float a3 = ref Unsafe.Add(ref a2, rsA);
        ref float a4 = ref Unsafe.Add(ref a3, rsA);
        ref float a5 = ref Unsafe.Add(ref a4, rsA);
        ref float a6 = ref Unsafe.Add(ref a5, rsA);
        ref float a7 = ref Unsafe.Add(ref a6, rsA);
        Vector512<float> s0 = Vector512<float>.Zero, s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0, s6 = s0, s7 = s0;
        nuint p = 0, kk = (nuint)k;
        for (; p + 16 <= kk; p += 16)
        {
            var bv = Vector512.LoadUnsafe(ref col, p);
            s0 = Simd.MulAdd(Vector512.LoadUnsafe(ref a0, p), bv, s0);
            s1 = Simd.MulAdd(Vector512.LoadUnsafe(ref a1, p), bv, s1);
            s2 = Simd.MulAdd(Vector512.LoadUnsafe(ref a2, p), bv, s2);
            s3 = Simd.MulAdd(Vector512.LoadUnsafe(ref a3, p), bv, s3);
            s4 = Simd.MulAdd(Vector512.LoadUnsafe(ref a4, p), bv, s4);
            s5 = Simd.MulAdd(Vector512.LoadUnsafe(ref a5, p), bv, s5);
            s6 = Simd.MulAdd(Vector512.LoadUnsafe(ref a6, p), bv, s6);
            s7 = Simd.MulAdd(Vector512.LoadUnsafe(ref a7, p), bv, s7);
        }
        Vector256<float> h0 = s0.GetLower() + s0.GetUpper(), h1 = s1.GetLower() + s1.GetUpper();
        Vector256<float> h2 = s2.GetLower() + s2.GetUpper(), h3 = s3.GetLower() + s3.GetUpper();
        Vector256<float> h4 = s4.GetLower() + s4.GetUpper(), h5 = s5.GetLower() + s5.GetUpper();
        Vector256<float> h6 = s6.GetLower() + s6.GetUpper(), h7 = s7.GetLower() + s7.GetUpper();
        if (p + 8 <= kk)
        {
            var bv = Vector256.LoadUnsafe(ref col, p);
            h0 = Simd.MulAdd(Vector256.LoadUnsafe(ref a0, p), bv, h0);
            h1 = Simd.MulAdd(Vector256.LoadUnsafe(ref a1, p), bv, h1);
            h2 = Simd.MulAdd(Vector256.LoadUnsafe(ref a2, p), bv, h2);
            h3 = Simd.MulAdd(Vector256.LoadUnsafe(ref a3, p), bv, h3);
            h4 = Simd.MulAdd(Vector256.LoadUnsafe(ref a4, p), bv, h4);
            h5 = Simd.MulAdd(Vector256.LoadUnsafe(ref a5, p), bv, h5);
            h6 = Simd.MulAdd(Vector256.LoadUnsafe(ref a6, p), bv, h6);
            h7 = Simd.MulAdd(Vector256.LoadUnsafe(ref a7, p), bv, h7);
            p += 8;
        }
        float d0 = Vector256.Sum(h0), d1 = Vector256.Sum(h1), d2 = Vector256.Sum(h2), d3 = Vector256.Sum(h3);
        float d4 = Vector256.Sum(h4), d5 = Vector256.Sum(h5), d6 = Vector256.Sum(h6), d7 = Vector256.Sum(h7);
        for (; p < kk; p++)
        {
            float bv = Unsafe.Add(ref col, p);
            d0 += Unsafe.Add(ref a0, p) * bv; d1 += Unsafe.Add(ref a1, p) * bv;
            d2 += Unsafe.Add(ref a2, p) * bv; d3 += Unsafe.Add(ref a3, p) * bv;
            d4 += Unsafe.Add(ref a4, p) * bv; d5 += Unsafe.Add(ref a5, p) * bv;
            d6 += Unsafe.Add(ref a6, p) * bv; d7 += Unsafe.Add(ref a7, p) * bv;
        }
        StoreDotTail(ref c0, init, ref bias0, 0, d0, act, p0, p1);
        StoreDotTail(ref Unsafe.Add(ref c0, ldc), init, ref bias0, 1, d1, act, p0, p1);
        StoreDotTail(ref Unsafe.Add(ref c0, 2 * ldc), init, ref bias0, 2, d2, act, p0, p1);
        StoreDotTail(ref Unsafe.Add(ref c0, 3 * ldc), init, ref bias0, 3, d3, act, p0, p1);
        StoreDotTail(ref Unsafe.Add(ref c0, 4 * ldc), init, ref bias0, 4, d4, act, p0, p1);
        StoreDotTail(ref Unsafe.Add(ref c0, 5 * ldc), init, ref bias0, 5, d5, act, p0, p1);
        StoreDotTail(ref Unsafe.Add(ref c0, 6 * ldc), init, ref bias0, 6, d6, act, p0, p1);
        StoreDotTail(ref Unsafe.Add(ref c0, 7 * ldc), init, ref bias0, 7, d7, act, p0, p1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreDotTail(ref float cr, int init, ref float bias0, int r, float dot, Activation act, float p0, float p1)
    {
        float v = InitScalar(init, ref cr, ref bias0, r) + dot;
        cr = act == Activation.None ? v : ActivationKernel.Apply(act, v, p0, p1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Init512(int init, ref float cr, ref float bias0, int r)
        => init == InitLoad ? Vector512.LoadUnsafe(ref cr) : init == InitBias ? Vector512.Create(Unsafe.Add(ref bias0, r)) : Vector512<float>.Zero;

    /// <summary>
    /// An 8x16 tile: C rows c0 + r*ldc (16 floats each) for r in [0, 8), A rows a0 + r*rsA (step csA along k), B rows bp +
    /// p*ldb (16 floats). init as the other kernels; bias0[r] is row r's bias. Applies <paramref name="act"/> (a
    /// piecewise-linear one or None) to the registers before the store.
    /// </summary>
    private static void Kernel8x16x512(ref float a0, int rsA, int csA, ref float bp, int ldb, ref float c0, int ldc, int k, int init, ref float bias0,
        Activation act, float p0, float p1)
    {
        ref float c1 = ref Unsafe.Add(ref c0, ldc);
        ref float c2 = ref Unsafe.Add(ref c1, ldc);
        ref float c3 = ref Unsafe.Add(ref c2, ldc);
        ref float c4 = ref Unsafe.Add(ref c3, ldc);
        ref float c5 = ref Unsafe.Add(ref c4, ldc);
        ref float c6 = ref Unsafe.Add(ref c5, ldc);
        ref float c7 = ref Unsafe.Add(ref c6, ldc);
        Vector512<float> v0 = Init512(init, ref c0, ref bias0, 0), v1 = Init512(init, ref c1, ref bias0, 1);
        Vector512<float> v2 = Init512(init, ref c2, ref bias0, 2), v3 = Init512(init, ref c3, ref bias0, 3);
        Vector512<float> v4 = Init512(init, ref c4, ref bias0, 4), v5 = Init512(init, ref c5, ref bias0, 5);
        Vector512<float> v6 = Init512(init, ref c6, ref bias0, 6), v7 = Init512(init, ref c7, ref bias0, 7);
        ref float a1 = ref Unsafe.Add(ref a0, rsA);
        ref float a2 = ref Unsafe.Add(ref a1, rsA);
        ref float a3 = ref Unsafe.Add(ref a2, rsA);
        ref float a4 = ref Unsafe.Add(ref a3, rsA);
        ref float a5 = ref Unsafe.Add(ref a4, rsA);
        ref float a6 = ref Unsafe.Add(ref a5, rsA);
        ref float a7 = ref Unsafe.Add(ref a6, rsA);
        for (int p = 0; p < k; p++)
        {
            var bv = Vector512.LoadUnsafe(ref bp);
            int ap = p * csA;
            v0 = Simd.MulAdd(Vector512.Create(Unsafe.Add(ref a0, ap)), bv, v0);
            v1 = Simd.MulAdd(Vector512.Create(Unsafe.Add(ref a1, ap)), bv, v1);
            v2 = Simd.MulAdd(Vector512.Create(Unsafe.Add(ref a2, ap)), bv, v2);
            v3 = Simd.MulAdd(Vector512.Create(Unsafe.Add(ref a3, ap)), bv, v3);
            v4 = Simd.MulAdd(Vector512.Create(Unsafe.Add(ref a4, ap)), bv, v4);
            v5 = Simd.MulAdd(Vector512.Create(Unsafe.Add(ref a5, ap)), bv, v5);
            v6 = Simd.MulAdd(Vector512.Create(Unsafe.Add(ref a6, ap)), bv, v6);
            v7 = Simd.MulAdd(Vector512.Create(Unsafe.Add(ref a7, ap)), bv, v7);
            bp = ref Unsafe.Add(ref bp, ldb);
        }
        v0.StoreUnsafe(ref c0); v1.StoreUnsafe(ref c1); v2.StoreUnsafe(ref c2); v3.StoreUnsafe(ref c3);
        v4.StoreUnsafe(ref c4); v5.StoreUnsafe(ref c5); v6.StoreUnsafe(ref c6); v7.StoreUnsafe(ref c7);
        // After the stores, in a separate method: accumulators live across the activation's calls would make the JIT
        // spill them inside the k loop (it did: one store per FMA).
        if (act != Activation.None) ApplyTile8x16(act, ref c0, ldc, p0, p1);
    }

    /// <summary>A piecewise-linear activation on an 8x16 tile of C just stored (still in L1).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ApplyTile8x16(Activation act, ref float c0, int ldc, float p0, float p1)
    {
        var q0 = Vector256.Create(p0); var q1 = Vector256.Create(p1);
        for (int r = 0; r < 8; r++)
        {
            ref float cr = ref Unsafe.Add(ref c0, r * ldc);
            ActivationKernel.Apply256(act, Vector256.LoadUnsafe(ref cr), q0, q1).StoreUnsafe(ref cr);
            ActivationKernel.Apply256(act, Vector256.LoadUnsafe(ref cr, 8), q0, q1).StoreUnsafe(ref cr, 8);
        }
    }

    /// <summary>
    /// C[m, n] = A @ Bt^T with A row-major [m, k] (row stride lda) and Bt row-major [n, k] (row stride ldb):
    /// both operands are contiguous along k, so each output is a vector dot product (1 row x 4 columns
    /// blocked). The sum is reordered across vector lanes, hence tolerance against the scalar reference.
    /// </summary>
    internal static void MultiplyNT(ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> bt, int ldb,
        Span<float> c, int ldc, int m, int k, int n, Isa isa)
    {
        for (int i = 0; i < m; i++)
        {
            ReadOnlySpan<float> arow = a.Slice(i * lda, k);
            int j = 0;
            for (; j <= n - 4; j += 4)
            {
                Rows.Dot4(arow, bt.Slice(j * ldb), ldb, k, isa, out float d0, out float d1, out float d2, out float d3);
                int o = i * ldc + j;
                c[o] = d0; c[o + 1] = d1; c[o + 2] = d2; c[o + 3] = d3;
            }
            for (; j < n; j++) c[i * ldc + j] = Rows.Dot(arow, bt.Slice(j * ldb, k), isa);
        }
    }
}
