using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EdgeCompile.Kernels;

/// <summary>
/// The constant shape and attributes of one <see cref="Gemm.Run"/> layer, supplied by generated code as a struct
/// whose static members return literals (docs/kernels.md, "Layer specialization"). <see cref="Gemm.Run{TLayer}"/>
/// is generic over it: the runtime compiles one copy of the kernel per struct (under the JIT and NativeAOT alike),
/// in which every member is a constant, so the shape checks, the path selection and the epilogue's branches fold
/// away and the loops have constant bounds.
/// </summary>
public interface IGemmLayer
{
    /// <summary>Rows of op(a) and y.</summary>
    static abstract int M { get; }
    /// <summary>The reduction length.</summary>
    static abstract int K { get; }
    /// <summary>Columns of op(b) and y.</summary>
    static abstract int N { get; }
    /// <summary>a is stored [k, m].</summary>
    static abstract bool TransA { get; }
    /// <summary>b is stored [n, k].</summary>
    static abstract bool TransB { get; }
    /// <summary>The scale of the product.</summary>
    static abstract float Alpha { get; }
    /// <summary>The scale of c.</summary>
    static abstract float Beta { get; }
    /// <summary>Rows of c (1 or M; 0 without c).</summary>
    static abstract int CRows { get; }
    /// <summary>Columns of c (1 or N; 0 without c).</summary>
    static abstract int CCols { get; }
    /// <summary>The fused activation.</summary>
    static abstract Activation Act { get; }
    /// <summary>The activation's first parameter.</summary>
    static abstract float P0 { get; }
    /// <summary>The activation's second parameter.</summary>
    static abstract float P1 { get; }
}

public static partial class Gemm
{
    /// <summary>
    /// <see cref="Run"/> for a layer whose shape and attributes are the constants of <typeparamref name="TLayer"/>.
    /// A one-row product against a [n, k] weight (m = 1, transB: a dense layer on one sample) takes a specialized
    /// matrix-vector kernel with the epilogue fused per output; every other shape takes <see cref="Run"/>'s path.
    /// </summary>
    /// <exception cref="ArgumentException">A span length does not match the layer's shape.</exception>
    public static void Run<TLayer>(ReadOnlySpan<float> a, ReadOnlySpan<float> b, ReadOnlySpan<float> c, Span<float> y)
        where TLayer : struct, IGemmLayer
    {
        // Every condition below is a constant in the instantiation: the checks compile to length compares.
        if (TLayer.M < 0 || TLayer.K < 0 || TLayer.N < 0 || a.Length != TLayer.M * TLayer.K || b.Length != TLayer.K * TLayer.N
            || y.Length != TLayer.M * TLayer.N
            || (!c.IsEmpty && (c.Length != TLayer.CRows * TLayer.CCols
                || (TLayer.CRows != 1 && TLayer.CRows != TLayer.M) || (TLayer.CCols != 1 && TLayer.CCols != TLayer.N))))
        {
            // The general validation names the offending argument.
            ValidateRun(a, b, c, y, TLayer.M, TLayer.K, TLayer.N, TLayer.CRows, TLayer.CCols);
        }
        if (TLayer.M == 1 && TLayer.TransB && !TLayer.TransA && Vector256.IsHardwareAccelerated)
            RowTimesTransposed<TLayer>(a, b, c, y, Isa.Vector256);
        else
            RunCore(a, b, c, y, TLayer.M, TLayer.K, TLayer.N, TLayer.TransA, TLayer.TransB, TLayer.Alpha, TLayer.Beta,
                TLayer.CRows, TLayer.CCols, TLayer.Act, TLayer.P0, TLayer.P1, KernelPaths.BestGemm);
    }

