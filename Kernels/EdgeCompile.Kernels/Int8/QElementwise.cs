using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace EdgeCompile.Kernels;

/// <summary>
/// Int8 element-wise Add and Mul (ONNX QLinearAdd / QLinearMul) over u8 tensors, edge-rne64 rounding (Int8/README.md):
/// <code>
/// Add: y = clamp(yZero + RoundingShift((a - aZero) * aMultiplier + (b - bZero) * bMultiplier, 31 + shift), qmin, qmax)
/// Mul: y = clamp(yZero + RoundingShift((long)((a - aZero) * (b - bZero)) * multiplier, 31 + shift), qmin, qmax)
/// </code>
/// In int64, exact: |(a - aZero) * aMultiplier| &lt; 2^39. For Add, aMultiplier * 2^-(31+shift) = aScale / yScale and
/// likewise for b (both in [0, 2^31), chosen with one shared shift). b has a's length or 1 element (a scalar);
/// other broadcasts go through <c>Data.StridedCopy</c> first.
/// </summary>
public static class QElementwise
{
    /// <summary>Quantized Add; see the class summary.</summary>
    public static void Add(ReadOnlySpan<byte> a, int aZero, int aMultiplier, ReadOnlySpan<byte> b, int bZero, int bMultiplier, int shift,
        Span<byte> y, int yZero, int qmin, int qmax)
    {
        Validate(a, b, y, aZero, bZero, shift, yZero, qmin, qmax, "QElementwise.Add");
        if (aMultiplier < 0 || bMultiplier < 0) throw new ArgumentException("QElementwise.Add: multipliers must be in [0, 2^31).", nameof(aMultiplier));
        AddCore(QPaths.Best, a, aZero, aMultiplier, b, bZero, bMultiplier, shift, y, yZero, qmin, qmax);
    }

    /// <summary>Quantized Mul; multiplier in [2^30, 2^31) or 0; see the class summary.</summary>
    public static void Mul(ReadOnlySpan<byte> a, int aZero, ReadOnlySpan<byte> b, int bZero, Span<byte> y,
        int multiplier, int shift, int yZero, int qmin, int qmax)
    {
        Validate(a, b, y, aZero, bZero, shift, yZero, qmin, qmax, "QElementwise.Mul");
        Requantization.ValidateOne(multiplier, shift, "QElementwise.Mul");
        MulCore(QPaths.Best, a, aZero, b, bZero, y, multiplier, shift, yZero, qmin, qmax);
    }

    private static void Validate(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, Span<byte> y, int aZero, int bZero, int shift, int yZero, int qmin, int qmax, string kernel)
    {
        if (b.Length != a.Length && b.Length != 1) throw new ArgumentException($"{kernel}: b has {b.Length} elements, expected {a.Length} or 1.", nameof(b));
        if (y.Length != a.Length) throw new ArgumentException($"{kernel}: y has {y.Length} elements, expected {a.Length}.", nameof(y));
        if ((uint)aZero > 255 || (uint)bZero > 255) throw new ArgumentException($"{kernel}: zero points must be in [0, 255].", nameof(aZero));
        if (shift < Requantization.MinShift || shift > Requantization.MaxShift) throw new ArgumentException($"{kernel}: shift {shift} out of range.", nameof(shift));
        Requantization.ValidateRange(yZero, qmin, qmax, kernel);
    }

    /// <summary>8 zero-point-corrected int32 lanes from a (or b broadcast when the span has one element).</summary>
    private static Vector256<int> Load8Avx2(ReadOnlySpan<byte> s, int i, Vector256<int> zero)
        => s.Length == 1 ? Avx2.Subtract(Vector256.Create((int)s[0]), zero)
         : Avx2.Subtract(Avx2.ConvertToVector256Int32(Vector128.CreateScalar(MemoryMarshal.Read<ulong>(s.Slice(i, 8))).AsByte()), zero);

    private static (Vector128<int> Lo, Vector128<int> Hi) Load8Arm(ReadOnlySpan<byte> s, int i, Vector128<int> zero)
    {
        if (s.Length == 1) { var v = AdvSimd.Subtract(Vector128.Create((int)s[0]), zero); return (v, v); }
        var w = AdvSimd.ZeroExtendWideningLower(Vector64.Create(MemoryMarshal.Read<ulong>(s.Slice(i, 8))).AsByte());
        return (AdvSimd.Subtract(AdvSimd.ZeroExtendWideningLower(w.GetLower()).AsInt32(), zero), AdvSimd.Subtract(AdvSimd.ZeroExtendWideningUpper(w).AsInt32(), zero));
    }

