using EdgeCompile.Kernels;

namespace EdgeCompile.Kernels.Tests.Support;

/// <summary>Seeded data, the paths to test, and comparisons with stated tolerances.</summary>
internal static class Check
{
    /// <summary>For paths that fuse multiply-adds or reorder sums over inputs in [-1, 1].</summary>
    public const float Rel = 1e-5f, Abs = 1e-5f;

    /// <summary>The non-scalar paths this machine can run.</summary>
    public static IEnumerable<Isa> FastPaths()
    {
        if (KernelPaths.IsSupported(Isa.Vector128)) yield return Isa.Vector128;
        if (KernelPaths.IsSupported(Isa.Vector256)) yield return Isa.Vector256;
    }

    /// <summary>
    /// The non-scalar paths of the float GEMM core (Gemm, MatMul and the GEMM-based convolutions): <see cref="FastPaths"/>
    /// plus <see cref="Isa.Vector512"/> (its 512-bit tiles) where AVX-512F is accelerated. Other kernels have no 512-bit
    /// code and are not given it.
    /// </summary>
    public static IEnumerable<Isa> GemmPaths()
    {
        foreach (var isa in FastPaths()) yield return isa;
        if (KernelPaths.IsSupported(Isa.Vector512)) yield return Isa.Vector512;
    }

    public static float[] Data(Random r, int n, float lo = -1f, float hi = 1f)
    {
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = lo + (float)r.NextDouble() * (hi - lo);
        return a;
    }

    public static void Close(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string what, float rel = Rel, float abs = Abs)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            float e = expected[i], a = actual[i];
            if (float.IsNaN(e) && float.IsNaN(a)) continue;
            if (e == a) continue;
            if (!(MathF.Abs(e - a) <= abs + rel * MathF.Abs(e)))
                Assert.Fail($"{what}: element {i}: expected {e:R}, got {a:R} (|diff| {MathF.Abs(e - a):R} > {abs} + {rel}·|expected|).");
        }
    }

    public static void Exact(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i]))
                Assert.Fail($"{what}: element {i}: expected {expected[i]:R}, got {actual[i]:R} (bit-exact).");
    }

    /// <summary>The in-order reference of <c>Gemm.MultiplyNN</c>: C = act(start + A·B) over m x n with row strides ldb/ldc,
    /// start = 0 (mode 0), C's own values (mode 1) or bias[row] (mode 2); elements between rows keep c0's values.</summary>
    public static float[] ExpectedNN(float[] a, float[] b, float[] c0, float[] bias, int m, int k, int n, int ldb, int ldc, int mode, Activation act, float p0, float p1)
    {
        var expected = (float[])c0.Clone();
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                float s = mode == 1 ? c0[i * ldc + j] : mode == 2 ? bias[i] : 0f;
                for (int p = 0; p < k; p++) s += a[i * k + p] * b[p * ldb + j];
                expected[i * ldc + j] = ActivationKernel.Apply(act, s, p0, p1);
            }
        return expected;
    }

    /// <summary>Draws A, B, C and the bias from <paramref name="r"/> (B and C with row strides ldb/ldc) and checks
    /// <c>Gemm.MultiplyNN</c> on every GEMM path against <see cref="ExpectedNN"/>; elements between rows of C must keep
    /// their values.</summary>
    public static void MultiplyNNMatchesReference(Random r, int m, int k, int n, int mode, Activation act, float p0, float p1, int ldb, int ldc)
    {
        var a = Data(r, m * k);
        var b = Data(r, Math.Max(0, (k - 1) * ldb + n));
        var c0 = Data(r, (m - 1) * ldc + n);
        var bias = mode == 2 ? Data(r, m) : [];
        var expected = ExpectedNN(a, b, c0, bias, m, k, n, ldb, ldc, mode, act, p0, p1);
        foreach (var isa in GemmPaths())
        {
            var y = (float[])c0.Clone();
            Gemm.MultiplyNN(a, k, 1, b, ldb, y, ldc, m, k, n, accumulate: mode == 1, bias, act, p0, p1, isa);
            Close(expected, y, $"MultiplyNN m={m} k={k} n={n} mode={mode} {act} ldb={ldb} ldc={ldc} {isa}", abs: 1e-5f * MathF.Sqrt(Math.Max(1, k)));
        }
    }

    public static Activation RandomActivation(Random r, out float p0, out float p1)
        => ActivationParams((Activation)r.Next(0, 8), out p0, out p1);

    /// <summary>The test parameters of an activation (Clip bounds, LeakyRelu alpha, HardSigmoid alpha/beta; 0 otherwise).</summary>
    public static Activation ActivationParams(Activation act, out float p0, out float p1)
    {
        (p0, p1) = act switch
        {
            Activation.Clip => (-0.3f, 0.4f),
            Activation.LeakyRelu => (0.1f, 0f),
            Activation.HardSigmoid => (0.2f, 0.5f),
            _ => (0f, 0f),
        };
        return act;
    }
}
