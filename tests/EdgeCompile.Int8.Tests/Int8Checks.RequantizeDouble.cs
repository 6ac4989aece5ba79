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

    /// <summary>
    /// The block epilogue of the conv tiles in the double form (<see cref="Requantization.StoreBlockDoubleAvx2"/>): 1 to 8
    /// channels, each with its own multiplier, shift in [0, 30] and bias, accumulators (plus bias) at ±bound, near 0, random,
    /// and exact ties, a random zero point and clamp range (narrow ones included, so saturation before the clamp is exercised);
    /// every byte equals <see cref="Requantization.Requantize"/> of acc + bias, and the bytes between the channels' rows are
    /// left untouched.
    /// </summary>
    private static void RequantizeDoubleBlock()
    {
        if (!QPaths.IsSupported(QIsa.Avx2)) return;   // x64 AVX2 only: nothing else runs this code
        var r = new Random(54);
        var acc = new int[64]; var total = new long[64]; var scale = new double[8]; var bias = new int[8];
        var mult = new int[8]; var shift = new int[8];
        for (int it = 0; it < 3000; it++)
        {
            int nc = r.Next(1, 9), stride = 8 + r.Next(0, 6);
            for (int c = 0; c < nc; c++)
            {
                shift[c] = r.Next(0, Requantization.MaxShift + 1);
                mult[c] = r.Next(3) == 0 ? (r.Next(2) == 0 ? 1 << 30 : int.MaxValue) : (1 << 30) + r.Next(1 << 30);
                long limit = Math.Min(int.MaxValue, (Requantization.UniformAvx2.ExactDoubleProduct - 1) / mult[c]);
                long bound = r.Next(3) switch { 0 => limit, 1 => 9 * 255 * 127, _ => r.Next(1, (int)Math.Min(limit, int.MaxValue)) };
                bias[c] = (int)Math.Clamp(r.Next(-200000, 200000), -bound / 2, bound / 2);
                bool ties = shift[c] <= 15 && r.Next(4) == 0;   // ties: |odd| * 2^(n - 1) < 2^53 needs n < 47
                for (int i = 0; i < 8; i++)
                {
                    long t;
                    if (ties) { (int a, int m) = Tie(31 + shift[c], (2 * r.Next(-40, 40) + 1) * (i % 2 == 0 ? 1 : -1)); t = a; mult[c] = m; }
                    else t = r.Next(4) switch { 0 => bound, 1 => -bound, 2 => r.Next(-3, 4), _ => r.NextInt64(-bound, bound + 1) };
                    total[c * 8 + i] = t;
                }
                if (ties) bound = Enumerable.Range(0, 8).Max(i => Math.Abs(total[c * 8 + i]));
                // the kernel's promise: |acc + bias| <= bound with bound * multiplier < 2^53
                if (!Requantization.TryDoubleScale(mult[c], shift[c], bound, out scale[c]))
                    Fail($"double form refused: mult={mult[c]} shift={shift[c]} bound={bound}");
                for (int i = 0; i < 8; i++)
                {
                    long a = total[c * 8 + i] - bias[c];
                    if (a < int.MinValue || a > int.MaxValue) { bias[c] = 0; i = -1; continue; }   // keep acc in int32: retry without a bias
                    acc[c * 8 + i] = (int)a;
                }
            }
            int z = Zero(r); var (lo, hi) = r.Next(4) == 0 ? (r.Next(0, 50), r.Next(200, 256)) : Range(r, z);
            if (lo > hi) (lo, hi) = (hi, lo);
            var dst = new byte[(nc - 1) * stride + 8 + 3];
            Array.Fill(dst, (byte)0xA5);
            Requantization.StoreBlockDoubleForTest(acc, nc, scale, bias, dst, stride, z, lo, hi);
            for (int c = 0; c < nc; c++)
            {
                for (int i = 0; i < 8; i++)
                {
                    int e = Requantization.Requantize((int)total[c * 8 + i], mult[c], shift[c], z, lo, hi);
                    if (dst[c * stride + i] != e)
                        Fail($"StoreBlockDoubleAvx2 channel {c} lane {i}: acc+bias={total[c * 8 + i]} mult={mult[c]} shift={shift[c]} z={z} [{lo}, {hi}]: expected {e}, got {dst[c * stride + i]}");
                }
                for (int g = c * stride + 8; g < (c + 1 < nc ? (c + 1) * stride : dst.Length); g++)
                    if (dst[g] != 0xA5) Fail($"StoreBlockDoubleAvx2 wrote byte {g} between channel rows (nc={nc}, stride={stride})");
            }
        }
    }
}