    internal static void AddCore(QIsa isa, ReadOnlySpan<byte> a, int aZero, int aMultiplier, ReadOnlySpan<byte> b, int bZero, int bMultiplier, int shift,
        Span<byte> y, int yZero, int qmin, int qmax)
    {
        isa = QPaths.NoDot(isa);
        int i = 0, n = 31 + shift;
        if (isa == QIsa.Avx2 && n >= AddDoubleMinN && (Avx512F.IsSupported || Fma.IsSupported))
            i = AddDoubleAvx2(a, aZero, aMultiplier, b, bZero, bMultiplier, n, y, yZero, qmin, qmax);
        else if (isa == QIsa.Avx2)
        {
            var az = Vector256.Create(aZero); var bz = Vector256.Create(bZero);
            var ma = Vector256.Create((long)aMultiplier).AsInt32(); var mb = Vector256.Create((long)bMultiplier).AsInt32();
            var nv = Vector256.Create((ulong)n); var lo = Vector256.Create((long)(qmin - yZero)); var hi = Vector256.Create((long)(qmax - yZero));
            var z = Vector128.Create(yZero);
            for (; i + 8 <= a.Length; i += 8)
            {
                var da = Load8Avx2(a, i, az); var db = Load8Avx2(b, i, bz);
                var p0 = Avx2.Add(Avx2.Multiply(Avx2.ConvertToVector256Int64(da.GetLower()).AsInt32(), ma), Avx2.Multiply(Avx2.ConvertToVector256Int64(db.GetLower()).AsInt32(), mb));
                var p1 = Avx2.Add(Avx2.Multiply(Avx2.ConvertToVector256Int64(da.GetUpper()).AsInt32(), ma), Avx2.Multiply(Avx2.ConvertToVector256Int64(db.GetUpper()).AsInt32(), mb));
                var r = Vector256.Create(Requantization.RoundClampAvx2(p0, nv, lo, hi, z), Requantization.RoundClampAvx2(p1, nv, lo, hi, z));
                Requantization.StoreBytesAvx2(r, ref y[i]);
            }
        }
        else if (isa == QIsa.AdvSimd)
        {
            var az = Vector128.Create(aZero); var bz = Vector128.Create(bZero);
            var ma = Vector64.Create(aMultiplier); var mb = Vector64.Create(bMultiplier);
            var negN = Vector128.Create((long)-n); var lo = Vector128.Create((long)(qmin - yZero)); var hi = Vector128.Create((long)(qmax - yZero));
            var z = Vector64.Create(yZero);
            for (; i + 8 <= a.Length; i += 8)
            {
                var (a0, a1) = Load8Arm(a, i, az); var (b0, b1) = Load8Arm(b, i, bz);
                Vector64<int> R(Vector64<int> da, Vector64<int> db) => Requantization.RoundClampArm(
                    AdvSimd.Add(AdvSimd.MultiplyWideningLower(da, ma), AdvSimd.MultiplyWideningLower(db, mb)), negN, lo, hi, z);
                var r0 = Vector128.Create(R(a0.GetLower(), b0.GetLower()), R(a0.GetUpper(), b0.GetUpper()));
                var r1 = Vector128.Create(R(a1.GetLower(), b1.GetLower()), R(a1.GetUpper(), b1.GetUpper()));
                Requantization.StoreBytesArm(r0, r1, ref y[i]);
            }
        }
        for (; i < a.Length; i++)
        {
            long p = (long)(a[i] - aZero) * aMultiplier + (long)(b[b.Length == 1 ? 0 : i] - bZero) * bMultiplier;
            y[i] = (byte)Requantization.Clamp(yZero + Requantization.RoundingShift(p, n), qmin, qmax);
        }
    }

    /// <summary>Smallest n = 31 + shift for <see cref="AddDoubleAvx2"/>: |p| &lt; 2 · 255 · 2^31 = 2^40, so p · 2^-n stays below 2^31.</summary>
    internal const int AddDoubleMinN = 10;

