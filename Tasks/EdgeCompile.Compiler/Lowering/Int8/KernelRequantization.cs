using EdgeCompile.Compiler.Quantization;

namespace EdgeCompile.Compiler.Lowering.Int8;

/// <summary>
/// The boundary between the build-time fixed point (<see cref="FixedPoint"/>: y = RHE(acc · m, n), m in [2^30, 2^31),
/// n in [0, 62], or (0, 0)) and the kernels' <c>edge-rne64</c> (y = RoundingShift(acc · multiplier, 31 + shift),
/// multiplier in [2^30, 2^31) or 0, shift in [−31, 30]). Both round the same exact 64-bit product once, half to even,
/// so for n in [0, 61] the conversion is the identity on the multiplier and shift = n − 31 (bit-exact; tested over
/// random and extreme accumulators in KernelRequantizationTests).
/// <para>
/// The ranges differ only at n = 62 (real multiplier in [2^−32, 2^−31)), which the kernels cannot express. Rule:
/// n = 62 becomes multiplier 0 (shift 30), which is exact whenever |acc| ≤ 2^30: then |acc · m| ≤ 2^30 · (2^31 − 1)
/// &lt; 2^61 = half of 2^62, so RHE(acc · m, 62) = 0 (a tie at exactly 2^61 is impossible below 2^30 · 2^31 and would
/// round to the even 0 anyway). The lowering passes the largest possible |acc| of the layer
/// (32385 · k + max |bias| for Conv/Gemm, 255 for average pooling); above 2^30 it refuses (EDGE2101) rather than
/// change a result. (0, 0) — M &lt; 2^−32 — becomes (0, 30): both give 0 for every acc.
/// </para>
/// </summary>
public static class KernelRequantization
{
    /// <summary>Largest |acc| for which n = 62 may be represented as multiplier 0.</summary>
    public const long ZeroMultiplierExactBound = 1L << 30;

    /// <summary>Kernel (multiplier, shift) of a build-time fixed-point multiplier, or null when not exactly representable for |acc| ≤ accBound.</summary>
    public static (int Multiplier, int Shift)? ToKernel(FixedPointMultiplier fp, long accBound)
    {
        if (fp.Multiplier == 0) return (0, EdgeCompile.Kernels.Requantization.MaxShift);
        if (fp.Shift <= 61) return (fp.Multiplier, fp.Shift - 31);
        return accBound <= ZeroMultiplierExactBound ? (0, EdgeCompile.Kernels.Requantization.MaxShift) : null;
    }
}
