namespace EdgeCompile.Compiler.Quantization;

/// <summary>
/// A real requantization multiplier M ≥ 0 as an integer multiplier and a right shift: M ≈ Multiplier / 2^Shift,
/// with Multiplier in [2^30, 2^31) and Shift in [0, 62] (or Multiplier = Shift = 0 for M &lt; 2^−32, whose
/// products always round to 0). Computed at build time by <see cref="FixedPoint.FromReal"/>.
/// </summary>
public readonly record struct FixedPointMultiplier(int Multiplier, int Shift)
{
    /// <summary>The real value represented, Multiplier · 2^−Shift (exact in double).</summary>
    public double Value => Math.ScaleB(Multiplier, -Shift);
}

/// <summary>
/// Integer-only requantization (docs/quantization.md, "Requantization"): the int8 kernels implement
/// <see cref="Requantize"/> bit-exactly.
/// <code>
///   M      = sIn · sW / sOut                      (evaluated in double from the float32 scales)
///   (m, n) = FromReal(M):  m = round_half_even(M · 2^(30−e)), n = 30 − e, where 2^e ≤ M &lt; 2^(e+1)
///                          (if m reaches 2^31: m = 2^30, n = n − 1)
///   y      = clamp( RHE(acc · m, n) + zp, qmin, qmax )
///   RHE(p, n) = p / 2^n rounded to nearest, ties to even:   q = p >> n (arithmetic, floor); r = p − (q &lt;&lt; n);
///               q + 1 if r > 2^(n−1) or (r = 2^(n−1) and q is odd), else q.   (n = 0: p.)
/// </code>
/// acc·m is an exact 64-bit product (|acc| ≤ 2^31, m &lt; 2^31, so |acc·m| ≤ 2^62), so y is acc·(m/2^n)
/// rounded once, half to even — the same rounding as ONNX QuantizeLinear.
/// </summary>
public static class FixedPoint
{
    public const int MinShift = 0, MaxShift = 62;

    /// <summary>The fixed-point form of <paramref name="real"/> (0 ≤ real &lt; 2^31, finite).</summary>
    public static FixedPointMultiplier FromReal(double real)
    {
        if (!(real >= 0) || !double.IsFinite(real) || real >= 2147483648.0)
            throw new ArgumentOutOfRangeException(nameof(real), real, "A requantization multiplier must be finite and in [0, 2^31).");
        if (real == 0) return new(0, 0);
        int e = Math.ILogB(real); // 2^e ≤ real < 2^(e+1)
        int shift = 30 - e;
        long m = (long)Math.Round(Math.ScaleB(real, shift), MidpointRounding.ToEven); // exact scaling, one rounding
        if (m == 1L << 31) { m = 1L << 30; shift--; }
        if (shift > MaxShift) return new(0, 0); // real < 2^-32: |acc·real| < 1/2 for every int32 acc
        if (shift < MinShift) throw new ArgumentOutOfRangeException(nameof(real), real, "Multiplier too large for the fixed-point form.");
        return new((int)m, shift);
    }

    /// <summary>The real multiplier of a layer, sIn · sW / sOut, in double.</summary>
    public static double RealMultiplier(float inputScale, float weightScale, float outputScale) =>
        (double)inputScale * weightScale / outputScale;

    /// <summary>p / 2^n rounded to nearest, ties to even (n in [0, 62]).</summary>
    public static long RoundingShiftRight(long p, int n)
    {
        if ((uint)n > MaxShift) throw new ArgumentOutOfRangeException(nameof(n));
        if (n == 0) return p;
        long q = p >> n;
        long r = p - (q << n);
        long half = 1L << (n - 1);
        if (r > half || (r == half && (q & 1) != 0)) q++;
        return q;
    }

    /// <summary>
    /// The scalar reference of requantization: clamp(RHE(acc · multiplier, shift) + zeroPoint, qmin, qmax).
    /// </summary>
    public static int Requantize(int acc, int multiplier, int shift, int zeroPoint, int qmin, int qmax)
    {
        long y = RoundingShiftRight((long)acc * multiplier, shift) + zeroPoint;
        return (int)Math.Clamp(y, qmin, qmax);
    }
}