    /// <summary>
    /// The AVX2 Add in doubles (AVX-512 when present), the same bytes as the int64 form: with sa = aMultiplier · 2^-n and
    /// sb = bMultiplier · 2^-n (exact: 31-bit integers times a power of two), da · sa and db · sb are exact (at most 40
    /// significant bits), and so is their sum, a multiple of 2^-n below 2^(41-n) (41 bits); the fused multiply-add
    /// da · sa + (db · sb) therefore rounds nothing, and vcvtpd2dq rounds p · 2^-n to nearest, ties to even: RoundingShift(p, n).
    /// Returns how many elements it wrote (a multiple of 8); the caller finishes the tail.
    /// </summary>
    private static int AddDoubleAvx2(ReadOnlySpan<byte> a, int aZero, int aMultiplier, ReadOnlySpan<byte> b, int bZero, int bMultiplier, int n,
        Span<byte> y, int yZero, int qmin, int qmax)
    {
        var az = Vector256.Create(aZero); var bz = Vector256.Create(bZero);
        double sa = Math.ScaleB(aMultiplier, -n), sb = Math.ScaleB(bMultiplier, -n);
        var lo = Vector256.Create(qmin - yZero); var hi = Vector256.Create(qmax - yZero); var z = Vector256.Create(yZero);
        int i = 0;
        if (Avx512F.IsSupported)
        {
            var va = Vector512.Create(sa); var vb = Vector512.Create(sb);
            for (; i + 8 <= a.Length; i += 8)
            {
                var pa = Avx512F.ConvertToVector512Double(Load8Avx2(a, i, az));
                var pb = Avx512F.ConvertToVector512Double(Load8Avx2(b, i, bz));
                var q = Avx512F.ConvertToVector256Int32(Avx512F.FusedMultiplyAdd(pa, va, Avx512F.Multiply(pb, vb)));
                Requantization.StoreBytesAvx2(Avx2.Add(Avx2.Min(Avx2.Max(q, lo), hi), z), ref y[i]);
            }
        }
        else
        {
            var va = Vector256.Create(sa); var vb = Vector256.Create(sb);
            for (; i + 8 <= a.Length; i += 8)
            {
                var da = Load8Avx2(a, i, az); var db = Load8Avx2(b, i, bz);
                var qLo = Avx.ConvertToVector128Int32(Fma.MultiplyAdd(Avx.ConvertToVector256Double(da.GetLower()), va, Avx.Multiply(Avx.ConvertToVector256Double(db.GetLower()), vb)));
                var qHi = Avx.ConvertToVector128Int32(Fma.MultiplyAdd(Avx.ConvertToVector256Double(da.GetUpper()), va, Avx.Multiply(Avx.ConvertToVector256Double(db.GetUpper()), vb)));
                Requantization.StoreBytesAvx2(Avx2.Add(Avx2.Min(Avx2.Max(Vector256.Create(qLo, qHi), lo), hi), z), ref y[i]);
            }
        }
        return i;
    }

    internal static void MulCore(QIsa isa, ReadOnlySpan<byte> a, int aZero, ReadOnlySpan<byte> b, int bZero, Span<byte> y,
        int multiplier, int shift, int yZero, int qmin, int qmax)
    {
        isa = QPaths.NoDot(isa);
        int i = 0;
        if (isa == QIsa.Avx2)
        {
            var az = Vector256.Create(aZero); var bz = Vector256.Create(bZero); var m = Vector256.Create(multiplier); var s = Vector256.Create(shift);
            for (; i + 8 <= a.Length; i += 8)
            {
                var prod = Avx2.MultiplyLow(Load8Avx2(a, i, az), Load8Avx2(b, i, bz));      // |.| <= 65025: exact
                Requantization.StoreBytesAvx2(Requantization.RequantizeAvx2(prod, m, s, yZero, qmin, qmax), ref y[i]);
            }
        }
        else if (isa == QIsa.AdvSimd)
        {
            var az = Vector128.Create(aZero); var bz = Vector128.Create(bZero); var m = Vector128.Create(multiplier); var s = Vector128.Create(shift);
            for (; i + 8 <= a.Length; i += 8)
            {
                var (a0, a1) = Load8Arm(a, i, az); var (b0, b1) = Load8Arm(b, i, bz);
                Requantization.StoreBytesArm(Requantization.RequantizeArm(AdvSimd.Multiply(a0, b0), m, s, yZero, qmin, qmax),
                    Requantization.RequantizeArm(AdvSimd.Multiply(a1, b1), m, s, yZero, qmin, qmax), ref y[i]);
            }
        }
        for (; i < a.Length; i++)
            y[i] = (byte)Requantization.Requantize((a[i] - aZero) * (b[b.Length == 1 ? 0 : i] - bZero), multiplier, shift, yZero, qmin, qmax);
    }
}
