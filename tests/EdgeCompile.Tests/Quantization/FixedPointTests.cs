using System.Numerics;
using EdgeCompile.Compiler.Quantization;

namespace EdgeCompile.Tests.Quantization;

public class FixedPointTests
{
    /// <summary>The exact definition: acc·m / 2^n rounded half to even (BigInteger arithmetic), plus zp, clamped.</summary>
    private static int Exact(int acc, int m, int n, int zp, int qmin, int qmax)
    {
        var p = (BigInteger)acc * m;
        var d = BigInteger.One << n;
        var q = BigInteger.Divide(p, d);
        var r = p - q * d;
        if (r.Sign < 0) { q -= 1; r += d; } // floor division
        var twice = 2 * r;
        if (twice > d || (twice == d && !q.IsEven)) q += 1;
        var y = q + zp;
        return (int)BigInteger.Max(qmin, BigInteger.Min(qmax, y));
    }

    [Theory]
    // multiplier 2^30 with shift 31 is exactly 0.5: ties go to even.
    [InlineData(1, 0)]   // 0.5 → 0
    [InlineData(3, 2)]   // 1.5 → 2
    [InlineData(5, 2)]   // 2.5 → 2
    [InlineData(7, 4)]   // 3.5 → 4
    [InlineData(-1, 0)]  // -0.5 → 0
    [InlineData(-3, -2)] // -1.5 → -2
    [InlineData(-5, -2)] // -2.5 → -2
    [InlineData(-7, -4)] // -3.5 → -4
    [InlineData(4, 2)]
    [InlineData(-4, -2)]
    public void TiesRoundToEven(int acc, int expected)
    {
        Assert.Equal(expected, FixedPoint.Requantize(acc, 1 << 30, 31, 0, int.MinValue, int.MaxValue));
    }

    [Fact]
    public void SaturatesAndAddsZeroPoint()
    {
        var half = FixedPoint.FromReal(0.5);
        Assert.Equal(255, FixedPoint.Requantize(10_000, half.Multiplier, half.Shift, 128, 0, 255));
        Assert.Equal(0, FixedPoint.Requantize(-10_000, half.Multiplier, half.Shift, 128, 0, 255));
        Assert.Equal(-128, FixedPoint.Requantize(int.MinValue, half.Multiplier, half.Shift, 0, -128, 127));
        Assert.Equal(127, FixedPoint.Requantize(int.MaxValue, half.Multiplier, half.Shift, 0, -128, 127));
        Assert.Equal(128 + 5, FixedPoint.Requantize(10, half.Multiplier, half.Shift, 128, 0, 255));
        Assert.Equal(128 - 5, FixedPoint.Requantize(-10, half.Multiplier, half.Shift, 128, 0, 255));
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(0.75)]
    [InlineData(1e-3)]
    [InlineData(1.0)]
    [InlineData(1.999999)]
    [InlineData(3.0e-9)]
    [InlineData(123456.789)]
    [InlineData(2147483647.0)]
    public void FromRealIsNormalizedAndClose(double real)
    {
        var f = FixedPoint.FromReal(real);
        Assert.InRange(f.Multiplier, 1 << 30, int.MaxValue);
        Assert.InRange(f.Shift, 0, 62);
        Assert.True(Math.Abs(f.Value - real) <= real * Math.ScaleB(1, -31), $"{real}: {f} = {f.Value}");
    }

    [Fact]
    public void RoundingUpToTwoToThe31Renormalizes()
    {
        // Just below 1: m would round to 2^31, so it becomes 2^30 with one less shift (exactly 1.0).
        var f = FixedPoint.FromReal(1 - Math.ScaleB(1, -40));
        Assert.Equal(1 << 30, f.Multiplier);
        Assert.Equal(30, f.Shift);
        Assert.Equal(1.0, f.Value);
    }

    [Fact]
    public void TinyAndZeroMultipliersGiveZero()
    {
        Assert.Equal(new FixedPointMultiplier(0, 0), FixedPoint.FromReal(0));
        var tiny = FixedPoint.FromReal(1e-12);
        Assert.Equal(new FixedPointMultiplier(0, 0), tiny);
        Assert.Equal(7, FixedPoint.Requantize(int.MaxValue, tiny.Multiplier, tiny.Shift, 7, -128, 127));
        Assert.Throws<ArgumentOutOfRangeException>(() => FixedPoint.FromReal(double.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => FixedPoint.FromReal(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => FixedPoint.FromReal(double.PositiveInfinity));
    }

    [Fact]
    public void LargeMultipliersAndAccumulatorsMatchExactArithmetic()
    {
        var rng = new Random(1234);
        int[] accs = [int.MinValue, int.MinValue + 1, -65536, -1, 0, 1, 65535, int.MaxValue];
        double[] reals = [1e-9, 2.3283064365386963e-10, 0.000123, 0.0371, 0.5, 0.9999999, 1.5, 17.25, 65536.5, 2147483647.0];
        foreach (var real in reals)
        {
            var f = FixedPoint.FromReal(real);
            foreach (int acc in accs.Concat(Enumerable.Range(0, 200).Select(_ => rng.Next(int.MinValue, int.MaxValue))))
                foreach (var (zp, lo, hi) in new[] { (0, int.MinValue, int.MaxValue), (128, 0, 255), (-3, -128, 127) })
                    Assert.Equal(Exact(acc, f.Multiplier, f.Shift, zp, lo, hi), FixedPoint.Requantize(acc, f.Multiplier, f.Shift, zp, lo, hi));
        }
    }

    [Fact]
    public void RandomMultipliersAndShiftsMatchExactArithmetic()
    {
        var rng = new Random(99);
        for (int i = 0; i < 20000; i++)
        {
            int m = rng.Next(1 << 30, int.MaxValue);
            int n = rng.Next(0, 63);
            int acc = rng.Next(int.MinValue, int.MaxValue);
            if (i % 5 == 0) acc = (acc >> n) << Math.Min(n, 30); // more exact ties
            Assert.Equal(Exact(acc, m, n, 0, int.MinValue, int.MaxValue), FixedPoint.Requantize(acc, m, n, 0, int.MinValue, int.MaxValue));
        }
    }

    [Fact]
    public void RequantizeAgreesWithRoundingTheRealProduct()
    {
        // With M = sIn·sW/sOut, Requantize gives round_half_even(acc·M') for the fixed-point M' = m/2^n (one rounding).
        var rng = new Random(7);
        for (int i = 0; i < 2000; i++)
        {
            float sIn = (float)(rng.NextDouble() * 0.1 + 1e-4), sW = (float)(rng.NextDouble() * 0.01 + 1e-5), sOut = (float)(rng.NextDouble() * 0.2 + 1e-3);
            var f = FixedPoint.FromReal(FixedPoint.RealMultiplier(sIn, sW, sOut));
            int acc = rng.Next(-1_000_000, 1_000_000);
            double y = Math.Round(acc * f.Value, MidpointRounding.ToEven); // exact: |acc·m| < 2^53
            Assert.Equal((int)Math.Clamp(y + 3, -128, 127), FixedPoint.Requantize(acc, f.Multiplier, f.Shift, 3, -128, 127));
        }
    }
}
