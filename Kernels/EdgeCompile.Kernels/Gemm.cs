using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace EdgeCompile.Kernels;

/// <summary>Matrix products: ONNX Gemm (with fused epilogue) and batched MatMul.</summary>
public static class Gemm
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
        RunCore(a, b, c, y, m, k, n, transA, transB, alpha, beta, cRows, cCols, act, p0, p1, KernelPaths.Best);
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
        MatMulCore(a, b, y, batch, m, k, n, aBatchStride, bBatchStride, KernelPaths.Best);
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
            MultiplyNT(a, k, b, k, y, n, m, k, n, isa);

        // Epilogue, row by row: alpha * acc (+ beta * c), then the activation, as in RunScalar.
        for (int i = 0; i < m; i++)
        {
            Span<float> row = y.Slice(i * n, n);
            if (c.IsEmpty) Rows.Scale(row, alpha, isa);
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

    /// <summary>
    /// C[m, n] (row stride ldc) = (accumulate ? C : 0) + A @ B, where A[i, p] = a[i*rsA + p*csA] and B is
    /// row-major [k, n] with row stride ldb. Each C element is summed over p in order (the same order as the
    /// scalar references), so only FMA rounding separates the paths. Callers have validated the extents.
    /// Register blocking: 4 rows of C x 2 vectors of columns, broadcasting A along k.
    /// </summary>
    internal static void MultiplyNN(ReadOnlySpan<float> a, int rsA, int csA, ReadOnlySpan<float> b, int ldb,
        Span<float> c, int ldc, int m, int k, int n, bool accumulate, Isa isa)
    {
        if (m == 0 || n == 0) return;
        ref float ra = ref MemoryMarshal.GetReference(a);
        ref float rb = ref MemoryMarshal.GetReference(b);
        ref float rc = ref MemoryMarshal.GetReference(c);
        int i = 0;
        for (; i <= m - 4; i += 4)
        {
            int j = 0;
            if (isa == Isa.Vector256)
            {
                for (; j <= n - 16; j += 16) Kernel4x16(ref ra, rsA, csA, ref rb, ldb, ref rc, ldc, i, j, k, accumulate);
                for (; j <= n - 8; j += 8) Kernel4x8(ref ra, rsA, csA, ref rb, ldb, ref rc, ldc, i, j, k, accumulate);
            }
            for (; j <= n - 4; j += 4) Kernel4x4(ref ra, rsA, csA, ref rb, ldb, ref rc, ldc, i, j, k, accumulate);
            for (; j < n; j++)
                for (int r = 0; r < 4; r++) ScalarDot(ref ra, rsA, csA, ref rb, ldb, ref rc, ldc, i + r, j, k, accumulate);
        }
        for (; i < m; i++)
        {
            int j = 0;
            if (isa == Isa.Vector256)
                for (; j <= n - 8; j += 8) Kernel1x8(ref ra, rsA, csA, ref rb, ldb, ref rc, ldc, i, j, k, accumulate);
            for (; j <= n - 4; j += 4) Kernel1x4(ref ra, rsA, csA, ref rb, ldb, ref rc, ldc, i, j, k, accumulate);
            for (; j < n; j++) ScalarDot(ref ra, rsA, csA, ref rb, ldb, ref rc, ldc, i, j, k, accumulate);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ScalarDot(ref float ra, int rsA, int csA, ref float rb, int ldb, ref float rc, int ldc, int i, int j, int k, bool acc)
    {
        ref float cij = ref Unsafe.Add(ref rc, i * ldc + j);
        float s = acc ? cij : 0f;
        for (int p = 0; p < k; p++) s += Unsafe.Add(ref ra, i * rsA + p * csA) * Unsafe.Add(ref rb, p * ldb + j);
        cij = s;
    }

    private static void Kernel4x16(ref float ra, int rsA, int csA, ref float rb, int ldb, ref float rc, int ldc, int i, int j, int k, bool acc)
    {
        ref float c0 = ref Unsafe.Add(ref rc, i * ldc + j);
        ref float c1 = ref Unsafe.Add(ref c0, ldc);
        ref float c2 = ref Unsafe.Add(ref c1, ldc);
        ref float c3 = ref Unsafe.Add(ref c2, ldc);
        Vector256<float> c00, c01, c10, c11, c20, c21, c30, c31;
        if (acc)
        {
            c00 = Vector256.LoadUnsafe(ref c0); c01 = Vector256.LoadUnsafe(ref c0, 8);
            c10 = Vector256.LoadUnsafe(ref c1); c11 = Vector256.LoadUnsafe(ref c1, 8);
            c20 = Vector256.LoadUnsafe(ref c2); c21 = Vector256.LoadUnsafe(ref c2, 8);
            c30 = Vector256.LoadUnsafe(ref c3); c31 = Vector256.LoadUnsafe(ref c3, 8);
        }
        else
        {
            c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = Vector256<float>.Zero;
        }
        ref float a0 = ref Unsafe.Add(ref ra, i * rsA);
        ref float a1 = ref Unsafe.Add(ref a0, rsA);
        ref float a2 = ref Unsafe.Add(ref a1, rsA);
        ref float a3 = ref Unsafe.Add(ref a2, rsA);
        ref float bp = ref Unsafe.Add(ref rb, j);
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
        c00.StoreUnsafe(ref c0); c01.StoreUnsafe(ref c0, 8);
        c10.StoreUnsafe(ref c1); c11.StoreUnsafe(ref c1, 8);
        c20.StoreUnsafe(ref c2); c21.StoreUnsafe(ref c2, 8);
        c30.StoreUnsafe(ref c3); c31.StoreUnsafe(ref c3, 8);
    }

    private static void Kernel4x8(ref float ra, int rsA, int csA, ref float rb, int ldb, ref float rc, int ldc, int i, int j, int k, bool acc)
    {
        ref float c0 = ref Unsafe.Add(ref rc, i * ldc + j);
        ref float c1 = ref Unsafe.Add(ref c0, ldc);
        ref float c2 = ref Unsafe.Add(ref c1, ldc);
        ref float c3 = ref Unsafe.Add(ref c2, ldc);
        Vector256<float> v0, v1, v2, v3;
        if (acc) { v0 = Vector256.LoadUnsafe(ref c0); v1 = Vector256.LoadUnsafe(ref c1); v2 = Vector256.LoadUnsafe(ref c2); v3 = Vector256.LoadUnsafe(ref c3); }
        else v0 = v1 = v2 = v3 = Vector256<float>.Zero;
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

    private static void Kernel4x4(ref float ra, int rsA, int csA, ref float rb, int ldb, ref float rc, int ldc, int i, int j, int k, bool acc)
    {
        ref float c0 = ref Unsafe.Add(ref rc, i * ldc + j);
        ref float c1 = ref Unsafe.Add(ref c0, ldc);
        ref float c2 = ref Unsafe.Add(ref c1, ldc);
        ref float c3 = ref Unsafe.Add(ref c2, ldc);
        Vector128<float> v0, v1, v2, v3;
        if (acc) { v0 = Vector128.LoadUnsafe(ref c0); v1 = Vector128.LoadUnsafe(ref c1); v2 = Vector128.LoadUnsafe(ref c2); v3 = Vector128.LoadUnsafe(ref c3); }
        else v0 = v1 = v2 = v3 = Vector128<float>.Zero;
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

    private static void Kernel1x8(ref float ra, int rsA, int csA, ref float rb, int ldb, ref float rc, int ldc, int i, int j, int k, bool acc)
    {
        ref float c0 = ref Unsafe.Add(ref rc, i * ldc + j);
        var v = acc ? Vector256.LoadUnsafe(ref c0) : Vector256<float>.Zero;
        ref float a0 = ref Unsafe.Add(ref ra, i * rsA);
        ref float bp = ref Unsafe.Add(ref rb, j);
        for (int p = 0; p < k; p++)
        {
            v = Simd.MulAdd(Vector256.Create(Unsafe.Add(ref a0, p * csA)), Vector256.LoadUnsafe(ref bp), v);
            bp = ref Unsafe.Add(ref bp, ldb);
        }
        v.StoreUnsafe(ref c0);
    }

    private static void Kernel1x4(ref float ra, int rsA, int csA, ref float rb, int ldb, ref float rc, int ldc, int i, int j, int k, bool acc)
    {
        ref float c0 = ref Unsafe.Add(ref rc, i * ldc + j);
        var v = acc ? Vector128.LoadUnsafe(ref c0) : Vector128<float>.Zero;
        ref float a0 = ref Unsafe.Add(ref ra, i * rsA);
        ref float bp = ref Unsafe.Add(ref rb, j);
        for (int p = 0; p < k; p++)
        {
            v = Simd.MulAdd(Vector128.Create(Unsafe.Add(ref a0, p * csA)), Vector128.LoadUnsafe(ref bp), v);
            bp = ref Unsafe.Add(ref bp, ldb);
        }
        v.StoreUnsafe(ref c0);
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
