using EdgeCompile.Kernels;

namespace EdgeCompile.Int8.Checks;

// The double form of UniformAvx2 (linked into the console self-test with Int8Checks.cs): taken when shift >= 0 and the
// caller's accumulator bound times the multiplier is below 2^53, and then the same integers as the scalar scheme.
public static partial class Int8Checks
{
    /// <summary>
    /// Every shift in [0, 30] (the double form's range) and some negative ones (never taken), multipliers at the ends of
    /// [2^30, 2^31) and random, bounds from 9-tap depthwise to the 2^53 limit (just below and just above it); accumulators at
    /// ±bound, near 0, random within the bound, and exact ties at n = 31 + shift. Checks that the form is taken exactly when
    /// it may be, and that it equals <see cref="Requantization.Requantize"/>.
    /// </summary>
    private static void RequantizeDouble()
    {
        if (!QPaths.IsSupported(QIsa.Avx2)) return;   // x64 AVX2 only: nothing else runs this code
        var r = new Random(53);
        var acc = new int[8]; var got = new int[8];
        for (int shift = -3; shift <= Requantization.MaxShift; shift++)
            foreach (int mult0 in new[] { 0, 1 << 30, int.MaxValue, (1 << 30) + r.Next(1 << 30), -1 })
                for (int it = 0; it < 24; it++)
                {
                    int mult = mult0 == -1 ? (1 << 30) + r.Next(1 << 30) : mult0;
                    long bound = it switch
                    {
                        0 => 9 * 255 * 127,
                        1 => 25 * 255 * 127 + 20000,
                        2 => mult == 0 ? int.MaxValue : Math.Min(int.MaxValue, (Requantization.UniformAvx2.ExactDoubleProduct - 1) / mult),   // largest bound taken
                        3 => mult == 0 ? int.MaxValue : Math.Min(int.MaxValue, (Requantization.UniformAvx2.ExactDoubleProduct - 1) / mult + 1),   // smallest not taken
                        _ => r.Next(1, 600) * 255L * 127 + r.Next(0, 100000),
                    };
                    int b = (int)Math.Min(bound, int.MaxValue);
                    if (mult0 == -1 && shift >= 0)
                    {
                        // exact ties at n = 31 + shift: acc * mult = odd * 2^(n - 1), both parities and signs; the bound is theirs
                        for (int i = 0; i < 8; i++) (acc[i], mult) = Tie(31 + shift, (2 * r.Next(-40, 40) + 1) * (i % 2 == 0 ? 1 : -1));
                        bound = acc.Max(v => Math.Abs((long)v));
                    }
                    else
                        for (int i = 0; i < 8; i++)
                            acc[i] = r.Next(4) switch { 0 => b, 1 => -b, 2 => r.Next(-3, 4), _ => r.Next(-b, b) };
                    int z = Zero(r); var (lo, hi) = Range(r, z);
                    bool taken = Requantization.UniformBoundedForTest(acc, mult, shift, z, lo, hi, bound, got);
                    bool expectTaken = shift >= 0 && bound <= int.MaxValue && bound * mult < Requantization.UniformAvx2.ExactDoubleProduct;
                    if (taken != expectTaken) Fail($"UniformAvx2 double form taken={taken}, expected {expectTaken} (mult={mult} shift={shift} bound={bound})");
                    for (int i = 0; i < 8; i++)
                    {
                        int e = Requantization.Requantize(acc[i], mult, shift, z, lo, hi);
                        if (got[i] != e) Fail($"UniformAvx2 (double form {taken}) acc={acc[i]} mult={mult} shift={shift} bound={bound} z={z} [{lo}, {hi}]: expected {e}, got {got[i]}");
                    }
                }
    }
}
