using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EdgeCompile.Kernels;

/// <summary>
/// Vector transcendental functions for the fast paths of Softmax/LogSoftmax, Exp, Sigmoid, Tanh, Erf and Gelu.
/// The scalar functions (MathF.Exp, MathF.Tanh, <see cref="SpecialFunctions"/>) stay the specification; these
/// approximate them within the tolerances stated here and asserted by the tests (ElementwiseTests,
/// NormalizationTests):
/// <list type="bullet">
/// <item>Exp: at most 2 ulp from MathF.Exp where the result is a normal float; subnormal results (x below
///   -87.33) within 1 ulp of the smallest normal (absolute 1.2e-38 · 2^-23 granularity, two roundings);
///   overflow to +∞ above 88.72, 0 below -103.98, NaN stays NaN.</item>
/// <item>Sigmoid: 1/(1+e^-x) (e^x/(1+e^x) for x &lt; 0, as the reference) on the vector exp: relative 4e-7.</item>
/// <item>Tanh: odd polynomial for |x| &lt; 0.625 (Cephes tanhf), 1 - 2/(e^2|x| + 1) above: relative 4e-7.</item>
/// <item>Erf: Taylor polynomial (7 terms) for |x| &lt; 0.5, 1 - erfc above with erfc = t·exp(-x² + P(t))
///   (the reference's Chebyshev fit, evaluated in float): absolute 2e-7.</item>
/// <item>Gelu: x/2 · erfc(-x/√2) as in the reference (no cancellation for negative x), from the reference's erfc fit
///   alone (see the notes at Gelu): relative 2e-6 plus absolute 1e-9 (the tests' worst |diff|/(|Gelu| + 1e-3) is
///   9.1e-7 on every path; the float a = |x|/√2 and exponent -a² limit the far negative tail, where |Gelu| &lt; 1e-4, to a
///   relative ~1.5x²·6e-8; below x ≈ -13 the result is a tiny value of at most 2e-38 where the reference underflows
///   to 0, -∞ gives NaN as in the reference).</item>
/// <item>512-bit forms (Exp, Gelu; used on the Vector256 path where AVX-512 is accelerated): the same bounds.</item>
/// <item>Softmax's exp-and-sum row on 512-bit vectors (<see cref="ExpNonPositive"/>, arguments ≤ 0): relative 4e-7
///   where the result is normal, absolute 2^-149 below, NaN stays NaN, e^-∞ = 0.</item>
/// </list>
/// </summary>
internal static class VectorMath
{
    private const float Log2E = 1.44269504088896341f;
    private const float Ln2Hi = 0.693359375f, Ln2Lo = -2.12194440e-4f;
    private const float Ln2 = 0.693147180559945309f;   // one-step reduction (Gelu, softmax rows): r off by |n|·1.9e-9 at most
    private const float ExpHi = 88.8f, ExpLo = -104f;
    // Cephes expf: e^r ≈ 1 + r + r²·P(r) on |r| ≤ ln2/2.
    private const float E0 = 1.9875691500e-4f, E1 = 1.3981999507e-3f, E2 = 8.3334519073e-3f, E3 = 4.1665795894e-2f, E4 = 1.6666665459e-1f, E5 = 5.0000001201e-1f;
    // Cephes tanhf: tanh(x) ≈ x + x³·Q(x²) on |x| < 0.625.
    private const float T0 = -5.70498872745e-3f, T1 = 2.06390887954e-2f, T2 = -5.37397155531e-2f, T3 = 1.33314422036e-1f, T4 = -3.33332819422e-1f;
    // erf(x) = 2/√π Σ (-1)^n x^(2n+1) / (n!(2n+1)), n = 0..6 (|x| < 0.5: truncation below 4e-10).
    private const float S0 = 1.1283791671f, S1 = -0.37612638903f, S2 = 0.11283791671f, S3 = -0.026866170645f, S4 = 0.0052239776254f, S5 = -8.5483270234e-4f, S6 = 1.2055332981e-4f;
    private const float InvSqrt2 = 0.70710678118654752f;

