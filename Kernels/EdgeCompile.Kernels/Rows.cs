using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace EdgeCompile.Kernels;

/// <summary>
/// Row primitives shared by several kernel families (epilogues, axpy, dot products). Each takes the
/// path explicitly; the vector forms compute exactly what the scalar loop at the end computes, except
/// that <see cref="Axpy"/> may fuse (FMA) and the dot products reorder their sums.
/// </summary>
internal static class Rows
{
    /// <summary>y = alpha * y.</summary>
    public static void Scale(Span<float> y, float alpha, Isa isa)
    {
        if (alpha == 1f) return;
        ref float r = ref MemoryMarshal.GetReference(y);
        int i = 0, len = y.Length;
        if (isa == Isa.Vector256)
        {
            var va = Vector256.Create(alpha);
            for (; i <= len - 8; i += 8) (va * Vector256.LoadUnsafe(ref r, (nuint)i)).StoreUnsafe(ref r, (nuint)i);
        }
        else if (isa == Isa.Vector128)
        {
            var va = Vector128.Create(alpha);
            for (; i <= len - 4; i += 4) (va * Vector128.LoadUnsafe(ref r, (nuint)i)).StoreUnsafe(ref r, (nuint)i);
        }
        for (; i < len; i++) Unsafe.Add(ref r, i) = alpha * Unsafe.Add(ref r, i);
    }

    /// <summary>y = alpha * y + s.</summary>
    public static void ScaleAddScalar(Span<float> y, float alpha, float s, Isa isa)
    {
        ref float r = ref MemoryMarshal.GetReference(y);
        int i = 0, len = y.Length;
        if (isa == Isa.Vector256)
        {
            var va = Vector256.Create(alpha); var vs = Vector256.Create(s);
            for (; i <= len - 8; i += 8) (va * Vector256.LoadUnsafe(ref r, (nuint)i) + vs).StoreUnsafe(ref r, (nuint)i);
        }
        else if (isa == Isa.Vector128)
        {
            var va = Vector128.Create(alpha); var vs = Vector128.Create(s);
            for (; i <= len - 4; i += 4) (va * Vector128.LoadUnsafe(ref r, (nuint)i) + vs).StoreUnsafe(ref r, (nuint)i);
        }
        for (; i < len; i++) Unsafe.Add(ref r, i) = alpha * Unsafe.Add(ref r, i) + s;
    }

    /// <summary>y = alpha * y + beta * c (c has y's length).</summary>
    public static void ScaleAddScaled(Span<float> y, float alpha, ReadOnlySpan<float> c, float beta, Isa isa)
    {
        ref float r = ref MemoryMarshal.GetReference(y);
        ref float rc = ref MemoryMarshal.GetReference(c);
        int i = 0, len = y.Length;
        if (isa == Isa.Vector256)
        {
            var va = Vector256.Create(alpha); var vb = Vector256.Create(beta);
            for (; i <= len - 8; i += 8)
                (va * Vector256.LoadUnsafe(ref r, (nuint)i) + vb * Vector256.LoadUnsafe(ref rc, (nuint)i)).StoreUnsafe(ref r, (nuint)i);
        }
        else if (isa == Isa.Vector128)
        {
            var va = Vector128.Create(alpha); var vb = Vector128.Create(beta);
            for (; i <= len - 4; i += 4)
                (va * Vector128.LoadUnsafe(ref r, (nuint)i) + vb * Vector128.LoadUnsafe(ref rc, (nuint)i)).StoreUnsafe(ref r, (nuint)i);
        }
        for (; i < len; i++) Unsafe.Add(ref r, i) = alpha * Unsafe.Add(ref r, i) + beta * Unsafe.Add(ref rc, i);
    }

    /// <summary>y += a * x over y's length (FMA where present).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Axpy(ref float x, ref float y, int len, float a, Isa isa)
    {
        int i = 0;
        if (isa == Isa.Vector256)
        {
            var va = Vector256.Create(a);
            for (; i <= len - 8; i += 8)
                Simd.MulAdd(va, Vector256.LoadUnsafe(ref x, (nuint)i), Vector256.LoadUnsafe(ref y, (nuint)i)).StoreUnsafe(ref y, (nuint)i);
        }
        if (isa >= Isa.Vector128)
        {
            var va = Vector128.Create(a);
            for (; i <= len - 4; i += 4)
                Simd.MulAdd(va, Vector128.LoadUnsafe(ref x, (nuint)i), Vector128.LoadUnsafe(ref y, (nuint)i)).StoreUnsafe(ref y, (nuint)i);
        }
        for (; i < len; i++) Unsafe.Add(ref y, i) += a * Unsafe.Add(ref x, i);
    }