    /// <summary>
    /// y[0, j] = act(alpha * dot(a, b[j, :]) + beta * c): eight outputs at a time, each a dot product of two contiguous
    /// rows in 8-lane partial sums (reduced across lanes at the end, hence tolerance against the reference), the
    /// epilogue applied as each output is stored. Callers have validated the extents (m = 1, transB).
    /// <paramref name="isa"/> is <see cref="Isa.Vector256"/> or <see cref="Isa.Scalar"/> (tests force both).
    /// </summary>
    internal static void RowTimesTransposed<TLayer>(ReadOnlySpan<float> a, ReadOnlySpan<float> b, ReadOnlySpan<float> c, Span<float> y, Isa isa)
        where TLayer : struct, IGemmLayer
    {
        int k = TLayer.K, n = TLayer.N;
        ref float ra = ref MemoryMarshal.GetReference(a);
        ref float rb = ref MemoryMarshal.GetReference(b);
        ref float ry = ref MemoryMarshal.GetReference(y);
        ref float rc = ref MemoryMarshal.GetReference(c);
        bool hasC = !c.IsEmpty;
        // Weights larger than an L2 (1 MiB) come from memory: prefetch them (a constant in the instantiation; small
        // layers such as the tiny MLP's, whose weights stay cached, run the loop without it).
        bool prefetchWeights = (long)TLayer.K * TLayer.N >= MatVecPrefetchMinFloats;
        int j = 0;
        if (isa == Isa.Vector256)
        {
            // Eight outputs at a time: eight independent chains of FMAs hide the FMA latency (four did not).
            for (; j <= n - 8; j += 8)
            {
                ref float b0 = ref Unsafe.Add(ref rb, j * k);
                Vector256<float> s0 = Vector256<float>.Zero, s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0, s6 = s0, s7 = s0;
                bool prefetch = prefetchWeights && Sse.IsSupported && j + 16 <= n;
                int p = 0;
                for (; p <= k - 8; p += 8)
                {
                    var av = Vector256.LoadUnsafe(ref ra, (nuint)p);
                    ref float bp = ref Unsafe.Add(ref b0, p);
                    if (prefetch) PrefetchNextRows(ref bp, k, p);
                    s0 = Simd.MulAdd(av, Vector256.LoadUnsafe(ref bp), s0);
                    s1 = Simd.MulAdd(av, Vector256.LoadUnsafe(ref bp, (nuint)k), s1);
                    s2 = Simd.MulAdd(av, Vector256.LoadUnsafe(ref bp, (nuint)(2 * k)), s2);
                    s3 = Simd.MulAdd(av, Vector256.LoadUnsafe(ref bp, (nuint)(3 * k)), s3);
                    s4 = Simd.MulAdd(av, Vector256.LoadUnsafe(ref bp, (nuint)(4 * k)), s4);
                    s5 = Simd.MulAdd(av, Vector256.LoadUnsafe(ref bp, (nuint)(5 * k)), s5);
                    s6 = Simd.MulAdd(av, Vector256.LoadUnsafe(ref bp, (nuint)(6 * k)), s6);
                    s7 = Simd.MulAdd(av, Vector256.LoadUnsafe(ref bp, (nuint)(7 * k)), s7);
                }
                if (p == k && Avx.IsSupported)
                {
                    // No tail: the eight sums reduced together (three rounds of pairwise adds, not eight full
                    // horizontal sums) and the epilogue applied to the vector of eight outputs.
                    StoreEight<TLayer>(ref ry, j, Reduce8(s0, s1, s2, s3, s4, s5, s6, s7), ref rc, hasC);
                    continue;
                }
                StoreDot<TLayer>(ref ry, j, Vector256.Sum(s0), ref ra, ref b0, p, k, ref rc, hasC);
                StoreDot<TLayer>(ref ry, j + 1, Vector256.Sum(s1), ref ra, ref Unsafe.Add(ref b0, k), p, k, ref rc, hasC);
                StoreDot<TLayer>(ref ry, j + 2, Vector256.Sum(s2), ref ra, ref Unsafe.Add(ref b0, 2 * k), p, k, ref rc, hasC);
                StoreDot<TLayer>(ref ry, j + 3, Vector256.Sum(s3), ref ra, ref Unsafe.Add(ref b0, 3 * k), p, k, ref rc, hasC);
                StoreDot<TLayer>(ref ry, j + 4, Vector256.Sum(s4), ref ra, ref Unsafe.Add(ref b0, 4 * k), p, k, ref rc, hasC);
                StoreDot<TLayer>(ref ry, j + 5, Vector256.Sum(s5), ref ra, ref Unsafe.Add(ref b0, 5 * k), p, k, ref rc, hasC);
                StoreDot<TLayer>(ref ry, j + 6, Vector256.Sum(s6), ref ra, ref Unsafe.Add(ref b0, 6 * k), p, k, ref rc, hasC);
                StoreDot<TLayer>(ref ry, j + 7, Vector256.Sum(s7), ref ra, ref Unsafe.Add(ref b0, 7 * k), p, k, ref rc, hasC);
            }
            // The remaining outputs one at a time, still a vector dot product each.
            for (; j < n; j++)
            {
                ref float b0 = ref Unsafe.Add(ref rb, j * k);
                var s0 = Vector256<float>.Zero;
                int p = 0;
                for (; p <= k - 8; p += 8)
                    s0 = Simd.MulAdd(Vector256.LoadUnsafe(ref ra, (nuint)p), Vector256.LoadUnsafe(ref b0, (nuint)p), s0);
                StoreDot<TLayer>(ref ry, j, Vector256.Sum(s0), ref ra, ref b0, p, k, ref rc, hasC);
            }
        }
        for (; j < n; j++)
        {
            ref float bj = ref Unsafe.Add(ref rb, j * k);
            float d = 0f;
            for (int p = 0; p < k; p++) d += Unsafe.Add(ref ra, p) * Unsafe.Add(ref bj, p);
            Unsafe.Add(ref ry, j) = Epilogue<TLayer>(d, ref rc, hasC, j);
        }
    }

