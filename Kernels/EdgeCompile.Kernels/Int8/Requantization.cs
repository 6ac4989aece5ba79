using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace EdgeCompile.Kernels;

/// <summary>
/// The runtime requantization scheme of the int8 kernels, named <c>edge-rne64</c> (Int8/README.md):
/// <code>
/// q = clamp(zOut + RoundingShift((long)acc * multiplier, 31 + shift), qmin, qmax)
/// RoundingShift(v, n) = v / 2^n rounded to nearest, ties to even (n = 0: v)
/// </code>
/// with <c>multiplier</c> in [2^30, 2^31) or 0 and <c>shift</c> in [-31, 30] (so n in [0, 61]); the real scale is
/// multiplier * 2^-(31 + shift). The 64-bit product never saturates (|acc * multiplier| &lt; 2^62) and the
/// rounding is exact. Fused ReLU/ReLU6/Clip narrow [qmin, qmax].
/// </summary>
public static class Requantization
{
    /// <summary>Smallest and largest <c>shift</c> accepted by the kernels.</summary>
    public const int MinShift = -31, MaxShift = 30;

    /// <summary>
    /// Splits a positive real scale into (multiplier, shift) with scale ≈ multiplier * 2^-(31 + shift), multiplier in
    /// [2^30, 2^31) rounded to nearest (ties to even). Scales below 2^-31 give multiplier 0 (shift 30): the output is the
    /// zero point. The build-time quantizer may choose its own constants; the kernels only require the ranges.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The scale is not finite, is negative, or is 2^31 or more.</exception>
    public static int QuantizeMultiplier(double realScale, out int shift)
    {
        if (!double.IsFinite(realScale) || realScale < 0) throw new ArgumentOutOfRangeException(nameof(realScale), "scale must be finite and >= 0.");
        if (realScale == 0) { shift = MaxShift; return 0; }
        int e = Math.ILogB(realScale) + 1;                     // realScale = f * 2^e, f in [0.5, 1)
        double f = Math.ScaleB(realScale, -e);
        long m = (long)Math.Round(f * (1L << 31), MidpointRounding.ToEven);
        if (m == 1L << 31) { m = 1L << 30; e++; }
        shift = -e;
        if (shift > MaxShift) { shift = MaxShift; return 0; }
        if (shift < MinShift) throw new ArgumentOutOfRangeException(nameof(realScale), "scale must be < 2^31.");
        return (int)m;
    }

    /// <summary>v / 2^n rounded to nearest, ties to even; n in [0, 62], |v| &lt; 2^62.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static long RoundingShift(long v, int n)
    {
        if (n == 0) return v;
        long half = 1L << (n - 1);
        long floor = v >> n;
        long rem = v - (floor << n);                            // in [0, 2^n)
        return rem > half || (rem == half && (floor & 1) != 0) ? floor + 1 : floor;
    }

    /// <summary>clamp(zOut + RoundingShift((long)acc * multiplier, 31 + shift), qmin, qmax): the whole scheme.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Requantize(int acc, int multiplier, int shift, int zOut, int qmin, int qmax)
        => Clamp(zOut + RoundingShift((long)acc * multiplier, 31 + shift), qmin, qmax);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int Clamp(long v, int lo, int hi) => v < lo ? lo : v > hi ? hi : (int)v;

    /// <summary>Round half to even of num / den for den &gt; 0 (exact integer arithmetic); used by average pooling.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int DivideRoundEven(int num, int den)
    {
        int q = num / den, r = num % den;
        if (r < 0) { q--; r += den; }                          // floor division, r in [0, den)
        long twice = 2L * r;
        return twice > den || (twice == den && (q & 1) != 0) ? q + 1 : q;
    }

    internal static void ValidateParams(ReadOnlySpan<int> multiplier, ReadOnlySpan<int> shift, int channels, int zOut, int qmin, int qmax, string kernel)
    {
        if (multiplier.Length != 1 && multiplier.Length != channels)
            throw new ArgumentException($"{kernel}: multiplier has {multiplier.Length} elements, expected 1 or {channels}.", nameof(multiplier));
        if (shift.Length != multiplier.Length)
            throw new ArgumentException($"{kernel}: shift has {shift.Length} elements, expected {multiplier.Length} (as multiplier).", nameof(shift));
        if (!AllValid(multiplier, shift))
            for (int i = 0; i < multiplier.Length; i++) ValidateOne(multiplier[i], shift[i], kernel);
        ValidateRange(zOut, qmin, qmax, kernel);
    }