    /// <summary>Sum of x[i] * y[i] over k elements (lanes reordered).</summary>
    public static float Dot(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Isa isa)
    {
        ref float rx = ref MemoryMarshal.GetReference(x);
        ref float ry = ref MemoryMarshal.GetReference(y);
        int i = 0, len = x.Length;
        float s = 0f;
        if (isa == Isa.Vector256 && len >= 8)
        {
            var acc = Vector256<float>.Zero;
            for (; i <= len - 8; i += 8) acc = Simd.MulAdd(Vector256.LoadUnsafe(ref rx, (nuint)i), Vector256.LoadUnsafe(ref ry, (nuint)i), acc);
            s = Vector256.Sum(acc);
        }
        else if (isa >= Isa.Vector128 && len >= 4)
        {
            var acc = Vector128<float>.Zero;
            for (; i <= len - 4; i += 4) acc = Simd.MulAdd(Vector128.LoadUnsafe(ref rx, (nuint)i), Vector128.LoadUnsafe(ref ry, (nuint)i), acc);
            s = Vector128.Sum(acc);
        }
        for (; i < len; i++) s += Unsafe.Add(ref rx, i) * Unsafe.Add(ref ry, i);
        return s;
    }

    /// <summary>Four dot products of x[0..k) with rows b[r*ldb ..] (r = 0..3), sharing the loads of x.</summary>
    public static void Dot4(ReadOnlySpan<float> x, ReadOnlySpan<float> b, int ldb, int k, Isa isa,
        out float d0, out float d1, out float d2, out float d3)
    {
        ref float rx = ref MemoryMarshal.GetReference(x);
        ref float b0 = ref MemoryMarshal.GetReference(b);
        ref float b1 = ref Unsafe.Add(ref b0, ldb);
        ref float b2 = ref Unsafe.Add(ref b1, ldb);
        ref float b3 = ref Unsafe.Add(ref b2, ldb);
        int i = 0;
        d0 = d1 = d2 = d3 = 0f;
        if (isa == Isa.Vector256 && k >= 8)
        {
            Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default;
            for (; i <= k - 8; i += 8)
            {
                var xv = Vector256.LoadUnsafe(ref rx, (nuint)i);
                s0 = Simd.MulAdd(xv, Vector256.LoadUnsafe(ref b0, (nuint)i), s0);
                s1 = Simd.MulAdd(xv, Vector256.LoadUnsafe(ref b1, (nuint)i), s1);
                s2 = Simd.MulAdd(xv, Vector256.LoadUnsafe(ref b2, (nuint)i), s2);
                s3 = Simd.MulAdd(xv, Vector256.LoadUnsafe(ref b3, (nuint)i), s3);
            }
            d0 = Vector256.Sum(s0); d1 = Vector256.Sum(s1); d2 = Vector256.Sum(s2); d3 = Vector256.Sum(s3);
        }
        else if (isa >= Isa.Vector128 && k >= 4)
        {
            Vector128<float> s0 = default, s1 = default, s2 = default, s3 = default;
            for (; i <= k - 4; i += 4)
            {
                var xv = Vector128.LoadUnsafe(ref rx, (nuint)i);
                s0 = Simd.MulAdd(xv, Vector128.LoadUnsafe(ref b0, (nuint)i), s0);
                s1 = Simd.MulAdd(xv, Vector128.LoadUnsafe(ref b1, (nuint)i), s1);
                s2 = Simd.MulAdd(xv, Vector128.LoadUnsafe(ref b2, (nuint)i), s2);
                s3 = Simd.MulAdd(xv, Vector128.LoadUnsafe(ref b3, (nuint)i), s3);
            }
            d0 = Vector128.Sum(s0); d1 = Vector128.Sum(s1); d2 = Vector128.Sum(s2); d3 = Vector128.Sum(s3);
        }
        for (; i < k; i++)
        {
            float xv = Unsafe.Add(ref rx, i);
            d0 += xv * Unsafe.Add(ref b0, i); d1 += xv * Unsafe.Add(ref b1, i);
            d2 += xv * Unsafe.Add(ref b2, i); d3 += xv * Unsafe.Add(ref b3, i);
        }
    }
}
