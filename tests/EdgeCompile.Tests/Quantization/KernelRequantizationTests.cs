using EdgeCompile.Compiler.Lowering.Int8;
using EdgeCompile.Compiler.Quantization;
using K = EdgeCompile.Kernels.Requantization;

namespace EdgeCompile.Tests.Quantization;

/// <summary>
/// The build-time fixed point (FixedPoint: m / 2^n) converted by KernelRequantization.ToKernel gives the kernels'
/// edge-rne64 (RoundingShift(acc · multiplier, 31 + shift)) bit-identical results to FixedPoint.Requantize.
/// </summary>
public class KernelRequantizationTests
{
    private static readonly int[] EdgeAccs = [0, 1, -1, 2, -2, 3, -3, 255, -255, 32385, -32385, 1 << 20, -(1 << 20), (1 << 30) - 1, 1 << 30, -(1 << 30),
        int.MaxValue, int.MinValue, int.MaxValue - 1, int.MinValue + 1];

    private static void Check(FixedPointMultiplier fp, int acc, int zp, int qmin, int qmax, long accBound)
    {
        var k = KernelRequantization.ToKernel(fp, accBound);
        Assert.NotNull(k);
        var (m, s) = k.Value;
        Assert.True(m == 0 || (m >= 1 << 30), $"multiplier {m}");
        Assert.InRange(s, K.MinShift, K.MaxShift);
        int expected = FixedPoint.Requantize(acc, fp.Multiplier, fp.Shift, zp, qmin, qmax);
        Assert.Equal(expected, K.Requantize(acc, m, s, zp, qmin, qmax));
    }

    [Fact]
    public void Every_shift_and_edge_accumulator_agrees()
    {
        int[] ms = [1 << 30, (1 << 30) + 1, int.MaxValue, int.MaxValue - 1, 1518500250, 1 << 30 | 12345];
        for (int n = 0; n <= 61; n++)
            foreach (int m in ms)
                foreach (int acc in EdgeAccs)
                {
                    Check(new FixedPointMultiplier(m, n), acc, 0, int.MinValue, int.MaxValue, long.MaxValue);
                    Check(new FixedPointMultiplier(m, n), acc, 128, 0, 255, long.MaxValue);
                }
    }

    [Fact]
    public void Random_reals_and_accumulators_agree_and_match_the_kernels_own_split()
    {
        var rng = new Random(12345);
        for (int i = 0; i < 200_000; i++)
        {
            double real = Math.ScaleB(1 + rng.NextDouble(), rng.Next(-32, 30));
            var fp = FixedPoint.FromReal(real);
            int acc = rng.Next(4) switch { 0 => rng.Next(-300, 300), 1 => rng.Next(-(1 << 20), 1 << 20), 2 => rng.Next(int.MinValue, int.MaxValue), _ => EdgeAccs[rng.Next(EdgeAccs.Length)] };
            if (fp.Shift == 62 && Math.Abs((long)acc) > KernelRequantization.ZeroMultiplierExactBound) continue;
            Check(fp, acc, rng.Next(256), 0, 255, Math.Abs((long)acc));
            // Where both representations exist, the kernels' QuantizeMultiplier chooses the same constants.
            if (fp.Multiplier != 0 && fp.Shift <= 61)
            {
                int km = K.QuantizeMultiplier(real, out int ks);
                Assert.Equal((fp.Multiplier, fp.Shift - 31), (km, ks));
            }
        }
    }

    [Fact]
    public void Exact_ties_round_to_even_on_both_sides()
    {
        for (int n = 1; n <= 61; n++)
            for (int q = -5; q <= 5; q++)
            {
                // acc · 2^30 / 2^n = q + 1/2 exactly needs acc = (2q + 1) · 2^(n − 31).
                if (n < 31) continue;
                long acc = (2L * q + 1) << (n - 31);
                if (acc < int.MinValue || acc > int.MaxValue) continue;
                Check(new FixedPointMultiplier(1 << 30, n), (int)acc, 0, int.MinValue, int.MaxValue, long.MaxValue);
            }
    }

    [Fact]
    public void Shift_62_maps_to_zero_multiplier_exactly_within_the_bound_and_is_refused_beyond()
    {
        foreach (int m in new[] { 1 << 30, int.MaxValue })
        {
            foreach (int acc in new[] { 0, 1, -1, 1 << 30, -(1 << 30), 12345678 })
                Check(new FixedPointMultiplier(m, 62), acc, 7, 0, 255, 1L << 30);
            Assert.Null(KernelRequantization.ToKernel(new FixedPointMultiplier(m, 62), (1L << 30) + 1));
            // Beyond the bound the results really differ: acc = int.MinValue, m = 2^31 − 1 gives −1, not 0.
        }
        Assert.Equal(-1, FixedPoint.Requantize(int.MinValue, int.MaxValue, 62, 0, int.MinValue, int.MaxValue));
        Assert.Equal(((int, int)?)(0, K.MaxShift), KernelRequantization.ToKernel(new FixedPointMultiplier(0, 0), long.MaxValue));
    }
}