    /// <summary>Whether every multiplier is 0 or in [2^30, 2^31) and every shift in [MinShift, MaxShift]: 8 channels per step
    /// with AVX2 (per-channel constants are checked on every call, so the batch-1 kernels keep this cheap); the caller
    /// reruns the scalar check to name the bad element.</summary>
    private static bool AllValid(ReadOnlySpan<int> multiplier, ReadOnlySpan<int> shift)
    {
        int i = 0;
        if (Avx2.IsSupported && multiplier.Length >= 8)
        {
            ref int m0 = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(multiplier);
            ref int s0 = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(shift);
            var bad = Vector256<int>.Zero;
            var low = Vector256.Create(1 << 30);
            var minS = Vector256.Create(MinShift);
            var maxS = Vector256.Create(MaxShift);
            for (; i + 8 <= multiplier.Length; i += 8)
            {
                var mv = Vector256.LoadUnsafe(ref m0, (nuint)i);
                var sv = Vector256.LoadUnsafe(ref s0, (nuint)i);
                // bad: m != 0 and m < 2^30 (negatives included), or shift outside [MinShift, MaxShift].
                bad = Avx2.Or(bad, Avx2.AndNot(Avx2.CompareEqual(mv, Vector256<int>.Zero), Avx2.CompareGreaterThan(low, mv)));
                // MinShift > s, or s > MaxShift.
                bad = Avx2.Or(bad, Avx2.Or(Avx2.CompareGreaterThan(minS, sv), Avx2.CompareGreaterThan(sv, maxS)));
            }
            if (!Avx.TestZ(bad, bad)) return false;
        }
        for (; i < multiplier.Length; i++)
        {
            int m = multiplier[i], s = shift[i];
            if ((m != 0 && m < 1 << 30) || s < MinShift || s > MaxShift) return false;
        }
        return true;
    }

    internal static void ValidateOne(int multiplier, int shift, string kernel)
    {
        if (multiplier != 0 && multiplier < 1 << 30) throw new ArgumentException($"{kernel}: multiplier {multiplier} is not 0 or in [2^30, 2^31).", nameof(multiplier));
        if (shift < MinShift || shift > MaxShift) throw new ArgumentException($"{kernel}: shift {shift} is not in [{MinShift}, {MaxShift}].", nameof(shift));
    }

    internal static void ValidateRange(int zOut, int qmin, int qmax, string kernel)
    {
        if (zOut < 0 || zOut > 255) throw new ArgumentException($"{kernel}: output zero point {zOut} is not in [0, 255].", nameof(zOut));
        if (qmin < 0 || qmax > 255 || qmin > qmax) throw new ArgumentException($"{kernel}: [qmin, qmax] = [{qmin}, {qmax}] is not a range inside [0, 255].", nameof(qmin));
    }

    // ---------------------------------------------------------------- SIMD forms (bit-exact with RoundingShift)
    //
    // RoundingShift(v, n) = (v + half - odd + (bit n of v & odd)) >> n (arithmetic), where half = 2^n >> 1 and
    // odd = 1 if n > 0 else 0: adding 2^(n-1) - 1 plus the parity of the truncated quotient rounds ties to even.
    // |v| < 2^62 so the sum cannot overflow. AVX2 has no 64-bit arithmetic shift: x >> n = ((x ^ 2^63) >>> n) - (2^63 >>> n).

