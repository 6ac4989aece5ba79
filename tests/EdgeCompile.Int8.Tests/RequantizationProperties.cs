using CsCheck;
using EdgeCompile.Int8.Checks;
using EdgeCompile.Kernels;

namespace EdgeCompile.Int8.Tests;

/// <summary>
/// Property tests (CsCheck, shrinking to a minimal failing case) of the vector requantization forms against the scalar
/// <c>edge-rne64</c> scheme (<see cref="Requantization.Requantize"/>): the per-channel <c>UniformAvx2</c> and the per-lane
/// <c>RequantizeAvx2</c> (through <c>QGemm.RequantizeBlock</c>, with its byte store). Covers every multiplier/shift in the README's ranges, any int32
/// accumulator (the extremes drawn often), any zero point and [qmin, qmax], and exact ties at every rounding bit n.
/// </summary>
public class RequantizationProperties
{
    private const int Iter = 20_000;

    private static readonly Gen<int> Acc = Gen.Frequency<int>(
        (1, Gen.OneOf(int.MinValue, int.MinValue + 1, -1, 0, 1, int.MaxValue - 1, int.MaxValue)),
        (1, Gen.Int[-70_000, 70_000]),
        (3, Gen.Int));

    private static readonly Gen<int> Multiplier = Gen.Frequency<int>(
        (1, Gen.OneOf(0, 1 << 30, int.MaxValue)),
        (6, Gen.Int[1 << 30, int.MaxValue]));

    private static readonly Gen<int> Shift = Gen.Int[Requantization.MinShift, Requantization.MaxShift];

    /// <summary>zOut, qmin, qmax with qmin &lt;= qmax in [0, 255].</summary>
    private static readonly Gen<(int Z, int Lo, int Hi)> Output =
        Gen.Select(Gen.Int[0, 255], Gen.Int[0, 255], Gen.Int[0, 255], (z, a, b) => (z, Math.Min(a, b), Math.Max(a, b)));

    /// <summary>One channel: 8 accumulators, one multiplier/shift; a quarter of the cases are exact ties at n = 31 + shift.</summary>
    private static readonly Gen<(int[] Acc, int Mult, int Shift, (int Z, int Lo, int Hi) O)> Channel =
        Gen.Select(Acc.Array[8], Multiplier, Shift, Output, Gen.Int[0, 3], Gen.Int[-1000, 1000].Array[8])
            .Select(t =>
            {
                var (acc, mult, shift, o, kind, odd) = t;
                int n = 31 + shift;
                if (kind != 0 || n == 0) return (acc, mult, shift, o);
                var tied = new int[8];
                for (int i = 0; i < 8; i++) (tied[i], mult) = Int8Checks.Tie(n, 2 * odd[i] + 1);
                return (tied, mult, shift, o);
            });

    [X64Avx2Fact]
    public void UniformMatchesScalar() =>
        Channel.Sample(c =>
        {
            var got = new int[8];
            QGemm.RequantizeUniformForTest(c.Acc, c.Mult, c.Shift, c.O.Z, c.O.Lo, c.O.Hi, got);
            for (int i = 0; i < 8; i++)
                if (got[i] != Requantization.Requantize(c.Acc[i], c.Mult, c.Shift, c.O.Z, c.O.Lo, c.O.Hi)) return false;
            return true;
        }, iter: Iter, threads: 1);

    /// <summary>The double form: accumulators within a random bound (the double form is taken when bound · multiplier &lt; 2^53).</summary>
    [X64Avx2Fact]
    public void BoundedUniformMatchesScalar() =>
        Gen.Select(Gen.Long[1, int.MaxValue], Multiplier, Gen.Int[0, Requantization.MaxShift], Output, Gen.Double[-1, 1].Array[8])
            .Sample((bound, mult, shift, o, f) =>
            {
                var acc = f.Select(v => (int)Math.Round(v * bound)).ToArray();
                var got = new int[8];
                bool taken = Requantization.UniformBoundedForTest(acc, mult, shift, o.Z, o.Lo, o.Hi, bound, got);
                if (taken != (bound * mult < Requantization.UniformAvx2.ExactDoubleProduct)) return false;
                for (int i = 0; i < 8; i++)
                    if (got[i] != Requantization.Requantize(acc[i], mult, shift, o.Z, o.Lo, o.Hi)) return false;
                return true;
            }, iter: Iter, threads: 1);

    [X64Avx2Fact]
    public void PerLaneMatchesScalar() =>
        Gen.Select(Acc.Array[8], Multiplier.Array[8], Shift.Array[8], Output).Sample((acc, mult, shift, o) =>
        {
            var got = new byte[8];
            QGemm.RequantizeBlock(QIsa.Avx2, acc, mult, shift, o.Z, o.Lo, o.Hi, got);
            for (int i = 0; i < 8; i++)
                if (got[i] != Requantization.Requantize(acc[i], mult[i], shift[i], o.Z, o.Lo, o.Hi)) return false;
            return true;
        }, iter: Iter, threads: 1);
}

/// <summary>A fact skipped, with the reason, where the CPU has no AVX2 (the code under test is x64 AVX2).</summary>
public sealed class X64Avx2FactAttribute : FactAttribute
{
    public X64Avx2FactAttribute()
    {
        if (!System.Runtime.Intrinsics.X86.Avx2.IsSupported) Skip = "the AVX2 requantization forms need an x64 CPU with AVX2";
    }
}