    // ---------------------------------------------------------------- exp

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Exp(Vector256<float> x)
    {
        var c = Vector256.Min(Vector256.Max(x, Vector256.Create(ExpLo)), Vector256.Create(ExpHi));
        var n = Vector256.Floor(Simd.MulAdd(c, Vector256.Create(Log2E), Vector256.Create(0.5f)));
        var r = Simd.MulAdd(n, Vector256.Create(-Ln2Hi), c);
        r = Simd.MulAdd(n, Vector256.Create(-Ln2Lo), r);
        var p = Simd.MulAdd(Vector256.Create(E0), r, Vector256.Create(E1));
        p = Simd.MulAdd(p, r, Vector256.Create(E2));
        p = Simd.MulAdd(p, r, Vector256.Create(E3));
        p = Simd.MulAdd(p, r, Vector256.Create(E4));
        p = Simd.MulAdd(p, r, Vector256.Create(E5));
        p = Simd.MulAdd(p, r * r, r) + Vector256<float>.One;
        // 2^n in two factors so that n in [-150, 128] never leaves the normal exponent range (subnormal results
        // round once, in the last multiplication).
        var ni = Vector256.ConvertToInt32(n);
        var n1 = Vector256.ShiftRightArithmetic(ni, 1);
        var n2 = ni - n1;
        var f1 = Vector256.ShiftLeft(n1 + Vector256.Create(127), 23).AsSingle();
        var f2 = Vector256.ShiftLeft(n2 + Vector256.Create(127), 23).AsSingle();
        var y = p * f1 * f2;
        return Vector256.ConditionalSelect(Vector256.Equals(x, x), y, x + x);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Exp(Vector128<float> x)
    {
        var c = Vector128.Min(Vector128.Max(x, Vector128.Create(ExpLo)), Vector128.Create(ExpHi));
        var n = Vector128.Floor(Simd.MulAdd(c, Vector128.Create(Log2E), Vector128.Create(0.5f)));
        var r = Simd.MulAdd(n, Vector128.Create(-Ln2Hi), c);
        r = Simd.MulAdd(n, Vector128.Create(-Ln2Lo), r);
        var p = Simd.MulAdd(Vector128.Create(E0), r, Vector128.Create(E1));
        p = Simd.MulAdd(p, r, Vector128.Create(E2));
        p = Simd.MulAdd(p, r, Vector128.Create(E3));
        p = Simd.MulAdd(p, r, Vector128.Create(E4));
        p = Simd.MulAdd(p, r, Vector128.Create(E5));
        p = Simd.MulAdd(p, r * r, r) + Vector128<float>.One;
        var ni = Vector128.ConvertToInt32(n);
        var n1 = Vector128.ShiftRightArithmetic(ni, 1);
        var n2 = ni - n1;
        var f1 = Vector128.ShiftLeft(n1 + Vector128.Create(127), 23).AsSingle();
        var f2 = Vector128.ShiftLeft(n2 + Vector128.Create(127), 23).AsSingle();
        var y = p * f1 * f2;
        return Vector128.ConditionalSelect(Vector128.Equals(x, x), y, x + x);
    }

    /// <summary>
    /// The 512-bit form of <see cref="Exp(Vector256{float})"/>, same reduction and polynomial (Estrin form) and the
    /// same bound, but n rounded with the 1.5·2^23 shifter and 2^n applied by vscalefps, which rounds subnormal results
    /// once and keeps NaN (no floor, convert, two-factor scaling or NaN select).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Exp(Vector512<float> x)
    {
        var c = Vector512.Min(Vector512.Max(x, Vector512.Create(ExpLo)), Vector512.Create(ExpHi));
        var n = Fma(c, Vector512.Create(Log2E), Vector512.Create(Shifter)) - Vector512.Create(Shifter);
        var r = Fma(n, Vector512.Create(-Ln2Hi), c);
        r = Fma(n, Vector512.Create(-Ln2Lo), r);
        var e = ExpM1Poly(r) + Vector512<float>.One;
        if (Avx512F.IsSupported) return Avx512F.Scale(e, n);
        var ni = Vector512.ConvertToInt32(n);
        var n1 = Vector512.ShiftRightArithmetic(ni, 1);
        var y = e * Vector512.ShiftLeft(n1 + Vector512.Create(127), 23).AsSingle() * Vector512.ShiftLeft(ni - n1 + Vector512.Create(127), 23).AsSingle();
        return Vector512.ConditionalSelect(Vector512.Equals(x, x), y, x + x);
    }

    /// <summary>
    /// e^d for d ≤ 0 (a softmax row minus its maximum; NaN stays NaN): d clamped at -104 (e^-104 rounds to 0), n by the
    /// shifter, r = d - n·ln2 in one step (off by |n|·1.9e-9), the degree-6 Taylor polynomial (1.2e-7), 2^n by
    /// vscalefps (subnormal results rounded once): within 4e-7 relative where the result is a normal float
    /// (3.5e-7 + rounding at d = -87, 2e-7 for d ≥ -20), absolute 2^-149 below.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> ExpNonPositive(Vector512<float> d)
    {
        var c = Vector512.Max(d, Vector512.Create(ExpLo));
        var n = Fma(c, Vector512.Create(Log2E), Vector512.Create(Shifter)) - Vector512.Create(Shifter);
        var e = ExpM1Taylor6(Fma(n, Vector512.Create(-Ln2), c)) + Vector512<float>.One;
        return Avx512F.IsSupported ? Avx512F.Scale(e, n) : Exp(d);
    }

    // ---------------------------------------------------------------- sigmoid, tanh

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Sigmoid(Vector256<float> x)
    {
        var e = Exp(-Vector256.Abs(x));                    // e^-|x| in (0, 1]
        var d = Vector256<float>.One + e;
        return Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256<float>.Zero), e / d, Vector256<float>.One / d);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Sigmoid(Vector128<float> x)
    {
        var e = Exp(-Vector128.Abs(x));
        var d = Vector128<float>.One + e;
        return Vector128.ConditionalSelect(Vector128.LessThan(x, Vector128<float>.Zero), e / d, Vector128<float>.One / d);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Tanh(Vector256<float> x)
    {
        var ax = Vector256.Abs(x);
        var x2 = x * x;
        var q = Simd.MulAdd(Vector256.Create(T0), x2, Vector256.Create(T1));
        q = Simd.MulAdd(q, x2, Vector256.Create(T2));
        q = Simd.MulAdd(q, x2, Vector256.Create(T3));
        q = Simd.MulAdd(q, x2, Vector256.Create(T4));
        var small = Simd.MulAdd(q * x2, ax, ax);
        var big = Vector256<float>.One - Vector256.Create(2f) / (Exp(ax + ax) + Vector256<float>.One);
        var y = Vector256.ConditionalSelect(Vector256.LessThan(ax, Vector256.Create(0.625f)), small, big);
        return Vector256.ConditionalSelect(Vector256.Create(-0f), x, y);   // tanh(|x|) with x's sign (-0 stays -0, NaN stays NaN)
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Tanh(Vector128<float> x)
    {
        var ax = Vector128.Abs(x);
        var x2 = x * x;
        var q = Simd.MulAdd(Vector128.Create(T0), x2, Vector128.Create(T1));
        q = Simd.MulAdd(q, x2, Vector128.Create(T2));
        q = Simd.MulAdd(q, x2, Vector128.Create(T3));
        q = Simd.MulAdd(q, x2, Vector128.Create(T4));
        var small = Simd.MulAdd(q * x2, ax, ax);
        var big = Vector128<float>.One - Vector128.Create(2f) / (Exp(ax + ax) + Vector128<float>.One);
        var y = Vector128.ConditionalSelect(Vector128.LessThan(ax, Vector128.Create(0.625f)), small, big);
        return Vector128.ConditionalSelect(Vector128.Create(-0f), x, y);
    }

    // ---------------------------------------------------------------- erf, erfc, gelu

    /// <summary>erf(z) for |z| &lt; 0.5 (odd Taylor polynomial).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> ErfSmall(Vector256<float> z)
    {
        var z2 = z * z;
        var s = Simd.MulAdd(Vector256.Create(S6), z2, Vector256.Create(S5));
        s = Simd.MulAdd(s, z2, Vector256.Create(S4));
        s = Simd.MulAdd(s, z2, Vector256.Create(S3));
        s = Simd.MulAdd(s, z2, Vector256.Create(S2));
        s = Simd.MulAdd(s, z2, Vector256.Create(S1));
        s = Simd.MulAdd(s, z2, Vector256.Create(S0));
        return s * z;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> ErfSmall(Vector128<float> z)
    {
        var z2 = z * z;
        var s = Simd.MulAdd(Vector128.Create(S6), z2, Vector128.Create(S5));
        s = Simd.MulAdd(s, z2, Vector128.Create(S4));
        s = Simd.MulAdd(s, z2, Vector128.Create(S3));
        s = Simd.MulAdd(s, z2, Vector128.Create(S2));
        s = Simd.MulAdd(s, z2, Vector128.Create(S1));
        s = Simd.MulAdd(s, z2, Vector128.Create(S0));
        return s * z;
    }

    /// <summary>erfc(a) for a ≥ 0: t·exp(-a² + P(t)), t = 1/(1 + a/2) (the reference's fit, relative 1.2e-7).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> ErfcPositive(Vector256<float> a)
    {
        var t = Vector256<float>.One / Simd.MulAdd(a, Vector256.Create(0.5f), Vector256<float>.One);
        var p = Simd.MulAdd(Vector256.Create(0.17087277f), t, Vector256.Create(-0.82215223f));
        p = Simd.MulAdd(p, t, Vector256.Create(1.48851587f));
        p = Simd.MulAdd(p, t, Vector256.Create(-1.13520398f));
        p = Simd.MulAdd(p, t, Vector256.Create(0.27886807f));
        p = Simd.MulAdd(p, t, Vector256.Create(-0.18628806f));
        p = Simd.MulAdd(p, t, Vector256.Create(0.09678418f));
        p = Simd.MulAdd(p, t, Vector256.Create(0.37409196f));
        p = Simd.MulAdd(p, t, Vector256.Create(1.00002368f));
        p = Simd.MulAdd(p, t, Vector256.Create(-1.26551223f));
        // The exponent -a² + p is rounded to float: with the rounding of z = -x/√2 in Gelu this limits the
        // relative accuracy of the far tail to ~3a²·6e-8 (absolute errors there are below 1e-9).
        return t * Exp(p - a * a);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> ErfcPositive(Vector128<float> a)
    {
        var t = Vector128<float>.One / Simd.MulAdd(a, Vector128.Create(0.5f), Vector128<float>.One);
        var p = Simd.MulAdd(Vector128.Create(0.17087277f), t, Vector128.Create(-0.82215223f));
        p = Simd.MulAdd(p, t, Vector128.Create(1.48851587f));
        p = Simd.MulAdd(p, t, Vector128.Create(-1.13520398f));
        p = Simd.MulAdd(p, t, Vector128.Create(0.27886807f));
        p = Simd.MulAdd(p, t, Vector128.Create(-0.18628806f));
        p = Simd.MulAdd(p, t, Vector128.Create(0.09678418f));
        p = Simd.MulAdd(p, t, Vector128.Create(0.37409196f));
        p = Simd.MulAdd(p, t, Vector128.Create(1.00002368f));
        p = Simd.MulAdd(p, t, Vector128.Create(-1.26551223f));
        // The exponent -a² + p is rounded to float: with the rounding of z = -x/√2 in Gelu this limits the
        // relative accuracy of the far tail to ~3a²·6e-8 (absolute errors there are below 1e-9).
        return t * Exp(p - a * a);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Erf(Vector256<float> x)
    {
        var ax = Vector256.Abs(x);
        var big = Vector256<float>.One - ErfcPositive(ax);
        big = Vector256.ConditionalSelect(Vector256.Create(-0f), x, big);   // sign of x
        var y = Vector256.ConditionalSelect(Vector256.LessThan(ax, Vector256.Create(0.5f)), ErfSmall(x), big);
        return Vector256.ConditionalSelect(Vector256.Equals(x, x), y, x);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Erf(Vector128<float> x)
    {
        var ax = Vector128.Abs(x);
        var big = Vector128<float>.One - ErfcPositive(ax);
        big = Vector128.ConditionalSelect(Vector128.Create(-0f), x, big);
        var y = Vector128.ConditionalSelect(Vector128.LessThan(ax, Vector128.Create(0.5f)), ErfSmall(x), big);
        return Vector128.ConditionalSelect(Vector128.Equals(x, x), y, x);
    }

    // Gelu: x/2 · erfc(z), z = -x/√2, with erfc from the reference's fit t·exp(-a² + P(t)), t = 1/(1 + a/2), a = |z|,
    // for every z (erfc(z) for z > 0, 2 - erfc(-z) below: no branch for small |z|; the fit is within 1.2e-7 relative
    // of erfc everywhere, and for z < 0 the result 2 - erfc(a) lies in [1, 2]). The 1/2 is folded in:
    // x/2 · erfc = x · h·E or x · (1 - h·E) with h = t/2 = 1/(2 + a), E = exp(P(2h) - a²), and P(2h) has the
    // coefficients c_k·2^k (exact in float). P runs as two Horner chains in h² (even and odd terms), e^v on v ≤ ~0 by GeluExp:
    // no NaN or overflow handling (x · w is NaN for a NaN x whatever w is), v clamped at -87.3 so 2^n stays a normal
    // float (below, e^v is read as e^-87.3 ≈ 1.2e-38: |Gelu| there is below 1e-37, inside the absolute bound), n
    // rounded with the 1.5·2^23 shifter instead of floor + convert, r = v - n·ln2 in one step (off by |n|·1.9e-9,
    // relative 2.4e-7 at the clamp, 4e-8 where |Gelu| > 1e-6). e^r on the reduced
    // argument is the degree-6 Taylor polynomial (truncation below 1.2e-7 relative for |r| ≤ ln2/2: one fewer term
    // than Exp, inside Gelu's bound). The 512-bit form applies 2^n with vscalefps.
    private const float P0 = -1.26551223f, P1 = 1.00002368f * 2f, P2 = 0.37409196f * 4f, P3 = 0.09678418f * 8f, P4 = -0.18628806f * 16f,
        P5 = 0.27886807f * 32f, P6 = -1.13520398f * 64f, P7 = 1.48851587f * 128f, P8 = -0.82215223f * 256f, P9 = 0.17087277f * 512f;
    private const float Shifter = 12582912f;   // 1.5·2^23: v·log2e + Shifter rounds to an integer held in the low mantissa bits
    private const float GeluExpLo = -87.3f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Fma(Vector512<float> a, Vector512<float> b, Vector512<float> c)
        => Avx512F.IsSupported ? Avx512F.FusedMultiplyAdd(a, b, c) : a * b + c;

    /// <summary>e^r - 1 ≈ r + r²·(E5 + E4 r + E3 r² + E2 r³ + E1 r⁴ + E0 r⁵) (Cephes), in Estrin form; |r| ≤ ln2/2.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> ExpM1Poly(Vector256<float> r)
    {
        var r2 = r * r;
        var a = Simd.MulAdd(Vector256.Create(E0), r, Vector256.Create(E1));
        var b = Simd.MulAdd(Vector256.Create(E2), r, Vector256.Create(E3));
        var c = Simd.MulAdd(Vector256.Create(E4), r, Vector256.Create(E5));
        var p = Simd.MulAdd(Simd.MulAdd(a, r2, b), r2, c);
        return Simd.MulAdd(p, r2, r);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> ExpM1Poly(Vector128<float> r)
    {
        var r2 = r * r;
        var a = Simd.MulAdd(Vector128.Create(E0), r, Vector128.Create(E1));
        var b = Simd.MulAdd(Vector128.Create(E2), r, Vector128.Create(E3));
        var c = Simd.MulAdd(Vector128.Create(E4), r, Vector128.Create(E5));
        var p = Simd.MulAdd(Simd.MulAdd(a, r2, b), r2, c);
        return Simd.MulAdd(p, r2, r);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> ExpM1Poly(Vector512<float> r)
    {
        var r2 = r * r;
        var a = Fma(Vector512.Create(E0), r, Vector512.Create(E1));
        var b = Fma(Vector512.Create(E2), r, Vector512.Create(E3));
        var c = Fma(Vector512.Create(E4), r, Vector512.Create(E5));
        var p = Fma(Fma(a, r2, b), r2, c);
        return Fma(p, r2, r);
    }

    /// <summary>e^r - 1 ≈ r + r²·(1/2 + r/6 + r²/24 + r³/120 + r⁴/720) (Taylor; |r| ≤ ln2/2: below 1.2e-7 relative).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> ExpM1Taylor6(Vector256<float> r)
    {
        var r2 = r * r;
        var b = Simd.MulAdd(Vector256.Create(1f / 720), r, Vector256.Create(1f / 120));
        var c = Simd.MulAdd(Vector256.Create(1f / 24), r, Vector256.Create(1f / 6));
        var p = Simd.MulAdd(Simd.MulAdd(b, r2, c), r, Vector256.Create(0.5f));
        return Simd.MulAdd(p, r2, r);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> GeluExp(Vector256<float> v)
    {
        v = Vector256.Max(v, Vector256.Create(GeluExpLo));
        var kf = Simd.MulAdd(v, Vector256.Create(Log2E), Vector256.Create(Shifter));
        var n = kf - Vector256.Create(Shifter);
        var r = Simd.MulAdd(n, Vector256.Create(-Ln2), v);
        var scale = Vector256.ShiftLeft(kf.AsInt32() + Vector256.Create(127), 23).AsSingle();
        return Simd.MulAdd(ExpM1Taylor6(r), scale, scale);
    }

    /// <summary>e^r - 1 ≈ r + r²·(1/2 + r/6 + r²/24 + r³/120 + r⁴/720) (Taylor; |r| ≤ ln2/2: below 1.2e-7 relative).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> ExpM1Taylor6(Vector128<float> r)
    {
        var r2 = r * r;
        var b = Simd.MulAdd(Vector128.Create(1f / 720), r, Vector128.Create(1f / 120));
        var c = Simd.MulAdd(Vector128.Create(1f / 24), r, Vector128.Create(1f / 6));
        var p = Simd.MulAdd(Simd.MulAdd(b, r2, c), r, Vector128.Create(0.5f));
        return Simd.MulAdd(p, r2, r);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> GeluExp(Vector128<float> v)
    {
        v = Vector128.Max(v, Vector128.Create(GeluExpLo));
        var kf = Simd.MulAdd(v, Vector128.Create(Log2E), Vector128.Create(Shifter));
        var n = kf - Vector128.Create(Shifter);
        var r = Simd.MulAdd(n, Vector128.Create(-Ln2), v);
        var scale = Vector128.ShiftLeft(kf.AsInt32() + Vector128.Create(127), 23).AsSingle();
        return Simd.MulAdd(ExpM1Taylor6(r), scale, scale);
    }

    /// <summary>e^r - 1 ≈ r + r²·(1/2 + r/6 + r²/24 + r³/120 + r⁴/720) (Taylor; |r| ≤ ln2/2: below 1.2e-7 relative).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> ExpM1Taylor6(Vector512<float> r)
    {
        var r2 = r * r;
        var b = Fma(Vector512.Create(1f / 720), r, Vector512.Create(1f / 120));
        var c = Fma(Vector512.Create(1f / 24), r, Vector512.Create(1f / 6));
        var p = Fma(Fma(b, r2, c), r, Vector512.Create(0.5f));
        return Fma(p, r2, r);
    }

    /// <summary>h·e^v (the multiply by h folded into the polynomial's last step, before 2^n).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> GeluExp(Vector512<float> v, Vector512<float> h)
    {
        v = Vector512.Max(v, Vector512.Create(GeluExpLo));
        var n = Fma(v, Vector512.Create(Log2E), Vector512.Create(Shifter)) - Vector512.Create(Shifter);
        var e = Fma(ExpM1Taylor6(Fma(n, Vector512.Create(-Ln2), v)), h, h);
        return Avx512F.IsSupported ? Avx512F.Scale(e, n) : e * Vector512.ShiftLeft(Vector512.ConvertToInt32(n) + Vector512.Create(127), 23).AsSingle();
    }

    /// <summary>P(2h) - a², P split into its even and odd parts in h² (two interleaved Horner chains).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> GeluExponent(Vector256<float> h, Vector256<float> a)
    {
        var h2 = h * h;
        var even = Simd.MulAdd(Vector256.Create(P8), h2, Vector256.Create(P6));
        var odd = Simd.MulAdd(Vector256.Create(P9), h2, Vector256.Create(P7));
        even = Simd.MulAdd(even, h2, Vector256.Create(P4));
        odd = Simd.MulAdd(odd, h2, Vector256.Create(P5));
        even = Simd.MulAdd(even, h2, Vector256.Create(P2));
        odd = Simd.MulAdd(odd, h2, Vector256.Create(P3));
        even = Simd.MulAdd(even, h2, Vector256.Create(P0));
        odd = Simd.MulAdd(odd, h2, Vector256.Create(P1));
        return Simd.MulAdd(-a, a, Simd.MulAdd(odd, h, even));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> GeluExponent(Vector128<float> h, Vector128<float> a)
    {
        var h2 = h * h;
        var even = Simd.MulAdd(Vector128.Create(P8), h2, Vector128.Create(P6));
        var odd = Simd.MulAdd(Vector128.Create(P9), h2, Vector128.Create(P7));
        even = Simd.MulAdd(even, h2, Vector128.Create(P4));
        odd = Simd.MulAdd(odd, h2, Vector128.Create(P5));
        even = Simd.MulAdd(even, h2, Vector128.Create(P2));
        odd = Simd.MulAdd(odd, h2, Vector128.Create(P3));
        even = Simd.MulAdd(even, h2, Vector128.Create(P0));
        odd = Simd.MulAdd(odd, h2, Vector128.Create(P1));
        return Simd.MulAdd(-a, a, Simd.MulAdd(odd, h, even));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> GeluExponent(Vector512<float> h, Vector512<float> a)
    {
        var h2 = h * h;
        var even = Fma(Vector512.Create(P8), h2, Vector512.Create(P6));
        var odd = Fma(Vector512.Create(P9), h2, Vector512.Create(P7));
        even = Fma(even, h2, Vector512.Create(P4));
        odd = Fma(odd, h2, Vector512.Create(P5));
        even = Fma(even, h2, Vector512.Create(P2));
        odd = Fma(odd, h2, Vector512.Create(P3));
        even = Fma(even, h2, Vector512.Create(P0));
        odd = Fma(odd, h2, Vector512.Create(P1));
        return Fma(-a, a, Fma(odd, h, even));
    }

    /// <summary>x/2 · erfc(-x/√2) (see the Gelu notes above).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Gelu(Vector256<float> x)
    {
        var a = Vector256.Abs(x) * Vector256.Create(InvSqrt2);
        var h = Vector256<float>.One / (a + Vector256.Create(2f));
        var he = h * GeluExp(GeluExponent(h, a));
        return x * Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256<float>.Zero), he, Vector256<float>.One - he);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Gelu(Vector128<float> x)
    {
        var a = Vector128.Abs(x) * Vector128.Create(InvSqrt2);
        var h = Vector128<float>.One / (a + Vector128.Create(2f));
        var he = h * GeluExp(GeluExponent(h, a));
        return x * Vector128.ConditionalSelect(Vector128.LessThan(x, Vector128<float>.Zero), he, Vector128<float>.One - he);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Gelu(Vector512<float> x)
    {
        var a = Vector512.Abs(x) * Vector512.Create(InvSqrt2);
        var h = Vector512<float>.One / (a + Vector512.Create(2f));
        var he = GeluExp(GeluExponent(h, a), h);
        return x * Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512<float>.Zero), he, Vector512<float>.One - he);
    }

    // ---------------------------------------------------------------- rows

    /// <summary>
    /// y[i] = e^(x[i] - sub) for a <paramref name="sub"/> not below any x[i] (the row maximum: softmax), x and y may be
    /// the same span; returns Σ y[i], summed across vector lanes and two accumulators (reordered); the tail uses
    /// MathF.Exp. The 256/128-bit vectors use <see cref="Exp(Vector256{float})"/> (2 ulp); <paramref name="wide"/>:
    /// 512-bit vectors on the Vector256 path where the CPU accelerates them, with <see cref="ExpNonPositive"/> (4e-7
    /// relative).
    /// </summary>
    public static float ExpRow(ReadOnlySpan<float> x, float sub, Span<float> y, Isa isa, bool wide = true)
    {
        ref float rx = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(x);
        ref float ry = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(y);
        int i = 0, len = x.Length;
        float s = 0f;
        if (isa == Isa.Vector256 && wide && Vector512.IsHardwareAccelerated && len >= 16)
        {
            var vs = Vector512.Create(sub);
            Vector512<float> acc0 = Vector512<float>.Zero, acc1 = Vector512<float>.Zero;
            for (; i <= len - 32; i += 32)
            {
                var e0 = ExpNonPositive(Vector512.LoadUnsafe(ref rx, (nuint)i) - vs);
                var e1 = ExpNonPositive(Vector512.LoadUnsafe(ref rx, (nuint)(i + 16)) - vs);
                e0.StoreUnsafe(ref ry, (nuint)i);
                e1.StoreUnsafe(ref ry, (nuint)(i + 16));
                acc0 += e0;
                acc1 += e1;
            }
            for (; i <= len - 16; i += 16)
            {
                var e0 = ExpNonPositive(Vector512.LoadUnsafe(ref rx, (nuint)i) - vs);
                e0.StoreUnsafe(ref ry, (nuint)i);
                acc0 += e0;
            }
            acc0 += acc1;
            var a256 = acc0.GetLower() + acc0.GetUpper();
            if (i <= len - 8)
            {
                var e = Exp(Vector256.LoadUnsafe(ref rx, (nuint)i) - Vector256.Create(sub));
                e.StoreUnsafe(ref ry, (nuint)i);
                a256 += e;
                i += 8;
            }
            s = Vector256.Sum(a256);
        }
        else if (isa == Isa.Vector256 && len >= 8)
        {
            var vs = Vector256.Create(sub);
            var acc = Vector256<float>.Zero;
            for (; i <= len - 8; i += 8)
            {
                var e = Exp(Vector256.LoadUnsafe(ref rx, (nuint)i) - vs);
                e.StoreUnsafe(ref ry, (nuint)i);
                acc += e;
            }
            s = Vector256.Sum(acc);
        }
        if (isa >= Isa.Vector128 && i <= len - 4)
        {
            var vs = Vector128.Create(sub);
            var acc = Vector128<float>.Zero;
            for (; i <= len - 4; i += 4)
            {
                var e = Exp(Vector128.LoadUnsafe(ref rx, (nuint)i) - vs);
                e.StoreUnsafe(ref ry, (nuint)i);
                acc += e;
            }
            s += Vector128.Sum(acc);
        }
        for (; i < len; i++)
        {
            float e = MathF.Exp(Unsafe.Add(ref rx, i) - sub);
            Unsafe.Add(ref ry, i) = e;
            s += e;
        }
        return s;
    }

    /// <summary>Σ e^(x[i] - sub), summed across vector lanes (reordered), without writing anything.</summary>
    public static float ExpSumRow(ReadOnlySpan<float> x, float sub, Isa isa)
    {
        ref float rx = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(x);
        int i = 0, len = x.Length;
        float s = 0f;
        if (isa == Isa.Vector256 && len >= 8)
        {
            var vs = Vector256.Create(sub);
            var acc = Vector256<float>.Zero;
            for (; i <= len - 8; i += 8) acc += Exp(Vector256.LoadUnsafe(ref rx, (nuint)i) - vs);
            s = Vector256.Sum(acc);
        }
        else if (isa >= Isa.Vector128 && len >= 4)
        {
            var vs = Vector128.Create(sub);
            var acc = Vector128<float>.Zero;
            for (; i <= len - 4; i += 4) acc += Exp(Vector128.LoadUnsafe(ref rx, (nuint)i) - vs);
            s = Vector128.Sum(acc);
        }
        for (; i < len; i++) s += MathF.Exp(Unsafe.Add(ref rx, i) - sub);
        return s;
    }
}