    /// <summary>AVX2: clamp(zOut + RoundingShift(p, n)) for 4 int64 lanes, given lo = qmin - zOut and hi = qmax - zOut; 4 int32 results.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector128<int> RoundClampAvx2(Vector256<long> p, Vector256<ulong> n, Vector256<long> lo, Vector256<long> hi, Vector128<int> zOut)
    {
        var half = Avx2.ShiftRightLogical(Avx2.ShiftLeftLogicalVariable(Vector256.Create(1L), n), 1);
        var odd = Avx2.ShiftRightLogical(Avx2.Subtract(Vector256<long>.Zero, half), 63);
        var bit = Avx2.And(Avx2.ShiftRightLogicalVariable(p, n), odd);
        var t = Avx2.Add(Avx2.Subtract(Avx2.Add(p, half), odd), bit);
        var sign = Vector256.Create(long.MinValue);
        var r = Avx2.Subtract(Avx2.ShiftRightLogicalVariable(Avx2.Xor(t, sign), n), Avx2.ShiftRightLogicalVariable(sign, n));
        r = Vector256.ConditionalSelect(Avx2.CompareGreaterThan(lo, r), lo, r);
        r = Vector256.ConditionalSelect(Avx2.CompareGreaterThan(r, hi), hi, r);
        var low = Avx2.PermuteVar8x32(r.AsInt32(), Vector256.Create(0, 2, 4, 6, 0, 2, 4, 6)).GetLower();
        return Sse2.Add(low, zOut);
    }

    /// <summary>AVX2: <see cref="Requantize"/> of 8 int32 accumulators with per-lane multiplier and shift.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<int> RequantizeAvx2(Vector256<int> acc, Vector256<int> multiplier, Vector256<int> shift, int zOut, int qmin, int qmax)
    {
        var n = Avx2.Add(shift, Vector256.Create(31));
        var lo = Vector256.Create((long)(qmin - zOut));
        var hi = Vector256.Create((long)(qmax - zOut));
        var z = Vector128.Create(zOut);
        var pLo = Avx2.Multiply(Avx2.ConvertToVector256Int64(acc.GetLower()).AsInt32(), Avx2.ConvertToVector256Int64(multiplier.GetLower()).AsInt32());
        var pHi = Avx2.Multiply(Avx2.ConvertToVector256Int64(acc.GetUpper()).AsInt32(), Avx2.ConvertToVector256Int64(multiplier.GetUpper()).AsInt32());
        var rLo = RoundClampAvx2(pLo, Avx2.ConvertToVector256Int64(n.GetLower()).AsUInt64(), lo, hi, z);
        var rHi = RoundClampAvx2(pHi, Avx2.ConvertToVector256Int64(n.GetUpper()).AsUInt64(), lo, hi, z);
        return Vector256.Create(rLo, rHi);
    }

