using CsCheck;
using EdgeCompile.Kernels.Tests.Support;
using Check = EdgeCompile.Kernels.Tests.Support.Check;

namespace EdgeCompile.Kernels.Tests;

/// <summary>
/// Property tests (CsCheck, with shrinking) of the float GEMM core's register tiles at their edges: m, n and k that are
/// not multiples of the tiles (8x16 zmm on <see cref="Isa.Vector512"/>, 4x16 ymm on <see cref="Isa.Vector256"/>), k = 0
/// and 1, k on both sides of <see cref="Gemm.PackMinDepth"/> and <see cref="Gemm.KBlock"/> (packed or not, one or
/// several k blocks), row and column strides wider than the matrix, each prologue (zeros, accumulate, row bias) and
/// every fused activation (the piecewise-linear ones applied in registers, the others per tile). Every path this
/// machine runs (<see cref="Check.GemmPaths"/>) is compared with the same sums done in order in scalar code. Tolerance:
/// 1e-5 relative plus 1e-5 absolute per unit of sqrt(k) (FMA rounding over sums of products of values in [-1, 1]).
/// </summary>
public class GemmTileTests
{
    private const int Iter = 250;

    private static readonly int[] EdgeDepths =
        [0, 1, 2, 7, Gemm.PackMinDepth - 1, Gemm.PackMinDepth, Gemm.PackMinDepth + 1, Gemm.KBlock - 1, Gemm.KBlock, Gemm.KBlock + 1];

    private static readonly Gen<int> Depth = Gen.OneOf(
        Gen.Int[0, 9].Select(i => EdgeDepths[i]),
        Gen.Int[0, 2 * Gemm.KBlock + 40]);

    private static readonly Gen<(int M, int K, int N, int Mode, int Act, int PadB, int PadC, int Seed)> Case =
        Gen.Select(Gen.Int[1, 41], Depth, Gen.Int[1, 70], Gen.Int[0, 2], Gen.Int[0, 7])
            .SelectMany(t => Gen.Select(Gen.Int[0, 3], Gen.Int[0, 3], Gen.Int, (pb, pc, seed) => (t.Item1, t.Item2, t.Item3, t.Item4, t.Item5, pb, pc, seed)));

    [Fact]
    public void Register_tiles_match_in_order_sums_at_every_edge()
    {
        Case.Sample(t => Compare(t.M, t.K, t.N, t.Mode, (Activation)t.Act, t.PadB, t.PadC, t.Seed), iter: Iter, threads: 1);
    }

    /// <summary>The shapes the benchmark models run (a 7x7 plane is 49 = 3 x 16 + 1 columns), with each prologue.</summary>
    [Theory]
    [InlineData(64, 576, 49)]
    [InlineData(24, 16, 3136)]
    [InlineData(96, 16, 1000)]
    [InlineData(40, 300, 196)]
    [InlineData(17, 63, 33)]
    [InlineData(512, 333, 49)]   // a ResNet stage-4 3x3 convolution's im2col chunk: rows outermost (Gemm.RowOuterMaxStrips)
    [InlineData(32, 300, 40)]    // rows outermost with a zero-padded 8-wide last strip
    [InlineData(24, 520, 64)]    // four strips: one past the rows-outermost limit
    [InlineData(960, 160, 49)]   // MobileNetV2's 7x7 expansion: rows outermost, each next 8-row block of A prefetched
    [InlineData(96, 576, 196)]   // MobileNetV2's 14x14 projection: dot tail first (prefetching A), then the strips
    public void Model_shapes_match_in_order_sums(int m, int k, int n)
    {
        for (int mode = 0; mode < 3; mode++)
            Compare(m, k, n, mode, mode == 1 ? Activation.Sigmoid : Activation.Relu, 0, 0, 1000 + mode);
    }

    /// <summary>
    /// A stored [k, m] (column stride m, as Gemm.Run with transA): no dot-product tail, so a narrow last strip is
    /// zero-padded, in both loop orders of the packed 512-bit path (up to <see cref="Gemm.RowOuterMaxStrips"/> strips
    /// and past it), with several k blocks.
    /// </summary>
    [Theory]
    [InlineData(40, 300, 49)]
    [InlineData(16, 70, 33)]
    [InlineData(24, 600, 70)]
    public void Transposed_a_matches_in_order_sums(int m, int k, int n)
    {
        var r = new Random(m * 1000 + n);
        var at = Check.Data(r, k * m);
        var b = Check.Data(r, k * n);
        var bias = Check.Data(r, m);
        var expected = new float[m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                float s = bias[i];
                for (int p = 0; p < k; p++) s += at[p * m + i] * b[p * n + j];
                expected[i * n + j] = ActivationKernel.Apply(Activation.Relu, s, 0f, 0f);
            }
        foreach (var isa in Check.GemmPaths())
        {
            var y = new float[m * n];
            Gemm.MultiplyNN(at, 1, m, b, n, y, n, m, k, n, accumulate: false, bias, Activation.Relu, 0f, 0f, isa);
            Check.Close(expected, y, $"MultiplyNN A^T m={m} k={k} n={n} {isa}", abs: 1e-5f * MathF.Sqrt(k));
        }
    }

    private static void Compare(int m, int k, int n, int mode, Activation act, int padB, int padC, int seed)
    {
        var r = new Random(seed);
        float p0 = act switch { Activation.Clip => -0.3f, Activation.LeakyRelu => 0.1f, Activation.HardSigmoid => 0.2f, _ => 0f };
        float p1 = act switch { Activation.Clip => 0.4f, Activation.HardSigmoid => 0.5f, _ => 0f };
        // Elements between rows (ldc > n) are C's padding: a tile must leave them as they were (the check compares them too).
        Check.MultiplyNNMatchesReference(r, m, k, n, mode, act, p0, p1, n + padB, n + padC);
    }
}
