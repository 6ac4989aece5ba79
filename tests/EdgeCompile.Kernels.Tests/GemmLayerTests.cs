using EdgeCompile.Kernels.Tests.Support;

namespace EdgeCompile.Kernels.Tests;

/// <summary>
/// The layer-specialized entry point <see cref="Gemm.Run{TLayer}"/> (structs as the generator emits them) against
/// the scalar reference <see cref="Gemm.RunScalar"/>, within the stated float tolerance (1e-5 relative + 1e-5 absolute):
/// the matrix-vector kernel on each path it has (Vector256 forced when the machine has it, and its scalar loop), and the
/// forwarding of other shapes to the general path.
/// </summary>
public class GemmLayerTests
{
    // A dense layer like the tiny MLP's: [1, 64] x [128, 64]^T + bias row, Relu.
    private struct Mlp : IGemmLayer
    {
        public static int M => 1; public static int K => 64; public static int N => 128;
        public static bool TransA => false; public static bool TransB => true;
        public static float Alpha => 1f; public static float Beta => 1f;
        public static int CRows => 1; public static int CCols => 128;
        public static Activation Act => Activation.Relu; public static float P0 => 0f; public static float P1 => 0f;
    }

    // Ragged: k below one vector plus a tail, n not a multiple of 4, scalar c, alpha/beta not 1, LeakyRelu.
    private struct Ragged : IGemmLayer
    {
        public static int M => 1; public static int K => 13; public static int N => 10;
        public static bool TransA => false; public static bool TransB => true;
        public static float Alpha => 0.5f; public static float Beta => 2f;
        public static int CRows => 1; public static int CCols => 1;
        public static Activation Act => Activation.LeakyRelu; public static float P0 => 0.1f; public static float P1 => 0f;
    }

    // No c, k < 8 (only the scalar tail of the dot products), Clip.
    private struct Short : IGemmLayer
    {
        public static int M => 1; public static int K => 5; public static int N => 7;
        public static bool TransA => false; public static bool TransB => true;
        public static float Alpha => 1f; public static float Beta => 1f;
        public static int CRows => 0; public static int CCols => 0;
        public static Activation Act => Activation.Clip; public static float P0 => -0.3f; public static float P1 => 0.4f;
    }

    // k a multiple of 8 (the eight sums reduced together), scalar c, alpha/beta not 1, a non-vector activation.
    private struct Reduced : IGemmLayer
    {
        public static int M => 1; public static int K => 32; public static int N => 27;
        public static bool TransA => false; public static bool TransB => true;
        public static float Alpha => 0.5f; public static float Beta => 2f;
        public static int CRows => 1; public static int CCols => 1;
        public static Activation Act => Activation.Sigmoid; public static float P0 => 0f; public static float P1 => 0f;
    }

    // k a multiple of 8, no c, HardSwish (piecewise linear: applied to the vector of eight).
    private struct ReducedNoC : IGemmLayer
    {
        public static int M => 1; public static int K => 16; public static int N => 17;
        public static bool TransA => false; public static bool TransB => true;
        public static float Alpha => 1f; public static float Beta => 1f;
        public static int CRows => 0; public static int CCols => 0;
        public static Activation Act => Activation.HardSwish; public static float P0 => 0f; public static float P1 => 0f;
    }

    // MobileNetV2's classifier: weights of 1 MiB and more take the loop that prefetches the next eight rows.
    private struct Classifier : IGemmLayer
    {
        public static int M => 1; public static int K => 1280; public static int N => 1000;
        public static bool TransA => false; public static bool TransB => true;
        public static float Alpha => 1f; public static float Beta => 1f;
        public static int CRows => 1; public static int CCols => 1000;
        public static Activation Act => Activation.None; public static float P0 => 0f; public static float P1 => 0f;
    }

    // Prefetching too, with a dot-product tail (k not a multiple of 8) and outputs past the last multiple of 8.
    private struct LargeRagged : IGemmLayer
    {
        public static int M => 1; public static int K => 263; public static int N => 1001;
        public static bool TransA => false; public static bool TransB => true;
        public static float Alpha => 0.5f; public static float Beta => 2f;
        public static int CRows => 1; public static int CCols => 1;
        public static Activation Act => Activation.LeakyRelu; public static float P0 => 0.1f; public static float P1 => 0f;
    }