    /// <summary>Weights (floats) from which <see cref="RowTimesTransposed{TLayer}"/> prefetches the next rows: 1 MiB.</summary>
    internal const long MatVecPrefetchMinFloats = 1 << 18;

    /// <summary>
    /// Asks for the weights of the next eight outputs (rows 8..15 from <paramref name="bp"/>, row stride k) at this column
    /// to be brought into L2 (prefetcht1, a hint): rows 8-11 on the even steps of 8 columns, rows 12-15 on the odd ones,
    /// so every 64-byte line of the next rows is asked for about once. The weights of a classifier (1280 x 1000 floats in
    /// MobileNetV2, 5 MB) come from memory on every call; the hardware prefetcher restarts on each block of rows.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void PrefetchNextRows(ref float bp, int k, int p)
    {
        float* q = (float*)Unsafe.AsPointer(ref Unsafe.Add(ref bp, (p & 8) == 0 ? 8 * k : 12 * k));
        Sse.Prefetch1(q); Sse.Prefetch1(q + k); Sse.Prefetch1(q + 2 * k); Sse.Prefetch1(q + 3 * k);
    }

    /// <summary>[sum(s0), sum(s1), ..., sum(s7)]: pairwise horizontal adds, then the two 128-bit halves added (AVX).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Reduce8(Vector256<float> s0, Vector256<float> s1, Vector256<float> s2, Vector256<float> s3,
        Vector256<float> s4, Vector256<float> s5, Vector256<float> s6, Vector256<float> s7)
    {
        // hadd(a, b) = [a0+a1, a2+a3, b0+b1, b2+b3 | a4+a5, a6+a7, b4+b5, b6+b7] (per 128-bit half).
        var u0 = Avx.HorizontalAdd(Avx.HorizontalAdd(s0, s1), Avx.HorizontalAdd(s2, s3));   // [s0 s1 s2 s3 | s0 s1 s2 s3] halves
        var u1 = Avx.HorizontalAdd(Avx.HorizontalAdd(s4, s5), Avx.HorizontalAdd(s6, s7));   // [s4 s5 s6 s7 | s4 s5 s6 s7] halves
        return Avx.Permute2x128(u0, u1, 0x20) + Avx.Permute2x128(u0, u1, 0x31);
    }

    /// <summary>y[j..j+8) = the epilogue of the eight sums in <paramref name="acc"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreEight<TLayer>(ref float ry, int j, Vector256<float> acc, ref float rc, bool hasC) where TLayer : struct, IGemmLayer
    {
        var v = TLayer.Alpha == 1f ? acc : acc * TLayer.Alpha;
        if (hasC)
            v += (TLayer.CCols == 1 ? Vector256.Create(rc) : Vector256.LoadUnsafe(ref rc, (nuint)j)) * TLayer.Beta;
        if (IsVectorActivation(TLayer.Act))
        {
            if (TLayer.Act != Activation.None) v = ActivationKernel.Apply256(TLayer.Act, v, Vector256.Create(TLayer.P0), Vector256.Create(TLayer.P1));
            v.StoreUnsafe(ref ry, (nuint)j);
        }
        else
        {
            v.StoreUnsafe(ref ry, (nuint)j);
            if (TLayer.Act != Activation.None)
                for (int t = j; t < j + 8; t++) Unsafe.Add(ref ry, t) = ActivationKernel.Apply(TLayer.Act, Unsafe.Add(ref ry, t), TLayer.P0, TLayer.P1);
        }
    }

    /// <summary>y[j] = the epilogue of partial + a[p..k) . bj[p..k) (the dot product's tail, in order).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreDot<TLayer>(ref float ry, int j, float partial, ref float ra, ref float bj, int p, int k, ref float rc, bool hasC)
        where TLayer : struct, IGemmLayer
    {
        for (; p < k; p++) partial += Unsafe.Add(ref ra, p) * Unsafe.Add(ref bj, p);
        Unsafe.Add(ref ry, j) = Epilogue<TLayer>(partial, ref rc, hasC, j);
    }

    /// <summary>alpha * acc + beta * c[0, j] (c broadcast as in <see cref="RunScalar"/>), then the activation.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Epilogue<TLayer>(float acc, ref float rc, bool hasC, int j) where TLayer : struct, IGemmLayer
    {
        float v = TLayer.Alpha == 1f ? acc : TLayer.Alpha * acc;
        if (hasC) v += TLayer.Beta * Unsafe.Add(ref rc, TLayer.CCols == 1 ? 0 : j);
        return ActivationKernel.Apply(TLayer.Act, v, TLayer.P0, TLayer.P1);
    }
}