    /// <summary>
    /// AVX2 requantization with one multiplier and shift for all 8 lanes (one output channel), constants prepared once.
    /// For shift &gt;= 0 (n = 31 + shift &gt;= 31, every real scale below 1) the rounded value fits int32 (|acc * multiplier|
    /// &lt; 2^62), so the products stay in their 64-bit lanes (vpmuldq on even and odd lanes, no widening shuffles), are
    /// rounded with uniform shifts (for n &gt;= 32 the final shift is a 32-bit arithmetic shift of the high dwords) and clamped
    /// in int32: the same integers as <see cref="RequantizeAvx2"/>. Other shifts use <see cref="RequantizeAvx2"/>.
    /// </summary>
    internal readonly struct UniformAvx2
    {
        private readonly Vector256<int> _mult, _lo, _hi, _z, _shift;
        private readonly Vector128<long> _n;
        private readonly Vector256<long> _add, _signShifted;
        private readonly Vector128<int> _n32;
        private readonly Vector512<double> _scale;
        private readonly int _zOut, _qmin, _qmax;
        private readonly bool _fast, _high, _double;

        /// <summary>Largest |acc| · multiplier for which the product is exact in a double (2^53).</summary>
        internal const long ExactDoubleProduct = 1L << 53;

        /// <summary>
        /// As <see cref="UniformAvx2(int, int, int, int, int)"/> for accumulators known to satisfy |acc| &lt;= <paramref name="accBound"/>
        /// (the kernel's reduction length times 255 · 127 plus |bias|). When shift &gt;= 0 and accBound · multiplier &lt; 2^53,
        /// <see cref="Apply"/> takes the double form: acc · (multiplier · 2^-n) is exact in a double (the product has at most
        /// 53 significant bits and the power of two only moves the exponent), and vcvtpd2dq rounds it to nearest, ties to
        /// even (the MXCSR default .NET runs with) — exactly RoundingShift, so the same integers in 3 instructions per
        /// 8 lanes with AVX-512 (6 with AVX2) instead of the 64-bit integer sequence. The result fits int32 (|acc| &lt; 2^31,
        /// scale &lt; 1). Accumulators beyond the bound would give wrong results: callers pass a true bound.
        /// </summary>
        public UniformAvx2(int multiplier, int shift, int zOut, int qmin, int qmax, long accBound) : this(multiplier, shift, zOut, qmin, qmax)
        {
            if (TryDoubleScale(multiplier, shift, accBound, out double scale))
            {
                _double = true;
                _scale = Vector512.Create(scale);
            }
        }

        public UniformAvx2(int multiplier, int shift, int zOut, int qmin, int qmax)
        {
            int n = 31 + shift;
            _fast = shift >= 0;
            _high = shift >= 1;
            _n32 = Vector128.CreateScalar(Math.Max(n - 32, 0));
            _mult = Vector256.Create(multiplier);
            _shift = Vector256.Create(shift);
            _n = Vector128.CreateScalar((long)n);
            _add = Vector256.Create((1L << (n - 1)) - 1);
            _signShifted = Vector256.Create((long)(0x8000_0000_0000_0000UL >> n));
            _lo = Vector256.Create(qmin - zOut); _hi = Vector256.Create(qmax - zOut); _z = Vector256.Create(zOut);
            _zOut = zOut; _qmin = qmin; _qmax = qmax;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<int> Apply(Vector256<int> acc)
        {
            if (_double)
            {
                Vector256<int> q;
                if (Avx512F.IsSupported) q = Avx512F.ConvertToVector256Int32(Avx512F.Multiply(Avx512F.ConvertToVector512Double(acc), _scale));
                else q = Vector256.Create(Avx.ConvertToVector128Int32(Avx.Multiply(Avx.ConvertToVector256Double(acc.GetLower()), _scale.GetLower())),
                    Avx.ConvertToVector128Int32(Avx.Multiply(Avx.ConvertToVector256Double(acc.GetUpper()), _scale.GetLower())));
                return Avx2.Add(Avx2.Min(Avx2.Max(q, _lo), _hi), _z);
            }
            if (!_fast) return RequantizeAvx2(acc, _mult, _shift, _zOut, _qmin, _qmax);
            var pe = Avx2.Multiply(acc, _mult);
            var po = Avx2.Multiply(Avx2.ShiftRightLogical(acc.AsInt64(), 32).AsInt32(), _mult);
            Vector256<int> r;
            if (_high)
            {
                // n >= 32: t >> n = (high dword of t) >> (n - 32), an arithmetic 32-bit shift of the 8 high dwords.
                var te = Avx2.Add(Avx2.Add(pe, _add), Avx2.And(Avx2.ShiftRightLogical(pe, _n), Vector256.Create(1L)));
                var to = Avx2.Add(Avx2.Add(po, _add), Avx2.And(Avx2.ShiftRightLogical(po, _n), Vector256.Create(1L)));
                var high = Avx2.Blend(Avx2.ShiftRightLogical(te, 32).AsInt32(), to.AsInt32(), 0b10101010);
                r = Avx2.ShiftRightArithmetic(high, _n32);
            }
            else r = Avx2.Blend(Round(pe).AsInt32(), Avx2.ShiftLeftLogical(Round(po), 32).AsInt32(), 0b10101010);
            return Avx2.Add(Avx2.Min(Avx2.Max(r, _lo), _hi), _z);
        }

        /// <summary>True when <see cref="Apply"/> takes the double form.</summary>
        public bool IsDouble => _double;

        /// <summary>RoundingShift(p, n) for n &gt;= 31: (p + 2^(n-1) - 1 + bit n of p) &gt;&gt; n, the arithmetic shift done with
        /// the sign-flip identity (x &gt;&gt; n = ((x ^ 2^63) &gt;&gt;&gt; n) - (2^63 &gt;&gt;&gt; n)).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private Vector256<long> Round(Vector256<long> p)
        {
            var bit = Avx2.And(Avx2.ShiftRightLogical(p, _n), Vector256.Create(1L));
            var t = Avx2.Add(Avx2.Add(p, _add), bit);
            return Avx2.Subtract(Avx2.ShiftRightLogical(Avx2.Xor(t, Vector256.Create(long.MinValue)), _n), _signShifted);
        }
    }

    /// <summary>
    /// The double form's condition and constant (<see cref="UniformAvx2(int, int, int, int, int, long)"/>): for shift &gt;= 0 and
    /// accumulators with |acc| &lt;= <paramref name="accBound"/> where accBound · multiplier &lt; 2^53, round-to-nearest-even of
    /// acc · <paramref name="scale"/> (scale = multiplier · 2^-(31 + shift), exact) is RoundingShift(acc · multiplier, 31 + shift).
    /// </summary>
    internal static bool TryDoubleScale(int multiplier, int shift, long accBound, out double scale)
    {
        bool ok = shift >= 0 && accBound >= 0 && accBound <= int.MaxValue && accBound * multiplier < UniformAvx2.ExactDoubleProduct;
        scale = ok ? Math.ScaleB(multiplier, -(31 + shift)) : 0;
        return ok;
    }

    /// <summary>
    /// AVX2 (AVX-512 when present) epilogue of one 8-channel x 8-pixel micro-kernel block in the double form: per channel c &lt;
    /// <paramref name="nc"/>, the 8 accumulators acc[c * 8 ..] plus bias[c] are requantized with scale[c] (from
    /// <see cref="TryDoubleScale"/>, which the caller checked for every channel) and stored as 8 bytes at dst + c · dstStride.
    /// The zero point and clamp are applied after narrowing: sat16(q) +sat zOut, then u8 saturation, then [qmin, qmax]
    /// (qmin, qmax in [0, 255], so every saturation lands outside the clamp range on the same side as the exact value): the
    /// same bytes as clamp(q + zOut, qmin, qmax). A separate method with the constants in registers, so the callers' tile
    /// loops stay out of its way.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal static void StoreBlockDoubleAvx2(ref int acc, int nc, ref double scale, ref int bias, ref byte dst, nint dstStride, int zOut, int qmin, int qmax)
    {
        var z = Vector128.Create((short)zOut);
        var lo = Vector128.Create((byte)qmin);
        var hi = Vector128.Create((byte)qmax);
        for (int c = 0; c < nc; c++)
        {
            var v = Avx2.Add(Vector256.LoadUnsafe(ref acc, (nuint)(c * 8)), Vector256.Create(Unsafe.Add(ref bias, c)));
            double sc = Unsafe.Add(ref scale, c);
            Vector128<int> qLo, qHi;
            if (Avx512F.IsSupported)
            {
                var q = Avx512F.ConvertToVector256Int32(Avx512F.Multiply(Avx512F.ConvertToVector512Double(v), Vector512.Create(sc)));
                qLo = q.GetLower(); qHi = q.GetUpper();
            }
            else
            {
                var s4 = Vector256.Create(sc);
                qLo = Avx.ConvertToVector128Int32(Avx.Multiply(Avx.ConvertToVector256Double(v.GetLower()), s4));
                qHi = Avx.ConvertToVector128Int32(Avx.Multiply(Avx.ConvertToVector256Double(v.GetUpper()), s4));
            }
            var w = Sse2.AddSaturate(Sse2.PackSignedSaturate(qLo, qHi), z);
            var b = Sse2.Min(Sse2.Max(Sse2.PackUnsignedSaturate(w, w), lo), hi);
            Unsafe.WriteUnaligned(ref Unsafe.Add(ref dst, c * dstStride), b.AsUInt64().ToScalar());
        }
    }

    /// <summary>Tests: <see cref="StoreBlockDoubleAvx2"/> on acc[c * 8 + lane] (c &lt; nc), bytes to dst[c * dstStride + lane].</summary>
    internal static void StoreBlockDoubleForTest(ReadOnlySpan<int> acc, int nc, ReadOnlySpan<double> scale, ReadOnlySpan<int> bias, Span<byte> dst, int dstStride,
        int zOut, int qmin, int qmax)
    {
        if (nc < 1 || nc > 8 || acc.Length < 8 * nc || scale.Length < nc || bias.Length < nc || dstStride < 8 || dst.Length < (nc - 1) * dstStride + 8)
            throw new ArgumentException("StoreBlockDoubleForTest: bad arguments.");
        StoreBlockDoubleAvx2(ref System.Runtime.InteropServices.MemoryMarshal.GetReference(acc), nc, ref System.Runtime.InteropServices.MemoryMarshal.GetReference(scale),
            ref System.Runtime.InteropServices.MemoryMarshal.GetReference(bias), ref System.Runtime.InteropServices.MemoryMarshal.GetReference(dst), dstStride, zOut, qmin, qmax);
    }

    /// <summary>Tests: <see cref="UniformAvx2"/> with an accumulator bound (the double form where it applies) over 8 accumulators;
    /// returns whether the double form was taken.</summary>
    internal static bool UniformBoundedForTest(ReadOnlySpan<int> acc8, int multiplier, int shift, int zOut, int qmin, int qmax, long accBound, Span<int> out8)
    {
        var rq = new UniformAvx2(multiplier, shift, zOut, qmin, qmax, accBound);
        rq.Apply(Vector256.LoadUnsafe(ref System.Runtime.InteropServices.MemoryMarshal.GetReference(acc8))).StoreUnsafe(ref System.Runtime.InteropServices.MemoryMarshal.GetReference(out8));
        return rq.IsDouble;
    }

    /// <summary>AdvSimd: clamp(zOut + RoundingShift(p, n)) for 2 int64 lanes (negN = -n); 2 int32 results.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector64<int> RoundClampArm(Vector128<long> p, Vector128<long> negN, Vector128<long> lo, Vector128<long> hi, Vector64<int> zOut)
    {
        var half = AdvSimd.ShiftRightLogical(AdvSimd.ShiftLogical(Vector128.Create(1L), AdvSimd.Arm64.Negate(negN)), 1);
        var odd = AdvSimd.And(AdvSimd.Arm64.CompareTest(half, half), Vector128.Create(1L));
        var bit = AdvSimd.And(AdvSimd.ShiftLogical(p, negN), odd);
        var t = AdvSimd.Add(AdvSimd.Subtract(AdvSimd.Add(p, half), odd), bit);
        var r = AdvSimd.ShiftArithmetic(t, negN);
        r = Vector128.ConditionalSelect(AdvSimd.Arm64.CompareGreaterThan(lo, r), lo, r);
        r = Vector128.ConditionalSelect(AdvSimd.Arm64.CompareGreaterThan(r, hi), hi, r);
        return AdvSimd.Add(AdvSimd.ExtractNarrowingLower(r), zOut);
    }

    /// <summary>AdvSimd: <see cref="Requantize"/> of 4 int32 accumulators with per-lane multiplier and shift.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector128<int> RequantizeArm(Vector128<int> acc, Vector128<int> multiplier, Vector128<int> shift, int zOut, int qmin, int qmax)
    {
        var negN = AdvSimd.Negate(AdvSimd.Add(shift, Vector128.Create(31)));
        var lo = Vector128.Create((long)(qmin - zOut));
        var hi = Vector128.Create((long)(qmax - zOut));
        var z = Vector64.Create(zOut);
        var pLo = AdvSimd.MultiplyWideningLower(acc.GetLower(), multiplier.GetLower());
        var pHi = AdvSimd.MultiplyWideningUpper(acc, multiplier);
        var rLo = RoundClampArm(pLo, AdvSimd.SignExtendWideningLower(negN.GetLower()), lo, hi, z);
        var rHi = RoundClampArm(pHi, AdvSimd.SignExtendWideningUpper(negN), lo, hi, z);
        return Vector128.Create(rLo, rHi);
    }

    /// <summary>Stores 8 int32 values already in [0, 255] as bytes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void StoreBytesAvx2(Vector256<int> v, ref byte dst)
    {
        var w = Sse2.PackSignedSaturate(v.GetLower(), v.GetUpper());          // 8 int16, in order
        Unsafe.WriteUnaligned(ref dst, Sse2.PackUnsignedSaturate(w, w).AsUInt64().ToScalar());
    }

    /// <summary>Stores 8 int32 values (two vectors) already in [0, 255] as bytes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void StoreBytesArm(Vector128<int> lo, Vector128<int> hi, ref byte dst)
    {
        var s = AdvSimd.ExtractNarrowingUpper(AdvSimd.ExtractNarrowingLower(lo), hi);
        Unsafe.WriteUnaligned(ref dst, AdvSimd.ExtractNarrowingLower(s).AsByte());
    }
}