    // Not a matrix-vector product: forwarded to the general path.
    private struct General : IGemmLayer
    {
        public static int M => 3; public static int K => 20; public static int N => 9;
        public static bool TransA => false; public static bool TransB => false;
        public static float Alpha => 1f; public static float Beta => 1f;
        public static int CRows => 3; public static int CCols => 9;
        public static Activation Act => Activation.HardSigmoid; public static float P0 => 0.2f; public static float P1 => 0.5f;
    }

    /// <summary><paramref name="abs"/>: the absolute tolerance (default 1e-5; the long dot products use 1e-5 per unit of
    /// sqrt(k), as the GEMM tile tests: the lanes reorder a sum of k products of values in [-1, 1]).</summary>
    private static void CheckLayer<T>(int seed, float abs = Check.Abs) where T : struct, IGemmLayer
    {
        var r = new Random(seed);
        var a = Check.Data(r, T.M * T.K);
        var b = Check.Data(r, T.K * T.N);
        var c = Check.Data(r, T.CRows * T.CCols);
        var expected = new float[T.M * T.N];
        Gemm.RunScalar(a, b, c, expected, T.M, T.K, T.N, T.TransA, T.TransB, T.Alpha, T.Beta, T.CRows, T.CCols, T.Act, T.P0, T.P1);
        Assert.Contains(expected, v => v != 0f);   // the data make the comparison meaningful

        var y = new float[expected.Length];
        Gemm.Run<T>(a, b, c, y);
        Check.Close(expected, y, typeof(T).Name + " Run<T>", abs: abs);
        if (T.M == 1 && T.TransB && !T.TransA)
            foreach (var isa in new[] { Isa.Scalar }.Concat(KernelPaths.IsSupported(Isa.Vector256) ? [Isa.Vector256] : Array.Empty<Isa>()))
            {
                Array.Clear(y);
                Gemm.RowTimesTransposed<T>(a, b, c, y, isa);
                Check.Close(expected, y, $"{typeof(T).Name} RowTimesTransposed {isa}", abs: abs);
            }
    }

    [Fact] public void DenseLayerMatchesReference() => CheckLayer<Mlp>(1);
    [Fact] public void RaggedLayerMatchesReference() => CheckLayer<Ragged>(2);
    [Fact] public void ShortLayerWithoutCMatchesReference() => CheckLayer<Short>(3);
    [Fact] public void GeneralShapeMatchesReference() => CheckLayer<General>(4);
    [Fact] public void ReducedLayerMatchesReference() => CheckLayer<Reduced>(5);
    [Fact] public void ReducedLayerWithoutCMatchesReference() => CheckLayer<ReducedNoC>(6);

    [Fact]
    public void LargeLayersPrefetchingTheirWeightsMatchReference()
    {
        // Both shapes are above the prefetch threshold (the loop with the prefetches is the one they run).
        Assert.True((long)Classifier.K * Classifier.N >= Gemm.MatVecPrefetchMinFloats);
        Assert.True((long)LargeRagged.K * LargeRagged.N >= Gemm.MatVecPrefetchMinFloats);
        Assert.True((long)Mlp.K * Mlp.N < Gemm.MatVecPrefetchMinFloats);
        CheckLayer<Classifier>(7, 1e-5f * MathF.Sqrt(Classifier.K));
        CheckLayer<LargeRagged>(8, 1e-5f * MathF.Sqrt(LargeRagged.K));
    }

    [Fact]
    public void WrongSpanLengthsThrowNamingTheArgument()
    {
        Assert.Equal("a", Assert.Throws<ArgumentException>(() => Gemm.Run<Mlp>(new float[63], new float[64 * 128], new float[128], new float[128])).ParamName);
        Assert.Equal("b", Assert.Throws<ArgumentException>(() => Gemm.Run<Mlp>(new float[64], new float[64 * 127], new float[128], new float[128])).ParamName);
        Assert.Equal("c", Assert.Throws<ArgumentException>(() => Gemm.Run<Mlp>(new float[64], new float[64 * 128], new float[127], new float[128])).ParamName);
        Assert.Equal("y", Assert.Throws<ArgumentException>(() => Gemm.Run<Mlp>(new float[64], new float[64 * 128], new float[128], new float[129])).ParamName);
    }
}
